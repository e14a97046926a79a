#pragma once
// Feeds a SessionBuilder harvest by harvest, the way the collector does:
// capture events and egress samples stamped with the harvest time, then
// tick(). Times are in seconds for readability.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/session_builder.h"

namespace earshot::model::testing {

constexpr MonotonicNs seconds(double value) {
  return static_cast<MonotonicNs>(value * 1'000'000'000.0);
}

inline const ProcessRef kAssistant{100, seconds(1), "assistant"};
inline const ProcessRef kChatty{200, seconds(1), "chatty"};
inline const ProcessRef kListener{300, seconds(1), "listener"};
inline const ProcessRef kRelayCapture{400, seconds(1), "relay-a"};
inline const ProcessRef kRelayUpload{401, seconds(1), "relay-b"};

inline SessionConfig test_config() {
  SessionConfig config;
  config.grace = std::chrono::seconds(5);
  config.idle_gap = std::chrono::seconds(3);
  config.baseline = std::chrono::minutes(5);
  config.sessions_kept = 10;
  return config;
}

class SessionFeed {
 public:
  explicit SessionFeed(SessionConfig config = test_config()) : builder(config) {}

  void open(double t, std::uint64_t handle, const ProcessRef& process, bool frames_visible = true,
            const std::string& device = "pcmC0D0c") {
    builder.on(CaptureOpened{seconds(t), handle, process, device, frames_visible});
  }
  void frames(double t, std::uint64_t handle, std::uint64_t frames_total) {
    builder.on(CaptureFrames{seconds(t), handle, frames_total, frames_total * 2});
  }
  void close(double t, std::uint64_t handle) { builder.on(CaptureClosed{seconds(t), handle}); }
  void send(double t, const ProcessRef& process, const std::string& destination,
            std::uint64_t bytes, Window window) {
    builder.on(EgressSample{seconds(t), process, destination, bytes, window});
  }
  void tick(double t) {
    builder.tick(seconds(t));
    for (auto& session : builder.take_finished()) finished.push_back(std::move(session));
  }
  // Harvests at every whole second in [from, to], calling each(t) before the tick.
  void run(int from, int to, const std::function<void(double)>& each) {
    for (int t = from; t <= to; ++t) {
      each(t);
      tick(t);
    }
  }
  std::vector<Session> finished_by(const std::string& name) const {
    std::vector<Session> found;
    for (const auto& session : finished) {
      if (session.process.name == name) found.push_back(session);
    }
    return found;
  }

  SessionBuilder builder;
  std::vector<Session> finished;
};

inline const SessionDestination* find_destination(const Session& session, const std::string& name) {
  for (const auto& destination : session.destinations) {
    if (destination.destination == name) return &destination;
  }
  return nullptr;
}

}  // namespace earshot::model::testing
