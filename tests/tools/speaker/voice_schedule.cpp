#include "voice_schedule.h"

#include <algorithm>
#include <cmath>

namespace earshot::speaker {

using std::chrono::microseconds;

std::vector<VoiceFrame> voice_schedule(const VoiceShape& shape, std::mt19937& random) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  const microseconds length = shape.length;
  const microseconds frame = shape.frame;
  const double frame_seconds = std::chrono::duration<double>(frame).count();
  // A step of the loudness walk: about 0.35 in a second, whatever the frame length.
  const double step = 0.05 * std::sqrt(frame_seconds / 0.02);
  std::vector<VoiceFrame> frames;
  std::vector<double> loudness_of;  // of each speech frame, in order
  std::uint64_t comfort_noise_bytes = 0;
  microseconds t{0};
  for (bool speaking = true; t < length; speaking = !speaking) {
    if (speaking) {
      auto count = std::max<long>(
          1, std::lround(uniform(kSpurtSeconds[0], kSpurtSeconds[1]) / frame_seconds));
      double loudness = uniform(0.6, 1.4);
      for (long i = 0; i < count && t < length; ++i, t += frame) {
        frames.push_back({t, 0, true, i == 0});
        // Each frame also varies a little about the walk, as a codec's do.
        loudness_of.push_back(std::clamp(loudness * uniform(0.9, 1.1), kLoudness[0], kLoudness[1]));
        loudness += std::normal_distribution<double>(0, step)(random);
        // Reflected at the bounds, so the walk does not stick to them.
        if (loudness < kLoudness[0]) loudness = 2 * kLoudness[0] - loudness;
        if (loudness > kLoudness[1]) loudness = 2 * kLoudness[1] - loudness;
      }
    } else {
      auto count = std::max<long>(
          1, std::lround(uniform(kPauseSeconds[0], kPauseSeconds[1]) / frame_seconds));
      const microseconds end = t + count * frame;
      for (; t < end && t < length; t += kComfortNoiseEvery) {
        auto bytes = std::uniform_int_distribution<std::uint32_t>(kComfortNoiseBytes[0],
                                                                  kComfortNoiseBytes[1])(random);
        frames.push_back({t, bytes, false, false});
        comfort_noise_bytes += bytes;
      }
      t = end;
    }
  }
  if (loudness_of.empty()) return frames;
  // The speech frames share what the asked rate leaves after comfort noise.
  const double budget =
      std::max(0.0, shape.bytes_per_second * std::chrono::duration<double>(length).count() -
                        static_cast<double>(comfort_noise_bytes));
  const double mean_size = budget / static_cast<double>(loudness_of.size());
  double loudness_sum = 0;
  for (double l : loudness_of) loudness_sum += l;
  const double mean_loudness = loudness_sum / static_cast<double>(loudness_of.size());
  std::size_t speech = 0;
  for (auto& f : frames) {
    if (!f.speech) continue;
    double size =
        mean_size * std::clamp(loudness_of[speech++] / mean_loudness, kLoudness[0], kLoudness[1]);
    f.bytes = static_cast<std::uint32_t>(std::max(1.0, std::round(size)));
  }
  return frames;
}

}  // namespace earshot::speaker
