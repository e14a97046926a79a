#include "model/monitor.h"

#include "model/event_lines.h"

namespace earshot::model {

Monitor::Monitor(const MonitorConfig& config)
    : config_(config),
      egress_(config.max_processes, config.max_destinations_per_process),
      sessions_(config.sessions),
      policy_(config.policy),
      captures_(sessions_) {}

EventLines Monitor::capture_lines(const std::vector<CaptureRecord>& records) const {
  EventLines lines;
  for (const auto& r : records) lines.push_back(event_line(r, config_.realtime_minus_monotonic_ns));
  return lines;
}

Monitor::Opened Monitor::capture_opened(MonotonicNs ts, const HandleId& id, std::uint32_t dev,
                                        const std::function<CaptureNames()>& name) {
  auto opened = captures_.opened(ts, id, dev, name);
  Opened out{opened.counted_as, {}};
  if (opened.record) out.lines = capture_lines({*opened.record});
  return out;
}

EventLines Monitor::capture_closed(MonotonicNs ts, const HandleCount& final_count) {
  auto record = captures_.closed(ts, final_count);
  return record ? capture_lines({*record}) : EventLines{};
}

Monitor::Exited Monitor::process_exited(
    MonotonicNs ts, std::uint32_t tgid,
    const std::function<std::optional<HandleCount>(const HandleId&)>& final_count) {
  auto exited = captures_.process_exited(ts, tgid, final_count);
  return {std::move(exited.closed), capture_lines(exited.records)};
}

std::vector<FlowGrowth> Monitor::egress_growth(const EgressReading& reading,
                                               const EgressHarvest::OwnerLookup& lookup) {
  return harvest_.growth(reading, lookup);
}

EventLines Monitor::harvested(MonotonicNs now, const std::vector<NamedGrowth>& named,
                              const EgressReading& reading, std::vector<HandleCount> handles,
                              const LostCounts& lost) {
  harvest_.account(named, reading, egress_);
  lost_ = lost;
  for (const auto& sample : window_samples(named, now)) sessions_.on(sample);
  captures_.harvest(now, std::move(handles));

  EventLines lines;
  std::int64_t offset = config_.realtime_minus_monotonic_ns;
  sessions_.tick(now);
  for (const auto& session : sessions_.take_finished()) {
    lines.push_back(event_line(session, offset));
    for (const auto& alert : policy_.check(session)) lines.push_back(event_line(alert, offset));
  }
  for (const auto& session : sessions_.open_sessions())
    for (const auto& alert : policy_.check(session)) lines.push_back(event_line(alert, offset));
  ++harvests_;
  return lines;
}

nlohmann::json Monitor::sessions_json() const {
  nlohmann::json open = nlohmann::json::array(), recent = nlohmann::json::array();
  for (const auto& session : sessions_.open_sessions())
    open.push_back(to_json(session, config_.realtime_minus_monotonic_ns));
  const auto& finished = sessions_.recent();
  for (auto it = finished.rbegin(); it != finished.rend(); ++it)
    recent.push_back(to_json(*it, config_.realtime_minus_monotonic_ns));
  return {{"open", open}, {"recent", recent}};
}

}  // namespace earshot::model
