#include "model/event_lines.h"

#include <cmath>

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
  line["kind"] = to_string(record.device_kind);
  if (record.process_exit) line["reason"] = "process_exit";
  if (record.via) {
    line["via"] = record.via->name;
    line["via_pid"] = record.via->tgid ? nlohmann::json(record.via->tgid) : nlohmann::json(nullptr);
  }
  return line;
}

namespace {

nlohmann::json episode_json(const UploadEpisode& e, std::int64_t offset) {
  return {{"process", e.sender.name},
          {"pid", e.sender.pid},
          {"destination", e.destination},
          {"start", rfc3339_utc(e.start, offset)},
          {"end", rfc3339_utc(e.end, offset)},
          {"seconds", e.seconds()},
          {"bytes", e.bytes},
          {"bytes_per_second", std::round(e.bytes_per_second())},
          {"excess_bytes", e.excess_bytes},
          {"baseline_bytes_per_second", std::round(e.baseline_bytes_per_second)},
          {"verdict", to_string(e.verdict)},
          {"ongoing", e.ongoing}};
}

}  // namespace

nlohmann::json session_json(const Session& session, std::span<const UploadEpisode> episodes,
                            std::uint64_t episodes_total,
                            std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json json = to_json(session, realtime_minus_monotonic_ns);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : episodes) list.push_back(episode_json(e, realtime_minus_monotonic_ns));
  json["episodes"] = std::move(list);
  json["episodes_total"] = episodes_total;
  return json;
}

nlohmann::json event_line(const Session& session, std::span<const UploadEpisode> episodes,
                          std::uint64_t episodes_total, std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json line =
      session_json(session, episodes, episodes_total, realtime_minus_monotonic_ns);
  line["event"] = "session";
  return line;
}

nlohmann::json event_line(const UploadEpisode& episode, std::uint64_t session_id,
                          std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json line = episode_json(episode, realtime_minus_monotonic_ns);
  line["event"] = "upload_episode";
  line["session_id"] = session_id;
  return line;
}

nlohmann::json event_line(const PolicyAlert& alert, std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json line = to_json(alert, realtime_minus_monotonic_ns);
  line["event"] = "alert";
  return line;
}

nlohmann::json device_burst_json(const UploadEpisode& burst,
                                 std::int64_t realtime_minus_monotonic_ns) {
  return {{"source", "traffic"},
          {"device", burst.sender.name},
          {"mac", burst.sender.key},
          {"destination", burst.destination},
          {"start", rfc3339_utc(burst.start, realtime_minus_monotonic_ns)},
          {"end", rfc3339_utc(burst.end, realtime_minus_monotonic_ns)},
          {"seconds", burst.seconds()},
          {"bytes", burst.bytes},
          {"bytes_per_second", std::round(burst.bytes_per_second())},
          {"verdict", to_string(burst.verdict)}};
}

nlohmann::json device_burst_event_line(const UploadEpisode& burst,
                                       std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json line = device_burst_json(burst, realtime_minus_monotonic_ns);
  line["event"] = "session";
  return line;
}

}  // namespace earshot::model
