// Kernel lane: cameras seen by the real daemon through the syscall tier.
// This kernel has no V4L2, so the camera is a stand-in: a node made with
// mknod with the numbers of /dev/zero (1:5, which opens and reads here),
// registered through capture.extra_cameras; a microphone stand-in (1:7,
// /dev/full) beside it through capture.extra_devices. What is real here:
// the opens, closes and exits of the camera node, its kind in every metric
// and event, frames from read() (one a read that returned data), and that
// VIDIOC_DQBUF ioctls that fail (a stand-in is no V4L2 device) count no
// frame. Frames from a DQBUF that succeeds need a real V4L2 node: the vm
// lane's vivid check.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "daemon.h"
#include "event_log.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::camera_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kCameraTool = EARSHOT_V4L2_STREAM_BINARY;
constexpr const char* kMicTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kOpens = "earshot_capture_opens_total";
constexpr const char* kActive = "earshot_capture_active";
constexpr const char* kFrames = "earshot_capture_frames_total";

class CameraTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF and makes device nodes";
    dir_.emplace("earshot-camera");
    camera_ = dir_->file("es-cam");
    mic_ = dir_->file("es-mic");
    if (::mknod(camera_.c_str(), S_IFCHR | 0600, makedev(1, 5)) != 0 ||
        ::mknod(mic_.c_str(), S_IFCHR | 0600, makedev(1, 7)) != 0) {
      GTEST_SKIP() << "mknod: " << std::strerror(errno);
    }
    events_ = dir_->file("events.jsonl");
  }
  void TearDown() override {
    if (daemon_) {
      EXPECT_EQ(daemon_->stop(), 0);
    }
    if (HasFailure() && daemon_) std::cout << "daemon log:\n" << daemon_->log() << std::endl;
    daemon_.reset();  // before the directory holding the nodes and the event file
  }

  void start_daemon(const std::string& policy = "") {
    daemon_.emplace(DaemonOptions{
        .binary = kDaemon,
        .config_yaml = "harvest:\n  interval: 200ms\ncapture:\n  sysfs: false\n  cameras: false\n"
                       "  tiers: [syscalls]\n  extra_devices: [\"" +
                       mic_ + "\"]\n  extra_cameras: [\"" + camera_ +
                       "\"]\ncorrelation:\n  grace: 1s\n  idle_gap: 1s\nevents:\n  file: \"" +
                       events_ + "\"\n" + policy});
  }
  // A copy of the camera tool named `es-cam-user`.
  ChildProcess start_camera_user(const std::string& dqbufs, const std::string& reads,
                                 const std::string& hold_ms) {
    const std::string executable = dir_->copy_executable(kCameraTool, "es-cam-user");
    return ChildProcess({executable, "--hold-ms", hold_ms, "stand-in", camera_, dqbufs, reads});
  }
  Labels camera_user() const {
    return {{"process", "es-cam-user"}, {"device", camera_}, {"kind", "camera"}};
  }
  std::vector<nlohmann::json> events_of(const std::string& event, const std::string& process) {
    std::vector<nlohmann::json> out;
    for (auto& e : select_events(read_event_lines(events_), event))
      if (e.value("process", "") == process) out.push_back(e);
    return out;
  }

  std::optional<TempDir> dir_;
  std::string camera_, mic_, events_;
  std::optional<DaemonProcess> daemon_;
};

TEST_F(CameraTest, OpenReadsAndCloseOfACameraAreCountedAsACamera) {
  start_daemon();
  ChildProcess user = start_camera_user("0", "7", "600");
  ASSERT_TRUE(user.wait_for_output("opened", 10s)) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kOpens, camera_user()) == 1 && s.sum(kActive, camera_user()) == 1;
      },
      2000ms))
      << "while open: opens=" << daemon_->last_scrape().sum(kOpens, camera_user());
  ASSERT_TRUE(user.wait_for_output("stood-in", 10s)) << user.stderr_text();
  EXPECT_EQ(user.wait(10s), 0) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kActive, camera_user()) == 0 && s.sum(kFrames, camera_user()) == 7;
      },
      3000ms))
      << "after close: active=" << daemon_->last_scrape().sum(kActive, camera_user())
      << " frames=" << daemon_->last_scrape().sum(kFrames, camera_user());
  EXPECT_EQ(daemon_->last_scrape().sum(kOpens, {{"kind", "microphone"}}), 0)
      << "the camera counted as a microphone";

  auto opens = events_of("capture_open", "es-cam-user");
  ASSERT_EQ(opens.size(), 1u) << read_text_file(events_);
  EXPECT_EQ(opens[0].value("kind", ""), "camera");
  EXPECT_EQ(opens[0].value("device", ""), camera_);
  EXPECT_EQ(opens[0].value("tier", ""), "syscalls");
  // The session: 7 frames, named a camera's.
  ASSERT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum("earshot_capture_sessions_total", {{"process", "es-cam-user"}}) >= 1;
      },
      5000ms));
  auto sessions = events_of("session", "es-cam-user");
  ASSERT_EQ(sessions.size(), 1u) << read_text_file(events_);
  EXPECT_EQ(sessions[0].value("kind", ""), "camera");
  EXPECT_EQ(sessions[0].value("frames", 0), 7);
  EXPECT_EQ(sessions[0].value("video_bytes", 0), 7 * 4096);
  // Its verdict: the camera user sent nothing. (The test's own scrapes, and
  // earshot's answers, are other processes' bytes during the session, with
  // no baseline before it: they may make it an upload, never a video one.)
  EXPECT_NE(sessions[0].value("verdict", ""), "video-upload") << sessions[0].dump();
  for (const auto& destination : sessions[0]["destinations"])
    EXPECT_EQ(destination.value("self_bytes", -1), 0) << sessions[0].dump();
}

TEST_F(CameraTest, FailedDqbufIoctlsCountNoFrame) {
  start_daemon();
  ChildProcess user = start_camera_user("25", "0", "300");
  ASSERT_TRUE(user.wait_for_output("stood-in dqbuf_failed=25", 10s)) << user.stdout_text();
  EXPECT_EQ(user.wait(10s), 0) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kOpens, camera_user()) == 1 && s.sum(kActive, camera_user()) == 0;
      },
      3000ms));
  EXPECT_EQ(daemon_->last_scrape().sum(kFrames, camera_user()), 0);
}

TEST_F(CameraTest, AMicrophoneBesideTheCameraKeepsItsKind) {
  start_daemon();
  const std::string mic_tool = dir_->copy_executable(kMicTool, "es-mic-user");
  ChildProcess mic({mic_tool, "open-device", mic_, "1.5"});
  ChildProcess camera = start_camera_user("0", "3", "800");
  ASSERT_TRUE(mic.wait_for_output("opened", 10s)) << mic.stderr_text();
  ASSERT_TRUE(camera.wait_for_output("opened", 10s)) << camera.stderr_text();
  Labels mic_user{{"process", "es-mic-user"}, {"device", mic_}, {"kind", "microphone"}};
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kActive, mic_user) == 1 && s.sum(kActive, camera_user()) == 1;
      },
      2000ms))
      << "microphone active=" << daemon_->last_scrape().sum(kActive, mic_user)
      << " camera active=" << daemon_->last_scrape().sum(kActive, camera_user());
  EXPECT_EQ(mic.wait(10s), 0);
  EXPECT_EQ(camera.wait(10s), 0);
}

TEST_F(CameraTest, ACameraUserKilledWhileHoldingItIsNoLongerActive) {
  start_daemon();
  ChildProcess user = start_camera_user("0", "0", "60000");
  ASSERT_TRUE(user.wait_for_output("opened", 10s)) << user.stderr_text();
  ASSERT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, camera_user()) == 1; }, 3s));
  user.kill(SIGKILL);
  EXPECT_EQ(user.wait(5s), 128 + SIGKILL);
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, camera_user()) == 0; }, 3s))
      << "still active after SIGKILL";
  EXPECT_EQ(daemon_->last_scrape().sum(kOpens, camera_user()), 1);
}

TEST_F(CameraTest, ACameraOpenedByAProcessNotAllowedIsAViolationOfItsOwnKind) {
  start_daemon("policy:\n  capture_allowed: [doorbell]\n");
  ChildProcess user = start_camera_user("0", "3", "300");
  ASSERT_TRUE(user.wait_for_output("stood-in", 10s)) << user.stderr_text();
  EXPECT_EQ(user.wait(10s), 0);
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum("earshot_policy_violations_total",
                     {{"process", "es-cam-user"}, {"kind", "camera_not_allowed"}}) == 1;
      },
      5000ms))
      << "violations: "
      << daemon_->last_scrape().sum("earshot_policy_violations_total",
                                    {{"process", "es-cam-user"}});
  EXPECT_EQ(daemon_->last_scrape().sum("earshot_policy_violations_total",
                                       {{"kind", "capture_not_allowed"}}),
            0);
}

}  // namespace
}  // namespace earshot::test::camera_test
