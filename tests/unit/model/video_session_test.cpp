// Sessions of a camera: the same builder as a microphone's, judged against
// the video band, with their own verdict (video-upload) and policy kind.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/capture_tracker.h"
#include "model/session_builder.h"
#include "model/session_policy.h"
#include "session_feed.h"

namespace earshot::model::video_session_test {
namespace {

using namespace testing;

constexpr std::uint64_t kFramesPerSecond = 30;      // 30 buffers dequeued a second
constexpr std::uint64_t kVideoPerSecond = 250'000;  // 2 Mbit/s: a 720p H.264 stream
constexpr std::uint64_t kVoicePerSecond = 4'000;    // 32 kbit/s: an Opus voice stream
const ProcessRef kDoorbell{500, seconds(1), "doorbell"};

void open_camera(SessionFeed& feed, double t, std::uint64_t handle, const ProcessRef& process) {
  feed.builder.on(
      CaptureOpened{seconds(t), handle, process, "video0", true, std::nullopt, DeviceKind::camera});
}

// The doorbell app opens the camera at 10 s, dequeues frames in (20 s, 25 s]
// and sends `per_second` bytes each of those seconds; closes at 26 s.
Session camera_turn(std::uint64_t per_second, const std::string& device_kind = "camera") {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) {
      if (device_kind == "camera") {
        open_camera(feed, t, 7, kDoorbell);
      } else {
        feed.open(t, 7, kDoorbell);
      }
    }
    if (t > 10 && t <= 26) {
      auto seconds_read = static_cast<std::uint64_t>(std::clamp(t - 20, 0.0, 5.0));
      feed.frames(t, 7, kFramesPerSecond * seconds_read);
    }
    if (t > 20 && t <= 25 && per_second > 0)
      feed.send(t, kDoorbell, "cam.vendor.example", per_second, Window::self);
    if (t == 26) feed.close(t, 7);
  });
  EXPECT_EQ(feed.finished.size(), 1u);
  return feed.finished.at(0);
}

TEST(VideoSession, CameraStreamingVideoIsVideoUpload) {
  Session session = camera_turn(kVideoPerSecond);
  EXPECT_EQ(session.kind, DeviceKind::camera);
  EXPECT_EQ(session.device, "video0");
  EXPECT_EQ(session.frames, 5 * kFramesPerSecond);
  EXPECT_EQ(session.start, seconds(20));
  EXPECT_EQ(session.verdict, Verdict::video_upload);
  ASSERT_EQ(session.destinations.size(), 1u);
  EXPECT_TRUE(session.destinations[0].self.video_like);
  EXPECT_FALSE(session.destinations[0].self.audio_like);
}

TEST(VideoSession, TheSameStreamFromAMicrophoneIsOnlyAnUpload) {
  // 2 Mbit/s is far above any voice codec.
  Session session = camera_turn(kVideoPerSecond, "microphone");
  EXPECT_EQ(session.kind, DeviceKind::microphone);
  EXPECT_EQ(session.verdict, Verdict::upload);
}

TEST(VideoSession, AVoiceRateTrickleFromACameraSessionIsAnUploadNotVideo) {
  Session session = camera_turn(kVoicePerSecond);
  EXPECT_EQ(session.verdict, Verdict::upload);
  EXPECT_FALSE(session.destinations.at(0).self.audio_like) << "a camera's session is never audio";
  EXPECT_FALSE(session.destinations.at(0).self.video_like);
}

TEST(VideoSession, ACameraThatSendsNothingIsQuiet) {
  Session session = camera_turn(0);
  EXPECT_EQ(session.verdict, Verdict::quiet);
  EXPECT_TRUE(session.destinations.empty());
}

TEST(VideoSession, FinishedCountsNameTheVideoVerdict) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) open_camera(feed, t, 7, kDoorbell);
    if (t > 10 && t <= 26) feed.frames(t, 7, kFramesPerSecond * static_cast<std::uint64_t>(t - 10));
    if (t > 10 && t <= 25) feed.send(t, kDoorbell, "cam.vendor.example", 1'000'000, Window::self);
    if (t == 26) feed.close(t, 7);
  });
  EXPECT_EQ(feed.builder.finished_counts().at({"doorbell", Verdict::video_upload}), 1u);
  EXPECT_EQ(to_string(Verdict::video_upload), "video-upload");
}

TEST(VideoSession, JsonNamesTheKindAndTheVideoBytes) {
  Session session = camera_turn(kVideoPerSecond);
  auto json = to_json(session, 0);
  EXPECT_EQ(json["kind"], "camera");
  EXPECT_EQ(json["verdict"], "video-upload");
  EXPECT_FALSE(json.contains("audio_bytes"));
  EXPECT_EQ(json["video_bytes"], session.audio_bytes);
  auto microphone = to_json(camera_turn(0, "microphone"), 0);
  EXPECT_EQ(microphone["kind"], "microphone");
  EXPECT_TRUE(microphone.contains("audio_bytes"));
}

TEST(VideoSession, PolicyNamesACameraCaptureNotAllowed) {
  SessionPolicy policy({.capture_allowed = {"assistant"}, .upload_allowed = {"voice.example"}});
  Session session = camera_turn(kVideoPerSecond);
  auto alerts = policy.check(session);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].kind, PolicyViolation::camera_not_allowed);
  EXPECT_EQ(alerts[0].device, "video0");
  EXPECT_EQ(alerts[0].device_kind, DeviceKind::camera);
  EXPECT_EQ(to_json(alerts[0], 0)["kind"], "camera_not_allowed");
  EXPECT_EQ(to_json(alerts[0], 0)["device_kind"], "camera");
  EXPECT_EQ(alerts[1].kind, PolicyViolation::upload_not_allowed);
  EXPECT_EQ(alerts[1].destination, "cam.vendor.example");
  EXPECT_EQ(policy.violation_counts().at({"doorbell", PolicyViolation::camera_not_allowed}), 1u);
  EXPECT_EQ(policy.violation_counts().count({"doorbell", PolicyViolation::capture_not_allowed}),
            0u);
}

TEST(VideoSession, PolicyAllowsACameraToAnAllowedProcess) {
  SessionPolicy policy({.capture_allowed = {"doorbell"}, .upload_allowed = {"cam.vendor.example"}});
  EXPECT_TRUE(policy.check(camera_turn(kVideoPerSecond)).empty());
}

TEST(VideoSession, TheTrackerCarriesTheKindIntoSeriesRecordsAndSessions) {
  SessionBuilder sessions(test_config());
  CaptureTracker tracker(sessions);
  HandleId id{500, Tier::syscalls, 3};
  auto opened = tracker.opened(seconds(1), id, 81u << 20, [] {
    return CaptureNames{kDoorbell, "", "video0", std::nullopt, DeviceKind::camera};
  });
  ASSERT_TRUE(opened.record);
  EXPECT_EQ(opened.record->device_kind, DeviceKind::camera);
  const auto& series = tracker.ledger().series();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series.begin()->first.kind, DeviceKind::camera);
  tracker.harvest(seconds(2), {{id, 30, 30 * 100'000}});
  tracker.harvest(seconds(3), {{id, 60, 60 * 100'000}});
  EXPECT_EQ(tracker.capture_time().begin()->first.kind, DeviceKind::camera);
  EXPECT_EQ(tracker.capture_time().begin()->second.frames, 60u);
  auto closed = tracker.closed(seconds(4), {id, 60, 60 * 100'000});
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->device_kind, DeviceKind::camera);
  sessions.tick(seconds(20));
  auto finished = sessions.take_finished();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].kind, DeviceKind::camera);
}

}  // namespace
}  // namespace earshot::model::video_session_test
