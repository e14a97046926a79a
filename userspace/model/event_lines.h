#pragma once
// The lines of the JSON event stream (events.file), each kind built here
// and only here: capture opens and closes, finished sessions, policy alerts.
#include <cstdint>
#include <nlohmann/json.hpp>

#include "model/capture_tracker.h"
#include "model/session.h"
#include "model/session_policy.h"

namespace earshot::model {

// realtime_minus_monotonic_ns turns the events' CLOCK_MONOTONIC times into
// wall time (rfc3339_utc).
nlohmann::json event_line(const CaptureRecord& record, std::int64_t realtime_minus_monotonic_ns);
nlohmann::json event_line(const Session& session, std::int64_t realtime_minus_monotonic_ns);
nlohmann::json event_line(const PolicyAlert& alert, std::int64_t realtime_minus_monotonic_ns);

}  // namespace earshot::model
