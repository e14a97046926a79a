#include "daemon_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/error.h"

namespace earshot::test {

UniqueFd daemon_map(pid_t pid, const std::string& name) {
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
    std::ifstream fdinfo(entry.path());
    for (std::string line; std::getline(fdinfo, line);) {
      if (line.rfind("map_id:", 0) != 0) continue;
      UniqueFd map(bpf_map_get_fd_by_id(static_cast<__u32>(std::stoul(line.substr(7)))));
      bpf_map_info info{};
      __u32 size = sizeof info;
      if (map && bpf_map_get_info_by_fd(map.get(), &info, &size) == 0 && info.name == name)
        return map;
    }
  }
  throw Error("the daemon holds no map named " + name);
}

earshot_sock_slot read_slot(const UniqueFd& slots, std::uint32_t key) {
  earshot_sock_slot slot{};
  if (bpf_map_lookup_elem(slots.get(), &key, &slot) != 0)
    throw Error(std::string("sock_slots lookup: ") + std::strerror(errno));
  return slot;
}

earshot_counters read_total(pid_t daemon, std::uint32_t slot, int cpu) {
  UniqueFd totals = daemon_map(daemon, "totals");
  std::vector<earshot_counters> per_cpu(static_cast<std::size_t>(libbpf_num_possible_cpus()));
  if (bpf_map_lookup_elem(totals.get(), &slot, per_cpu.data()) != 0)
    throw Error(std::string("totals lookup: ") + std::strerror(errno));
  return per_cpu.at(static_cast<std::size_t>(cpu));
}

std::uint64_t counted_to_ipv4(pid_t daemon, const std::string& address) {
  std::uint32_t wanted = 0;
  if (::inet_pton(AF_INET, address.c_str(), &wanted) != 1) throw Error("not IPv4: " + address);
  auto to_wanted = [&](const earshot_flow_key& key) {
    std::uint32_t daddr = 0;
    std::memcpy(&daddr, key.daddr, sizeof daddr);
    return key.family == AF_INET && daddr == wanted;
  };
  std::uint64_t bytes = 0;
  const int cpus = libbpf_num_possible_cpus();
  UniqueFd flows = daemon_map(daemon, "flows");
  std::vector<earshot_flow_value> values(static_cast<std::size_t>(cpus));
  earshot_flow_key key{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(flows.get(), first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    if (!to_wanted(key) || bpf_map_lookup_elem(flows.get(), &key, values.data()) != 0) continue;
    for (const auto& v : values) bytes += v.counters.bytes;
  }
  UniqueFd slots = daemon_map(daemon, "sock_slots");
  bpf_map_info info{};
  __u32 size = sizeof info;
  if (bpf_map_get_info_by_fd(slots.get(), &info, &size) != 0)
    throw Error(std::string("sock_slots info: ") + std::strerror(errno));
  for (std::uint32_t index = 0; index < info.max_entries; ++index) {
    earshot_sock_slot slot = read_slot(slots, index);
    if (slot.cookie && to_wanted(slot_flow_key(slot))) bytes += slot.bytes;
  }
  return bytes;
}

}  // namespace earshot::test
