#include "fetch_schedule.h"

#include <algorithm>
#include <cmath>

#include "wire.h"

namespace earshot::speaker {

using std::chrono::microseconds;

std::vector<SegmentFetch> segment_plan(std::chrono::milliseconds length, double bytes_per_second,
                                       std::mt19937& random) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  std::vector<SegmentFetch> plan;
  for (microseconds at{0}; at < length;) {
    const double period = uniform(kSegmentSeconds[0], kSegmentSeconds[1]);
    SegmentFetch fetch;
    fetch.at = at;
    fetch.period = microseconds(std::lround(period * 1e6));
    fetch.bytes = static_cast<std::uint64_t>(std::llround(bytes_per_second * period));
    fetch.burst_rate = static_cast<std::uint32_t>(
        std::lround(bytes_per_second * uniform(kBurstTimes[0], kBurstTimes[1])));
    fetch.request_size =
        std::uniform_int_distribution<std::uint32_t>(kRequestBytes[0], kRequestBytes[1])(random);
    plan.push_back(fetch);
    at += fetch.period;
  }
  return plan;
}

std::vector<MusicChunk> music_chunks(std::uint32_t ms, std::uint32_t rate, std::mt19937& random) {
  const std::uint64_t total = stream_bytes(ms, rate);
  const microseconds end = std::chrono::milliseconds(ms);
  std::vector<MusicChunk> chunks;
  std::uint64_t sent = 0;
  microseconds at{0};
  for (;;) {
    at += microseconds(std::lround(std::uniform_real_distribution<double>(
                                       kMusicChunkSeconds[0], kMusicChunkSeconds[1])(random) *
                                   1e6));
    if (at >= end) break;
    // What the rate owes by now, less what went before.
    const std::uint64_t owed = std::min<std::uint64_t>(
        total, static_cast<std::uint64_t>(static_cast<double>(rate) *
                                          std::chrono::duration<double>(at).count()));
    if (owed > sent) chunks.push_back({at, owed - sent});
    sent = std::max(sent, owed);
  }
  if (total > sent) chunks.push_back({end, total - sent});
  return chunks;
}

}  // namespace earshot::speaker
