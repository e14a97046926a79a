#include "model/event_lines.h"

namespace earshot::model {

nlohmann::json event_line(const CaptureRecord& record, std::int64_t realtime_minus_monotonic_ns) {
  bool open = record.kind == CaptureRecord::Kind::open;
  nlohmann::json line = {{"event", open ? "capture_open" : "capture_close"},
                         {"time", rfc3339_utc(record.ts, realtime_minus_monotonic_ns)},
                         {"process", record.process},
                         {"unit", record.unit},
                         {"pid", record.pid},
                         {"device", record.device},
                         {"tier", to_string(record.tier)}};
  if (record.process_exit) line["reason"] = "process_exit";
  return line;
}

nlohmann::json event_line(const Session& session, std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json line = to_json(session, realtime_minus_monotonic_ns);
  line["event"] = "session";
  return line;
}

nlohmann::json event_line(const PolicyAlert& alert, std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json line = to_json(alert, realtime_minus_monotonic_ns);
  line["event"] = "alert";
  return line;
}

}  // namespace earshot::model
