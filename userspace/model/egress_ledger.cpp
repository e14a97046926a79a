#include "model/egress_ledger.h"

namespace earshot::model {

Counters& Counters::operator+=(const Counters& o) {
  packets += o.packets;
  bytes += o.bytes;
  payload_bytes += o.payload_bytes;
  for (int w = 0; w < kWindowCount; ++w) window_bytes[w] += o.window_bytes[w];
  return *this;
}

Counters delta(const Counters& now, const Counters& before) {
  auto grow = [](std::uint64_t a, std::uint64_t b) { return a >= b ? a - b : a; };
  Counters d;
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
    if (d.packets || d.bytes) summed[r.id] += d;
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
