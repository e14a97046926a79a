#include "model/egress_ledger.h"

namespace earshot::model {

Counters& Counters::operator+=(const Counters& o) {
  packets += o.packets;
  bytes += o.bytes;
  payload_bytes += o.payload_bytes;
  for (int w = 0; w < kWindowCount; ++w) window_bytes[w] += o.window_bytes[w];
  ack_sized_packets += o.ack_sized_packets;
  ack_sized_payload += o.ack_sized_payload;
  ingress_packets += o.ingress_packets;
  ingress_payload += o.ingress_payload;
  return *this;
}

Counters delta(const Counters& now, const Counters& before) {
  auto grow = [](std::uint64_t a, std::uint64_t b) { return a >= b ? a - b : a; };
  auto grow32 = [&](std::uint64_t a, std::uint64_t b) {
    constexpr std::uint64_t kWrap = 1ULL << 32;
    return a < b && b < kWrap ? a + kWrap - b : grow(a, b);
  };
  Counters d;
  d.ack_sized_packets = grow32(now.ack_sized_packets, before.ack_sized_packets);
  d.ack_sized_payload = grow32(now.ack_sized_payload, before.ack_sized_payload);
  d.ingress_packets = grow(now.ingress_packets, before.ingress_packets);
  d.ingress_payload = grow(now.ingress_payload, before.ingress_payload);
  d.packets = grow(now.packets, before.packets);
  d.bytes = grow(now.bytes, before.bytes);
  d.payload_bytes = grow(now.payload_bytes, before.payload_bytes);
  for (int w = 0; w < kWindowCount; ++w)
    d.window_bytes[w] = grow(now.window_bytes[w], before.window_bytes[w]);
  return d;
}

std::vector<std::pair<FlowId, Counters>> SlotDeltas::update(
    const std::vector<SlotReading>& readings) {
  std::map<FlowId, Counters> summed;
  std::map<std::uint32_t, std::pair<FlowId, Counters>> now;
  for (const auto& r : readings) {
    auto it = last_.find(r.slot);
    bool same = it != last_.end() && it->second.first == r.id;
    Counters d = same ? delta(r.counters, it->second.second) : r.counters;
    if (d.packets || d.bytes || d.ingress_packets) summed[r.id] += d;
    now[r.slot] = {r.id, r.counters};
  }
  last_ = std::move(now);
  return {summed.begin(), summed.end()};
}

EgressLedger::EgressLedger(std::size_t max_processes, std::size_t max_destinations_per_process)
    : labels_(max_processes, max_destinations_per_process, {kOtherLabel, ""}) {}

void EgressLedger::add(const std::string& process, const std::string& unit,
                       const std::string& destination, const Counters& growth) {
  auto [who, where] = labels_.place({process, unit}, destination);
  series_[SeriesKey{who.first, who.second, where}] += growth;
}

}  // namespace earshot::model
