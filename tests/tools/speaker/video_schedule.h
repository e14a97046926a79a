#pragma once
// The frames of a camera streaming upstream: 25 or 30 a second, a key frame
// every 1-2 s of 5-10x a delta frame, delta frames within 30% of each other;
// sizes scaled so the schedule averages the asked rate.
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace earshot::speaker {

struct VideoFrame {
  std::chrono::microseconds at{0};  // from the schedule's start
  std::uint32_t bytes = 0;
  bool key = false;
};

inline constexpr int kFrameRates[] = {25, 30};
inline constexpr double kKeyFrameSeconds[] = {1.0, 2.0};
inline constexpr double kKeyFrameTimes[] = {5.0, 10.0};  // of a delta frame

std::vector<VideoFrame> video_schedule(std::chrono::milliseconds length, double bytes_per_second,
                                       std::mt19937& random);

}  // namespace earshot::speaker
