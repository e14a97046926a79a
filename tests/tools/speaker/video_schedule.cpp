#include "video_schedule.h"

#include <algorithm>
#include <cmath>

namespace earshot::speaker {

std::vector<VideoFrame> video_schedule(std::chrono::milliseconds length, double bytes_per_second,
                                       std::mt19937& random) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  const int fps = kFrameRates[std::uniform_int_distribution<int>(0, 1)(random)];
  const double length_seconds = std::chrono::duration<double>(length).count();
  std::vector<VideoFrame> frames;
  std::vector<double> weights;
  double next_key = 0;
  for (long i = 0;; ++i) {
    const double t = static_cast<double>(i) / fps;
    if (t >= length_seconds) break;
    const bool key = t >= next_key;
    if (key) next_key = t + uniform(kKeyFrameSeconds[0], kKeyFrameSeconds[1]);
    weights.push_back(key ? uniform(kKeyFrameTimes[0], kKeyFrameTimes[1]) : uniform(0.7, 1.3));
    frames.push_back({std::chrono::microseconds(std::lround(t * 1e6)), 0, key});
  }
  double weight_sum = 0;
  for (double w : weights) weight_sum += w;
  const double bytes_per_weight = bytes_per_second * length_seconds / std::max(weight_sum, 1e-9);
  for (std::size_t i = 0; i < frames.size(); ++i)
    frames[i].bytes =
        static_cast<std::uint32_t>(std::max(1.0, std::round(bytes_per_weight * weights[i])));
  return frames;
}

}  // namespace earshot::speaker
