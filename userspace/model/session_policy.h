#pragma once
// Policy on capture sessions: which processes may capture, and which
// destinations may receive data during a capture. Fed the sessions as they
// stand (open ones after each harvest, finished ones once), it raises each
// violation once per session and counts them.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "model/session.h"

namespace earshot::model {

// A camera's capture by a process not allowed to is its own kind, so that
// alerts and dashboards tell it from a microphone's.
enum class PolicyViolation { capture_not_allowed, upload_not_allowed, camera_not_allowed };
// "capture_not_allowed", "upload_not_allowed", "camera_not_allowed"
std::string_view to_string(PolicyViolation kind);

struct PolicyAlert {
  PolicyViolation kind = PolicyViolation::capture_not_allowed;
  ProcessRef process;       // the capturing process, or the sender of the upload
  std::string destination;  // empty for capture_not_allowed
  std::string device;
  std::uint64_t session_id = 0;
  MonotonicNs ts = 0;  // session start (capture), or when the upload was seen
  DeviceKind device_kind = DeviceKind::microphone;
};

nlohmann::json to_json(const PolicyAlert& alert, std::int64_t realtime_minus_monotonic_ns);

struct SessionPolicyConfig {
  std::vector<std::string> capture_allowed;  // process names; empty: anyone may capture
  std::vector<std::string> upload_allowed;   // destination labels; empty: anywhere
};

class SessionPolicy {
 public:
  explicit SessionPolicy(const SessionPolicyConfig& config);

  // Alerts not raised before for this session. A capture by a process not
  // allowed to; bytes above baseline (by the capturing process or any other)
  // to a destination not allowed: bytes a process sends anyway, at its usual
  // rate, are not an upload of what was heard; in the session of a sound
  // server with known clients, only the server's own. Call with finished sessions
  // too: that also forgets the session.
  std::vector<PolicyAlert> check(const Session& session);

  // Violations by (process name, kind), for earshot_policy_violations_total.
  const std::map<std::pair<std::string, PolicyViolation>, std::uint64_t>& violation_counts() const {
    return counts_;
  }

 private:
  using AlertKey = std::tuple<std::uint64_t, PolicyViolation, ProcessKey, std::string>;

  void raise(std::vector<PolicyAlert>& alerts, PolicyAlert alert);

  std::set<std::string> capture_allowed_;
  std::set<std::string> upload_allowed_;
  std::set<AlertKey> raised_;  // only for sessions not finished yet
  std::map<std::pair<std::string, PolicyViolation>, std::uint64_t> counts_;
};

}  // namespace earshot::model
