#include "kernel/map_reader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace earshot::kernel {

namespace {

void add(earshot_counters& into, const earshot_counters& from) {
  into.packets += from.packets;
  into.bytes += from.bytes;
  into.payload_bytes += from.payload_bytes;
  for (int w = 0; w < EARSHOT_WINDOW_COUNT; ++w) into.window_bytes[w] += from.window_bytes[w];
  into.ack_sized_packets += from.ack_sized_packets;
  into.ack_sized_payload += from.ack_sized_payload;
  into.ingress_packets += from.ingress_packets;
  into.ingress_payload += from.ingress_payload;
}

void add(earshot_device_counters& into, const earshot_device_counters& from) {
  into.packets += from.packets;
  into.bytes += from.bytes;
  into.payload_bytes += from.payload_bytes;
  into.ack_sized_packets += from.ack_sized_packets;
  into.ack_sized_payload += from.ack_sized_payload;
  into.ingress_packets += from.ingress_packets;
  into.ingress_payload += from.ingress_payload;
}

// A slot keeps its hot counters apart from the window bytes (two cache lines).
earshot_counters counters_of(const earshot_sock_slot& slot) {
  earshot_counters c{};
  c.packets = slot.packets;
  c.bytes = slot.bytes;
  c.payload_bytes = slot.payload_bytes;
  for (int w = 0; w < EARSHOT_WINDOW_COUNT; ++w) c.window_bytes[w] = slot.window_bytes[w];
  // 32-bit in the slot: the model takes their growth mod 2^32.
  c.ack_sized_packets = slot.ack_sized_packets;
  c.ack_sized_payload = slot.ack_sized_payload;
  c.ingress_packets = slot.ingress_packets;
  c.ingress_payload = slot.ingress_payload;
  return c;
}

}  // namespace

MapReader::MapReader(MapFds fds) : fds_(fds), cpus_(libbpf_num_possible_cpus()) {
  if (cpus_ <= 0) throw Error(fmt::format("cannot count CPUs: {}", std::strerror(-cpus_)));
}

std::vector<FlowReading> MapReader::flows() const {
  std::vector<FlowReading> out;
  if (fds_.flows < 0) return out;
  std::vector<earshot_flow_value> per_cpu(cpus_);
  earshot_flow_key key{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(fds_.flows, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    if (bpf_map_lookup_elem(fds_.flows, &key, per_cpu.data()) != 0) continue;  // evicted meanwhile
    FlowReading reading{key, {}};
    for (const auto& v : per_cpu) add(reading.counters, v.counters);
    out.push_back(reading);
  }
  return out;
}

std::vector<SlotReading> MapReader::sock_slots() const {
  std::vector<SlotReading> out;
  if (fds_.sock_slots < 0) return out;
  // In chunks: the array is EARSHOT_SOCK_SLOTS entries per CPU, most of them
  // unused; an entry's index is already cpu * EARSHOT_SOCK_SLOTS + slot.
  constexpr std::uint32_t kChunk = 1024;
  std::vector<std::uint32_t> keys(kChunk);
  std::vector<earshot_sock_slot> values(kChunk);
  std::uint32_t batch = 0;
  bool first = true;
  for (;;) {
    std::uint32_t count = kChunk;
    int err = bpf_map_lookup_batch(fds_.sock_slots, first ? nullptr : &batch, &batch, keys.data(),
                                   values.data(), &count, nullptr);
    first = false;
    if (err != 0 && errno != ENOENT)
      throw Error(fmt::format("cannot read sock_slots: {}", std::strerror(errno)));
    for (std::uint32_t i = 0; i < count; ++i)
      if (values[i].cookie != 0)
        out.push_back({keys[i], slot_flow_key(values[i]), counters_of(values[i])});
    if (err != 0) break;  // ENOENT: that was the last chunk
  }
  return out;
}

std::uint64_t bytes_seen(const TotalsReading& totals, const std::vector<SlotReading>& slots) {
  std::uint64_t bytes =
      totals.slots[EARSHOT_TOTAL_ALL].bytes + totals.slots[EARSHOT_TOTAL_SLOT_RETIRED].bytes;
  for (const auto& s : slots) bytes += s.counters.bytes;
  return bytes;
}

TotalsReading MapReader::totals() const {
  TotalsReading out;
  if (fds_.totals < 0) return out;
  std::vector<earshot_counters> per_cpu(cpus_);
  for (std::uint32_t slot = 0; slot < EARSHOT_TOTAL_SLOTS; ++slot) {
    if (bpf_map_lookup_elem(fds_.totals, &slot, per_cpu.data()) != 0)
      throw Error(fmt::format("cannot read totals: {}", std::strerror(errno)));
    for (const auto& v : per_cpu) add(out.slots[slot], v);
  }
  return out;
}

std::optional<OwnerReading> MapReader::owner(std::uint64_t cookie) const {
  earshot_owner owner{};
  if (fds_.sock_owner < 0 || bpf_map_lookup_elem(fds_.sock_owner, &cookie, &owner) != 0)
    return std::nullopt;
  return OwnerReading{owner.tgid, owner.start_ns};
}

std::vector<DeviceFlowReading> MapReader::device_flows() const {
  std::vector<DeviceFlowReading> out;
  if (fds_.device_flows < 0) return out;
  std::vector<earshot_device_counters> per_cpu(cpus_);
  earshot_device_flow_key key{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(fds_.device_flows, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    if (bpf_map_lookup_elem(fds_.device_flows, &key, per_cpu.data()) != 0) continue;
    DeviceFlowReading reading{key, {}};
    for (const auto& v : per_cpu) add(reading.counters, v);
    out.push_back(reading);
  }
  return out;
}

std::optional<earshot_device_counters> MapReader::take_device_flow(
    const earshot_device_flow_key& key) const {
  if (fds_.device_flows < 0) return std::nullopt;
  std::vector<earshot_device_counters> per_cpu(cpus_);
  earshot_device_flow_key copy = key;
  if (bpf_map_lookup_and_delete_elem(fds_.device_flows, &copy, per_cpu.data()) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw Error(fmt::format("cannot take a pair out of device_flows: {}", errno_text(errno)));
  }
  earshot_device_counters out{};
  for (const auto& v : per_cpu) add(out, v);
  return out;
}

earshot_device_counters MapReader::gateway_total(std::uint32_t slot) const {
  earshot_device_counters out{};
  if (fds_.gateway_totals < 0) return out;
  std::vector<earshot_device_counters> per_cpu(cpus_);
  if (bpf_map_lookup_elem(fds_.gateway_totals, &slot, per_cpu.data()) != 0) return out;
  for (const auto& v : per_cpu) add(out, v);
  return out;
}

earshot_device_counters MapReader::device_flows_refused() const {
  return gateway_total(EARSHOT_GATEWAY_FLOW_FULL);
}

earshot_device_counters MapReader::device_ingress_unmatched() const {
  return gateway_total(EARSHOT_GATEWAY_INGRESS_UNMATCHED);
}

std::array<std::uint64_t, EARSHOT_LOST_REASONS> MapReader::lost() const {
  std::array<std::uint64_t, EARSHOT_LOST_REASONS> out{};
  if (fds_.lost < 0) return out;
  std::vector<std::uint64_t> per_cpu(cpus_);
  for (std::uint32_t reason = 0; reason < EARSHOT_LOST_REASONS; ++reason) {
    if (bpf_map_lookup_elem(fds_.lost, &reason, per_cpu.data()) != 0) continue;
    for (auto v : per_cpu) out[reason] += v;
  }
  return out;
}

std::vector<std::pair<earshot_handle_key, earshot_handle>> MapReader::capture_handles() const {
  std::vector<std::pair<earshot_handle_key, earshot_handle>> out;
  if (fds_.capture_handles < 0) return out;
  earshot_handle_key key{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(fds_.capture_handles, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    earshot_handle value{};
    if (bpf_map_lookup_elem(fds_.capture_handles, &key, &value) == 0) out.emplace_back(key, value);
  }
  return out;
}

std::optional<earshot_handle> MapReader::capture_handle(const earshot_handle_key& key) const {
  earshot_handle value{};
  if (fds_.capture_handles < 0 || bpf_map_lookup_elem(fds_.capture_handles, &key, &value) != 0)
    return std::nullopt;
  return value;
}

void MapReader::forget_handle(const earshot_handle_key& key) const {
  if (fds_.capture_handles >= 0) bpf_map_delete_elem(fds_.capture_handles, &key);
}

}  // namespace earshot::kernel
