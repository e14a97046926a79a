#include "model/session_policy.h"

namespace earshot::model {

std::string_view to_string(PolicyViolation kind) {
  switch (kind) {
    case PolicyViolation::capture_not_allowed:
      return "capture_not_allowed";
    case PolicyViolation::upload_not_allowed:
      return "upload_not_allowed";
    case PolicyViolation::camera_not_allowed:
      return "camera_not_allowed";
  }
  return "capture_not_allowed";
}

nlohmann::json to_json(const PolicyAlert& alert, std::int64_t realtime_minus_monotonic_ns) {
  nlohmann::json json = {
      {"kind", to_string(alert.kind)},  {"process", alert.process.name},
      {"pid", alert.process.tgid},      {"device", alert.device},
      {"session_id", alert.session_id}, {"ts", rfc3339_utc(alert.ts, realtime_minus_monotonic_ns)}};
  json["device_kind"] = to_string(alert.device_kind);
  json["destination"] =
      alert.destination.empty() ? nlohmann::json(nullptr) : nlohmann::json(alert.destination);
  return json;
}

SessionPolicy::SessionPolicy(const SessionPolicyConfig& config)
    : capture_allowed_(config.capture_allowed.begin(), config.capture_allowed.end()),
      upload_allowed_(config.upload_allowed.begin(), config.upload_allowed.end()) {}

std::vector<PolicyAlert> SessionPolicy::check(const Session& session) {
  std::vector<PolicyAlert> alerts;
  if (!capture_allowed_.empty() && !capture_allowed_.contains(session.process.name)) {
    raise(alerts, {session.kind == DeviceKind::camera ? PolicyViolation::camera_not_allowed
                                                      : PolicyViolation::capture_not_allowed,
                   session.process, "", session.device, session.id, session.start, session.kind});
  }
  if (!upload_allowed_.empty()) {
    for (const auto& destination : session.destinations) {
      if (upload_allowed_.contains(destination.destination)) continue;
      auto check_sender = [&](const SessionSender& sender) {
        if (!sender.above_baseline) return;
        raise(alerts, {PolicyViolation::upload_not_allowed, sender.process, destination.destination,
                       session.device, session.id, session.end, session.kind});
      };
      check_sender(destination.self);
      // A sound server's session with known clients: the others' uploads
      // are judged in their own sessions (a client's) or not at all.
      if (!session.clients.empty()) continue;
      for (const auto& other : destination.others) check_sender(other);
    }
  }
  if (session.finished) {
    auto first = raised_.lower_bound({session.id, PolicyViolation::capture_not_allowed, {}, ""});
    auto last = first;
    while (last != raised_.end() && std::get<0>(*last) == session.id) ++last;
    raised_.erase(first, last);
  }
  return alerts;
}

void SessionPolicy::raise(std::vector<PolicyAlert>& alerts, PolicyAlert alert) {
  AlertKey key{alert.session_id, alert.kind, alert.process.key(), alert.destination};
  if (!raised_.insert(key).second) return;
  ++counts_[{alert.process.name, alert.kind}];
  alerts.push_back(std::move(alert));
}

}  // namespace earshot::model
