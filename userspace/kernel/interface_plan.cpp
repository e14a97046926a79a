#include "kernel/interface_plan.h"

#include <net/if_arp.h>

#include <algorithm>
#include <iterator>

namespace earshot::kernel {

bool has_ethernet_header(unsigned short arphrd_type) {
  return arphrd_type == ARPHRD_ETHER || arphrd_type == ARPHRD_LOOPBACK;
}

InterfaceChanges plan_interface_changes(const std::vector<NetInterface>& present,
                                        const std::set<int>& attached,
                                        const std::set<int>& failed) {
  InterfaceChanges changes;
  std::set<int> present_indexes;
  for (const auto& interface : present) {
    present_indexes.insert(interface.index);
    if (!attached.contains(interface.index) && !failed.contains(interface.index))
      changes.attach.push_back(interface);
  }
  std::ranges::copy_if(attached, std::back_inserter(changes.detach),
                       [&](int index) { return !present_indexes.contains(index); });
  std::ranges::copy_if(failed, std::back_inserter(changes.forget),
                       [&](int index) { return !present_indexes.contains(index); });
  return changes;
}

std::vector<LanInterfaceChange> plan_lan_changes(
    const std::vector<std::string>& names, const std::map<std::string, std::uint32_t>& in_use,
    const std::map<std::string, std::uint32_t>& present) {
  auto index_in = [](const std::map<std::string, std::uint32_t>& indexes, const std::string& name) {
    auto it = indexes.find(name);
    return it == indexes.end() ? 0u : it->second;
  };
  std::vector<LanInterfaceChange> changes;
  for (const auto& name : names) {
    std::uint32_t before = index_in(in_use, name);
    std::uint32_t now = index_in(present, name);
    if (before != now) changes.push_back({name, before, now});
  }
  return changes;
}

}  // namespace earshot::kernel
