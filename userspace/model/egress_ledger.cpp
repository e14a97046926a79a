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

std::vector<std::pair<FlowId, Counters>> FlowDeltas::update(
    const std::vector<std::pair<FlowId, Counters>>& cumulative) {
  std::vector<std::pair<FlowId, Counters>> growth;
  std::map<FlowId, Counters> now;
  for (const auto& [id, counters] : cumulative) {
    auto it = last_.find(id);
    Counters d = it == last_.end() ? counters : delta(counters, it->second);
    if (d.packets || d.bytes) growth.emplace_back(id, d);
    now[id] = counters;
  }
  last_ = std::move(now);
  return growth;
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
    : max_processes_(max_processes), max_destinations_(max_destinations_per_process) {}

void EgressLedger::add(const std::string& process, const std::string& unit,
                       const std::string& destination, const Counters& growth) {
  std::pair<std::string, std::string> who{process, unit};
  auto known = destinations_per_process_.find(who);
  if (known == destinations_per_process_.end()) {
    if (destinations_per_process_.size() >= max_processes_) {
      who = {kOtherLabel, ""};
    }
    known = destinations_per_process_.try_emplace(who, 0).first;
  }
  SeriesKey key{who.first, who.second, destination};
  auto series = series_.find(key);
  if (series == series_.end()) {
    if (known->second >= max_destinations_) {
      key.destination = kOtherLabel;
      series = series_.find(key);
    }
    if (series == series_.end()) {
      series = series_.emplace(key, Counters{}).first;
      ++known->second;
    }
  }
  series->second += growth;
}

}  // namespace earshot::model
