#include "model/verdict.h"

#include <algorithm>
#include <cmath>

namespace earshot::model {

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::quiet:
      return "quiet";
    case Verdict::upload:
      return "upload";
    case Verdict::audio_upload:
      return "audio-upload";
    case Verdict::video_upload:
      return "video-upload";
  }
  return "quiet";
}

std::uint64_t excess_bytes(const StreamEvidence& stream) {
  double excess = static_cast<double>(stream.bytes) - stream.expected_bytes;
  return excess > 0 ? static_cast<std::uint64_t>(std::llround(excess)) : 0;
}

bool is_above_baseline(const StreamEvidence& stream, const VerdictRules& rules) {
  double threshold = std::max(static_cast<double>(rules.min_excess_bytes),
                              rules.min_excess_fraction * stream.expected_bytes);
  return static_cast<double>(excess_bytes(stream)) > threshold;
}

namespace {

// At least min_seconds of the session's seconds, and min_fraction of them,
// carry an excess rate in [low, high].
bool steady_in_band(const StreamEvidence& stream, double low, double high,
                    std::uint64_t min_seconds, double min_fraction) {
  if (stream.excess_per_second.empty()) return false;
  auto in_band = static_cast<std::uint64_t>(
      std::count_if(stream.excess_per_second.begin(), stream.excess_per_second.end(),
                    [&](double bytes) { return bytes >= low && bytes <= high; }));
  double fraction =
      static_cast<double>(in_band) / static_cast<double>(stream.excess_per_second.size());
  return in_band >= min_seconds && fraction >= min_fraction;
}

}  // namespace

bool looks_like_audio(const StreamEvidence& stream, const VerdictRules& rules) {
  return steady_in_band(stream, rules.audio_min_bytes_per_second, rules.audio_max_bytes_per_second,
                        rules.audio_min_seconds, rules.audio_min_steady_fraction);
}

bool looks_like_video(const StreamEvidence& stream, const VerdictRules& rules) {
  return steady_in_band(stream, rules.video_min_bytes_per_second, rules.video_max_bytes_per_second,
                        rules.video_min_seconds, rules.audio_min_steady_fraction);
}

Verdict classify(std::span<const StreamEvidence> streams, const VerdictRules& rules,
                 DeviceKind kind) {
  const bool camera = kind == DeviceKind::camera;
  Verdict verdict = Verdict::quiet;
  for (const auto& stream : streams) {
    if (!is_above_baseline(stream, rules)) continue;
    if (!camera && looks_like_audio(stream, rules)) return Verdict::audio_upload;
    if (camera && looks_like_video(stream, rules)) return Verdict::video_upload;
    verdict = Verdict::upload;
  }
  return verdict;
}

}  // namespace earshot::model
