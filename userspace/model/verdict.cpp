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

bool looks_like_audio(const StreamEvidence& stream, const VerdictRules& rules) {
  if (stream.excess_per_second.empty()) return false;
  auto in_band = static_cast<std::uint64_t>(std::count_if(
      stream.excess_per_second.begin(), stream.excess_per_second.end(), [&](double bytes) {
        return bytes >= rules.audio_min_bytes_per_second &&
               bytes <= rules.audio_max_bytes_per_second;
      }));
  double fraction =
      static_cast<double>(in_band) / static_cast<double>(stream.excess_per_second.size());
  return in_band >= rules.audio_min_seconds && fraction >= rules.audio_min_steady_fraction;
}

Verdict classify(std::span<const StreamEvidence> streams, const VerdictRules& rules) {
  Verdict verdict = Verdict::quiet;
  for (const auto& stream : streams) {
    if (!is_above_baseline(stream, rules)) continue;
    if (looks_like_audio(stream, rules)) return Verdict::audio_upload;
    verdict = Verdict::upload;
  }
  return verdict;
}

}  // namespace earshot::model
