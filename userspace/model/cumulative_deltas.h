#pragma once
// The growth of counters the kernel only ever adds to, between two readings.
// One template for every map keyed by an identity whose entries the kernel
// may evict and create again (flows, gateway device pairs).
#include <map>
#include <utility>
#include <vector>

namespace earshot::model {

// Remembers the last cumulative reading of each identity and yields the
// growth. `Counters` needs `delta(now, before)` (a field that went backwards
// counts from zero) and the fields `packets`, `bytes` and `ingress_packets`
// (sent or received: either is growth).
template <typename Id, typename Counters>
class CumulativeDeltas {
 public:
  // `cumulative` is every entry present now; entries no longer present are
  // forgotten, so one that comes back counts from zero.
  std::vector<std::pair<Id, Counters>> update(
      const std::vector<std::pair<Id, Counters>>& cumulative) {
    std::vector<std::pair<Id, Counters>> growth;
    std::map<Id, Counters> now;
    for (const auto& [id, counters] : cumulative) {
      auto it = last_.find(id);
      Counters d = it == last_.end() ? counters : delta(counters, it->second);
      if (d.packets || d.bytes || d.ingress_packets) growth.emplace_back(id, d);
      now[id] = counters;
    }
    last_ = std::move(now);
    return growth;
  }

  // An entry taken out of the kernel map with `final_reading`, its last
  // counts: the growth since the last reading. It is then forgotten, so
  // one made again counts from zero.
  Counters retire(const Id& id, const Counters& final_reading) {
    auto it = last_.find(id);
    if (it == last_.end()) return final_reading;
    Counters d = delta(final_reading, it->second);
    last_.erase(it);
    return d;
  }

 private:
  std::map<Id, Counters> last_;
};

}  // namespace earshot::model
