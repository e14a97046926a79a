#pragma once
// The lines of the JSON event stream (events.file), each kind built here
// and only here: capture opens and closes, finished sessions, upload
// episodes, policy alerts, gateway mode's device bursts; and the sessions
// of /api/sessions.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>

#include "model/capture_tracker.h"
#include "model/session.h"
#include "model/session_policy.h"
#include "model/upload_episodes.h"

namespace earshot::model {

// realtime_minus_monotonic_ns turns the events' CLOCK_MONOTONIC times into
// wall time (rfc3339_utc).
nlohmann::json event_line(const CaptureRecord& record, std::int64_t realtime_minus_monotonic_ns);
nlohmann::json event_line(const Session& session, std::span<const UploadEpisode> episodes,
                          std::uint64_t episodes_total, std::int64_t realtime_minus_monotonic_ns);
nlohmann::json event_line(const UploadEpisode& episode, std::uint64_t session_id,
                          std::int64_t realtime_minus_monotonic_ns);

// A session as /api/sessions lists it: the session with its upload
// episodes (the last ones kept, and how many there were).
nlohmann::json session_json(const Session& session, std::span<const UploadEpisode> episodes,
                            std::uint64_t episodes_total, std::int64_t realtime_minus_monotonic_ns);
nlohmann::json event_line(const PolicyAlert& alert, std::int64_t realtime_minus_monotonic_ns);

// Gateway mode: a LAN device's voice-upload burst (an audio-upload episode
// whose sender is a device), as /api/sessions lists it under "traffic" and
// as its event line ({"event": "session", "source": "traffic", ...}).
nlohmann::json device_burst_json(const UploadEpisode& burst,
                                 std::int64_t realtime_minus_monotonic_ns);
nlohmann::json device_burst_event_line(const UploadEpisode& burst,
                                       std::int64_t realtime_minus_monotonic_ns);

}  // namespace earshot::model
