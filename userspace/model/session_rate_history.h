#pragma once
// Bytes each process sent to each destination in the last few minutes, in
// one-second buckets: the baseline a capture session is compared with.
// Bounded: buckets older than the window are dropped, and past max_pairs the
// pair updated longest ago is forgotten.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "model/session_events.h"

namespace earshot::model {

using SenderDestination = std::pair<ProcessKey, std::string>;

class SessionRateHistory {
 public:
  SessionRateHistory(MonotonicNs window_ns, std::size_t max_pairs);

  // Bytes that left by ts (a harvest time; they go in the second before it).
  void add(const SenderDestination& pair, MonotonicNs ts, std::uint64_t bytes);

  // Each pair's rate in bytes/s over [start - window, start), divided by the
  // part of the window that was observed (history began at observed_since).
  // Empty when less than a second was observed. Pairs not listed sent nothing.
  std::map<SenderDestination, double> rates_before(MonotonicNs start,
                                                   MonotonicNs observed_since) const;

  // Drops buckets that no later session's window can reach.
  void prune(MonotonicNs now);

  std::size_t pairs() const { return pairs_.size(); }

 private:
  struct Bucket {
    std::uint64_t second;  // covers (second, second + 1] in seconds
    std::uint64_t bytes;
  };
  struct Series {
    std::deque<Bucket> buckets;  // ascending seconds
    MonotonicNs updated = 0;
  };

  MonotonicNs window_ns_;
  std::size_t max_pairs_;
  std::map<SenderDestination, Series> pairs_;
};

}  // namespace earshot::model
