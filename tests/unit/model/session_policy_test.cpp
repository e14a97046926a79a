#include "model/session_policy.h"

#include <gtest/gtest.h>

#include "session_feed.h"

namespace earshot::model::session_policy_test {
namespace {

using namespace testing;

// A relay capture (relay-a) while relay-b uploads voice to upload.example
// and chatty keeps its usual heartbeat to telemetry.example.
Session relay_session() {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 4, kRelayCapture);
    if (t > 20 && t <= 25) {
      feed.frames(t, 4, 1000 * static_cast<std::uint64_t>(t - 20));
      feed.send(t, kRelayUpload, "upload.example", 4000, Window::other);
    }
    bool live = t > 20 && t <= 26;
    feed.send(t, kChatty, "telemetry.example", 200,
              live ? Window::other : Window::none);
    if (t == 26) feed.close(t, 4);
  });
  EXPECT_EQ(feed.finished.size(), 1u);
  return feed.finished.at(0);
}

TEST(SessionPolicy, EmptyListsAllowEverything) {
  SessionPolicy policy({});
  EXPECT_TRUE(policy.check(relay_session()).empty());
  EXPECT_TRUE(policy.violation_counts().empty());
}

TEST(SessionPolicy, CaptureByAProcessNotAllowed) {
  SessionPolicy policy({.capture_allowed = {"assistant"}, .upload_allowed = {}});
  Session session = relay_session();
  session.finished = false;  // seen while open first
  auto alerts = policy.check(session);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, PolicyViolation::capture_not_allowed);
  EXPECT_EQ(alerts[0].process.name, "relay-a");
  EXPECT_EQ(alerts[0].device, "pcmC0D0c");
  EXPECT_EQ(alerts[0].ts, session.start);
  session.finished = true;
  EXPECT_TRUE(policy.check(session).empty()) << "one alert a session";
  EXPECT_EQ(policy.violation_counts().at({"relay-a", PolicyViolation::capture_not_allowed}), 1u);
}

TEST(SessionPolicy, AllowedCaptureRaisesNothing) {
  SessionPolicy policy({.capture_allowed = {"relay-a"}, .upload_allowed = {}});
  EXPECT_TRUE(policy.check(relay_session()).empty());
}

TEST(SessionPolicy, UploadToADestinationNotAllowedButNotTheUsualHeartbeat) {
  SessionPolicy policy({.capture_allowed = {}, .upload_allowed = {"voice.vendor.example"}});
  auto alerts = policy.check(relay_session());
  ASSERT_EQ(alerts.size(), 1u) << "chatty's heartbeat is its baseline, not an upload";
  EXPECT_EQ(alerts[0].kind, PolicyViolation::upload_not_allowed);
  EXPECT_EQ(alerts[0].process.name, "relay-b");
  EXPECT_EQ(alerts[0].destination, "upload.example");
  auto json = to_json(alerts[0], 0);
  EXPECT_EQ(json["kind"], "upload_not_allowed");
  EXPECT_EQ(json["process"], "relay-b");
  EXPECT_EQ(json["destination"], "upload.example");
  EXPECT_EQ(json["device"], "pcmC0D0c");
  EXPECT_EQ(policy.violation_counts().at({"relay-b", PolicyViolation::upload_not_allowed}), 1u);
}

TEST(SessionPolicy, UploadToAnAllowedDestinationRaisesNothing) {
  SessionPolicy policy({.capture_allowed = {}, .upload_allowed = {"upload.example"}});
  EXPECT_TRUE(policy.check(relay_session()).empty());
}

TEST(SessionPolicy, FinishedSessionIsForgottenSoANewOneAlertsAgain) {
  SessionPolicy policy({.capture_allowed = {"assistant"}, .upload_allowed = {}});
  Session session = relay_session();
  EXPECT_EQ(policy.check(session).size(), 1u);
  session.id += 1;
  EXPECT_EQ(policy.check(session).size(), 1u);
  EXPECT_EQ(policy.violation_counts().at({"relay-a", PolicyViolation::capture_not_allowed}), 2u);
}

}  // namespace
}  // namespace earshot::model::session_policy_test
