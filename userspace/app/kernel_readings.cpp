#include "app/kernel_readings.h"

#include <cstring>

namespace earshot::app {

namespace {

model::Counters to_model(const earshot_counters& c) {
  model::Counters m;
  m.packets = c.packets;
  m.bytes = c.bytes;
  m.payload_bytes = c.payload_bytes;
  for (int w = 0; w < kWindowCount; ++w) m.window_bytes[w] = c.window_bytes[w];
  m.ack_sized_packets = c.ack_sized_packets;
  m.ack_sized_payload = c.ack_sized_payload;
  m.ingress_packets = c.ingress_packets;
  m.ingress_payload = c.ingress_payload;
  return m;
}

model::FlowId to_model(const earshot_flow_key& key) {
  model::FlowId id;
  id.cookie = key.cookie;
  id.family = key.family;
  id.protocol = key.protocol;
  id.dport = key.dport;
  std::memcpy(id.daddr.data(), key.daddr, sizeof key.daddr);
  return id;
}

}  // namespace

model::EgressReading read_egress(const kernel::MapReader& maps) {
  kernel::TotalsReading totals = maps.totals();
  std::vector<kernel::FlowReading> flows = maps.flows();
  std::vector<kernel::SlotReading> slots = maps.sock_slots();
  model::EgressReading out;
  out.bytes_seen = kernel::bytes_seen(totals, slots);
  out.no_socket_bytes = totals.slots[EARSHOT_TOTAL_NO_SOCKET].bytes;
  out.unmatched_ingress_packets = totals.slots[EARSHOT_TOTAL_INGRESS_UNMATCHED].ingress_packets;
  out.unmatched_ingress_payload = totals.slots[EARSHOT_TOTAL_INGRESS_UNMATCHED].ingress_payload;
  out.flows.reserve(flows.size());
  for (const auto& f : flows) out.flows.emplace_back(to_model(f.key), to_model(f.counters));
  out.slots.reserve(slots.size());
  for (const auto& s : slots) out.slots.push_back({s.slot, to_model(s.key), to_model(s.counters)});
  return out;
}

std::vector<model::HandleCount> read_handles(const kernel::MapReader& maps) {
  std::vector<model::HandleCount> out;
  for (const auto& [key, h] : maps.capture_handles())
    if (auto id = handle_of(key.tgid, key.tier, key.handle))
      out.push_back({*id, h.frames, h.bytes});
  return out;
}

model::LostCounts read_lost(const kernel::MapReader& maps) {
  auto lost = maps.lost();
  model::LostCounts out{};
  for (int r = 0; r < kLostReasonCount; ++r) out[r] = lost[r];
  return out;
}

std::optional<model::HandleId> handle_of(std::uint32_t tgid, std::uint32_t tier,
                                         std::uint64_t handle) {
  auto t = tier_from_abi(tier);
  if (!t) return std::nullopt;
  return model::HandleId{tgid, *t, handle};
}

earshot_handle_key handle_key(const model::HandleId& id) {
  return {id.tgid, static_cast<std::uint32_t>(id.tier), id.handle};
}

}  // namespace earshot::app
