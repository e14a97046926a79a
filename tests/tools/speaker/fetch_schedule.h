#pragma once
// What a player fetches and how a stream arrives: a video player's
// segments (one every 2-4 s, each the asked rate times its period, sent
// back as a burst at 3-6x the rate), and a music stream's chunks (every
// 100-250 ms, together exactly the asked rate for the asked time).
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace earshot::speaker {

struct SegmentFetch {
  std::chrono::microseconds at{0};  // the request, from the action's start
  std::chrono::microseconds period{0};
  std::uint64_t bytes = 0;
  std::uint32_t burst_rate = 0;    // bytes a second the peer sends it at
  std::uint32_t request_size = 0;  // on the wire, as an HTTP/2 or HTTP/3 GET
};

inline constexpr double kSegmentSeconds[] = {2.0, 4.0};
inline constexpr double kBurstTimes[] = {3.0, 6.0};  // of the average rate
inline constexpr std::uint32_t kRequestBytes[] = {60, 200};

// Requests from 0 until `length`.
std::vector<SegmentFetch> segment_plan(std::chrono::milliseconds length, double bytes_per_second,
                                       std::mt19937& random);

struct MusicChunk {
  std::chrono::microseconds at{0};  // from the stream's start
  std::uint64_t bytes = 0;
};

inline constexpr double kMusicChunkSeconds[] = {0.1, 0.25};

// Chunks whose bytes add up to stream_bytes(ms, rate) (wire.h), each what
// the rate owes since the one before; the last at or before `ms`.
std::vector<MusicChunk> music_chunks(std::uint32_t ms, std::uint32_t rate, std::mt19937& random);

}  // namespace earshot::speaker
