#pragma once
// The frames of variable-bit-rate speech, as Opus with discontinuous
// transmission sends them: talk spurts of 0.3-2.5 s, a frame every frame
// length, whose sizes follow a slow random walk of loudness (0.4-1.8x the
// mean), alternate with pauses of 0.15-1.2 s that send only a 3-8 byte
// comfort-noise frame every 400 ms. Sizes are scaled so the whole schedule,
// pauses counted, averages the asked rate.
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace earshot::speaker {

struct VoiceFrame {
  std::chrono::microseconds at{0};  // from the schedule's start
  std::uint32_t bytes = 0;
  bool speech = false;       // false: comfort noise in a pause
  bool spurt_start = false;  // a talk spurt's first frame (the RTP marker)
};

struct VoiceShape {
  std::chrono::milliseconds length{0};
  std::chrono::milliseconds frame{20};  // 20, 40 or 60
  double bytes_per_second = 0;
};

inline constexpr double kSpurtSeconds[] = {0.3, 2.5};
inline constexpr double kPauseSeconds[] = {0.15, 1.2};
inline constexpr double kLoudness[] = {0.4, 1.8};
inline constexpr std::uint32_t kComfortNoiseBytes[] = {3, 8};
inline constexpr std::chrono::milliseconds kComfortNoiseEvery{400};

std::vector<VoiceFrame> voice_schedule(const VoiceShape& shape, std::mt19937& random);

}  // namespace earshot::speaker
