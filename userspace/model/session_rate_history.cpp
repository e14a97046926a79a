#include "model/session_rate_history.h"

#include <algorithm>

#include "common/error.h"

namespace earshot::model {
namespace {

constexpr MonotonicNs kNanosPerSecond = 1'000'000'000;

}  // namespace

SessionRateHistory::SessionRateHistory(MonotonicNs window_ns, std::size_t max_pairs)
    : window_ns_(window_ns), max_pairs_(max_pairs) {
  if (max_pairs_ == 0) throw Error("session rate history: max_pairs must be at least 1");
}

void SessionRateHistory::add(const SenderDestination& pair, MonotonicNs ts, std::uint64_t bytes) {
  if (bytes == 0) return;
  auto it = pairs_.find(pair);
  if (it == pairs_.end()) {
    if (pairs_.size() >= max_pairs_) {
      auto stalest = std::min_element(
          pairs_.begin(), pairs_.end(),
          [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
      pairs_.erase(stalest);
    }
    it = pairs_.emplace(pair, Series{}).first;
  }
  std::uint64_t second = ts == 0 ? 0 : (ts - 1) / kNanosPerSecond;
  auto& buckets = it->second.buckets;
  // Harvests arrive in order, so the bucket is the last one or a new one; a
  // late sample for an older second goes to the newest bucket (its total is
  // what the baseline needs).
  if (!buckets.empty() && buckets.back().second >= second) {
    buckets.back().bytes += bytes;
  } else {
    buckets.push_back({second, bytes});
  }
  it->second.updated = std::max(it->second.updated, ts);
  std::uint64_t window_seconds = window_ns_ / kNanosPerSecond + 2;
  while (buckets.size() > window_seconds) buckets.pop_front();
}

std::map<SenderDestination, double> SessionRateHistory::rates_before(
    MonotonicNs start, MonotonicNs observed_since) const {
  std::map<SenderDestination, double> rates;
  MonotonicNs from = start > window_ns_ ? start - window_ns_ : 0;
  from = std::max(from, observed_since);
  if (start <= from || start - from < kNanosPerSecond) return rates;
  double seconds = static_cast<double>(start - from) / kNanosPerSecond;
  for (const auto& [pair, series] : pairs_) {
    std::uint64_t bytes = 0;
    for (const auto& bucket : series.buckets) {
      // The bucket's bytes left in (second, second + 1]: count it when that
      // interval lies within [from, start].
      MonotonicNs bucket_start = bucket.second * kNanosPerSecond;
      MonotonicNs bucket_end = bucket_start + kNanosPerSecond;
      if (bucket_start + 1 >= from && bucket_end <= start) bytes += bucket.bytes;
    }
    if (bytes > 0) rates.emplace(pair, static_cast<double>(bytes) / seconds);
  }
  return rates;
}

void SessionRateHistory::prune(MonotonicNs now) {
  MonotonicNs horizon = now > window_ns_ + kNanosPerSecond ? now - window_ns_ - kNanosPerSecond : 0;
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    auto& buckets = it->second.buckets;
    while (!buckets.empty() && (buckets.front().second + 1) * kNanosPerSecond < horizon) {
      buckets.pop_front();
    }
    it = buckets.empty() ? pairs_.erase(it) : std::next(it);
  }
}

}  // namespace earshot::model
