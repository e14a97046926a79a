#pragma once
// The verdict on a capture session: did anything leave beyond the usual, and
// does it look like audio? Pure arithmetic on per-stream evidence, so the
// thresholds are stated (and tested) in one place.
#include <cstdint>
#include <span>
#include <string_view>

#include "common/vocabulary.h"

namespace earshot::model {

enum class Verdict { quiet, upload, audio_upload, video_upload };

// "quiet", "upload", "audio-upload", "video-upload"
std::string_view to_string(Verdict verdict);

struct VerdictRules {
  // A stream is above baseline when its excess (bytes minus baseline rate x
  // the time the session counted bytes) exceeds the larger of these two:
  // an absolute floor against noise (a TLS keep-alive, a DNS query), and a
  // fraction of the expected volume against jitter in a busy baseline.
  std::uint64_t min_excess_bytes = 1024;
  double min_excess_fraction = 0.10;

  // The band of voice codecs, 12 kbit/s (Opus voice) to 300 kbit/s (raw
  // 16 kHz 16-bit PCM with framing), in bytes/s of excess over baseline.
  double audio_min_bytes_per_second = 12'000.0 / 8;
  double audio_max_bytes_per_second = 300'000.0 / 8;
  // "Steady for most of the session": at least this fraction of the
  // session's whole seconds (start to end, grace excluded) carry an excess
  // rate inside the band, and at least audio_min_seconds of them do.
  double audio_min_steady_fraction = 0.6;
  std::uint64_t audio_min_seconds = 2;

  // A camera's session: the band of video streams, 100 kbit/s (a small
  // MJPEG or H.264 picture at a few frames a second) to 50 Mbit/s (1080p
  // MJPEG at 30 frames a second), in bytes/s of excess over baseline; far
  // above any voice codec, so an audio-rate trickle from a camera session
  // is an upload, not a video upload. Steady as for audio (the same
  // fraction), for at least video_min_seconds.
  double video_min_bytes_per_second = 100'000.0 / 8;
  double video_max_bytes_per_second = 50'000'000.0 / 8;
  std::uint64_t video_min_seconds = 2;
};

// What one sender sent to one destination during a session.
struct StreamEvidence {
  std::uint64_t bytes = 0;
  double expected_bytes = 0;  // baseline rate x counted time
  // Excess bytes in each whole second of the session (baseline subtracted).
  std::span<const double> excess_per_second;
};

std::uint64_t excess_bytes(const StreamEvidence& stream);
bool is_above_baseline(const StreamEvidence& stream, const VerdictRules& rules);
bool looks_like_audio(const StreamEvidence& stream, const VerdictRules& rules);
// Steady in the video band (a camera's session).
bool looks_like_video(const StreamEvidence& stream, const VerdictRules& rules);

// quiet: no stream above baseline; audio-upload: some stream above baseline
// looks like audio (a microphone's session) or video-upload: like video (a
// camera's); upload: otherwise.
Verdict classify(std::span<const StreamEvidence> streams, const VerdictRules& rules,
                 DeviceKind kind = DeviceKind::microphone);

}  // namespace earshot::model
