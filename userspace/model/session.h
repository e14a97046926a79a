#pragma once
// A capture session as reported: who captured from which device, when, how
// many frames, and what each process sent to each destination during it and
// its grace period, against that process's baseline rate before it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/session_events.h"
#include "model/verdict.h"

namespace earshot::model {

// What one process sent to one destination during a session.
struct SessionSender {
  ProcessRef process;
  std::uint64_t bytes = 0;
  double baseline_bytes_per_second = 0;  // its rate to this destination before the session
  std::uint64_t excess_bytes = 0;        // bytes beyond that rate over the counted time
  bool above_baseline = false;           // excess over the verdict threshold
  bool audio_like = false;               // excess steady in the voice codec band
  bool video_like = false;               // a camera's session: excess steady in the video band
};

struct SessionDestination {
  std::string destination;
  SessionSender self;                    // the capturing process (bytes may be 0)
  std::vector<SessionSender> others;     // every other process that sent, largest first
  double baseline_bytes_per_second = 0;  // self's and the others' baselines together
  std::uint64_t excess_bytes = 0;        // self's and the others' excess together
};

enum class SessionEnd { open, close, idle };
std::string_view to_string(SessionEnd end);

struct Session {
  std::uint64_t id = 0;
  ProcessRef process;
  std::string device;
  std::uint64_t handle_id = 0;
  bool frames_visible = true;
  MonotonicNs start = 0;
  MonotonicNs end = 0;  // for a session not ended yet: the latest time seen
  SessionEnd ended_by = SessionEnd::open;
  bool finished = false;  // false until its grace period has passed
  std::uint64_t frames = 0;
  std::uint64_t audio_bytes = 0;
  Verdict verdict = Verdict::quiet;
  std::vector<SessionDestination> destinations;  // largest total bytes first
  DeviceKind kind = DeviceKind::microphone;      // a camera's bytes are video, not audio
  // A client of a sound server: the server its capture goes through.
  std::optional<ProcessRef> via = std::nullopt;
  // A sound server: its clients that captured through it during the
  // session. When there are any, the verdict judges only the server's own
  // traffic (each client's session judges the client's).
  std::vector<ProcessRef> clients = {};
};

// Monotonic ns -> RFC 3339 UTC with milliseconds ("2026-11-24T10:00:00.123Z"),
// given CLOCK_REALTIME minus CLOCK_MONOTONIC in ns.
std::string rfc3339_utc(MonotonicNs ts, std::int64_t realtime_minus_monotonic_ns);

// The session's JSON object (one line of the event log, one entry of
// /api/sessions). "end" is null while the session has not ended.
nlohmann::json to_json(const Session& session, std::int64_t realtime_minus_monotonic_ns);

}  // namespace earshot::model
