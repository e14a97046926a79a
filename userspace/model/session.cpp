#include "model/session.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace earshot::model {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

nlohmann::json sender_json(const SessionSender& sender) {
  return {{"process", sender.process.name},
          {"pid", sender.process.tgid},
          {"bytes", sender.bytes},
          {"baseline_bytes_per_second", sender.baseline_bytes_per_second},
          {"excess_bytes", sender.excess_bytes}};
}

}  // namespace

std::string_view to_string(SessionEnd end) {
  switch (end) {
    case SessionEnd::open:
      return "open";
    case SessionEnd::close:
      return "close";
    case SessionEnd::idle:
      return "idle";
  }
  return "open";
}

std::string rfc3339_utc(MonotonicNs ts, std::int64_t realtime_minus_monotonic_ns) {
  std::int64_t wall = static_cast<std::int64_t>(ts) + realtime_minus_monotonic_ns;
  std::int64_t seconds = wall / kNanosPerSecond;
  std::int64_t millis = (wall % kNanosPerSecond) / 1'000'000;
  if (millis < 0) {  // before the epoch: floor, not truncate
    seconds -= 1;
    millis += 1000;
  }
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

nlohmann::json to_json(const Session& session, std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json destinations = nlohmann::json::array();
  for (const auto& destination : session.destinations) {
    nlohmann::json others = nlohmann::json::array();
    for (const auto& other : destination.others) others.push_back(sender_json(other));
    destinations.push_back(
        {{"destination", destination.destination},
         {"self_bytes", destination.self.bytes},
         {"self_baseline_bytes_per_second", destination.self.baseline_bytes_per_second},
         {"others", std::move(others)},
         {"baseline_bytes_per_second", destination.baseline_bytes_per_second},
         {"excess_bytes", destination.excess_bytes}});
  }
  double duration = static_cast<double>(session.end - session.start) / kNanosPerSecond;
  nlohmann::json json = {
      {"id", session.id},
      {"process", session.process.name},
      {"pid", session.process.tgid},
      {"device", session.device},
      {"start", rfc3339_utc(session.start, realtime_minus_monotonic_ns)},
      {"end", session.ended_by == SessionEnd::open
                  ? nlohmann::json(nullptr)
                  : nlohmann::json(rfc3339_utc(session.end, realtime_minus_monotonic_ns))},
      {"duration_seconds", std::round(duration * 1000) / 1000},
      {"ended_by", to_string(session.ended_by)},
      {"finished", session.finished},
      {"frames", session.frames},
      {"frames_visible", session.frames_visible},
      {"audio_bytes", session.audio_bytes},
      {"verdict", to_string(session.verdict)},
      {"destinations", std::move(destinations)},
  };
  json["kind"] = to_string(session.kind);
  if (session.kind == DeviceKind::camera) {
    // What the camera delivered is video: named so, never as audio.
    json.erase("audio_bytes");
    json["video_bytes"] = session.audio_bytes;
  }
  json["via"] = session.via ? nlohmann::json(session.via->name) : nlohmann::json(nullptr);
  json["via_pid"] = session.via && session.via->tgid ? nlohmann::json(session.via->tgid)
                                                     : nlohmann::json(nullptr);
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& client : session.clients)
    clients.push_back({{"process", client.name}, {"pid", client.tgid}});
  json["clients"] = std::move(clients);
  return json;
}

}  // namespace earshot::model
