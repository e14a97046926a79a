// Kernel lane: capture opens seen by the real daemon. A node made
// with mknod (numbers of /dev/full, which opens on this kernel, unlike a
// char 116 ALSA node) is registered through capture.extra_devices and
// counted by the syscall tracepoint tier; `arecord -D null` is counted by
// the libasound uprobe tier. The null PCM reads /dev/full inside
// snd_pcm_open, so with the 1:7 node registered one arecord is seen by two
// tiers, and must still count as one open (model/tier_dedup.h).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon.h"
#include "event_log.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::capture_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kOpens = "earshot_capture_opens_total";
constexpr const char* kActive = "earshot_capture_active";

// Every opens sample, for failure messages.
std::string all_opens(const MetricsScrape& scrape) {
  std::string all;
  for (const auto& sample : scrape.select(kOpens)) {
    all += "{process=" + sample.labels.at("process") + ", device=" + sample.labels.at("device") +
           "}=" + std::to_string(sample.value) + " ";
  }
  return all;
}

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF and makes device nodes";
    dir_.emplace("earshot-capture");
    node_ = dir_->file("es-mic");
    if (::mknod(node_.c_str(), S_IFCHR | 0600, makedev(1, 7)) != 0) {
      GTEST_SKIP() << "mknod " << node_ << " c 1 7: " << std::strerror(errno);
    }
    events_ = dir_->file("events.jsonl");
  }
  void TearDown() override {
    // A clean stop (under the asan build: no sanitizer report either).
    if (daemon_) {
      EXPECT_EQ(daemon_->stop(), 0);
    }
    if (HasFailure() && daemon_) std::cout << "daemon log:\n" << daemon_->log() << std::endl;
    daemon_.reset();  // before the directory holding the node and event file
  }

  void start_daemon(bool register_node) {
    std::string devices = register_node ? "[\"" + node_ + "\"]" : "[]";
    daemon_.emplace(DaemonOptions{
        .binary = kDaemon,
        .config_yaml = "harvest:\n  interval: 200ms\ncapture:\n  sysfs: false\n  extra_devices: " +
                       devices + "\nevents:\n  file: \"" + events_ + "\"\n"});
  }
  static bool arecord_runs() { return run_command({"arecord", "--version"}).exit_code == 0; }
  static CommandResult run_arecord() {
    return run_command({"arecord", "-D", "null", "-d", "1", "-q", "-t", "raw", "/dev/null"});
  }

  // A copy of the traffic tool named `es-mic-user` holding the node open.
  ChildProcess start_mic_user(const std::string& seconds, const std::string& linger_ms) {
    const std::string executable = dir_->copy_executable(kTool, "es-mic-user");
    return ChildProcess({executable, "--linger-ms", linger_ms, "open-device", node_, seconds});
  }
  Labels mic_user() const { return {{"process", "es-mic-user"}, {"device", node_}}; }

  std::optional<TempDir> dir_;
  std::string node_;
  std::string events_;
  std::optional<DaemonProcess> daemon_;
};

TEST_F(CaptureTest, OpenOfARegisteredNodeCountsOnceIsActiveWhileOpenAndEndsAtClose) {
  start_daemon(true);
  // Open for 2 s, then alive for 3 s more: the end must come from close(),
  // not from the process exit.
  ChildProcess user = start_mic_user("2", "3000");
  ASSERT_TRUE(user.wait_for_output("opened", 10s)) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kOpens, mic_user()) == 1 && s.sum(kActive, mic_user()) == 1;
      },
      1500ms))
      << "while open: " << all_opens(daemon_->last_scrape())
      << " active=" << daemon_->last_scrape().sum(kActive, mic_user());

  ASSERT_TRUE(user.wait_for_output("closed", 10s)) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, mic_user()) == 0; }, 2000ms))
      << "still active after close: " << daemon_->last_scrape().sum(kActive, mic_user());
  EXPECT_TRUE(user.running()) << "the program exited before the close was seen";
  EXPECT_EQ(daemon_->last_scrape().sum(kOpens, mic_user()), 1);
  EXPECT_TRUE(daemon_->last_scrape().has(kOpens, mic_user()));
  EXPECT_EQ(user.wait(10s), 0) << user.stderr_text();

  auto opens = select_events(read_event_lines(events_), "capture_open");
  auto mine = std::count_if(opens.begin(), opens.end(), [&](const nlohmann::json& e) {
    return e.value("process", "") == "es-mic-user" && e.value("device", "") == node_;
  });
  EXPECT_EQ(mine, 1) << read_text_file(events_);
  auto closes = select_events(read_event_lines(events_), "capture_close");
  EXPECT_TRUE(std::any_of(closes.begin(), closes.end(), [&](const nlohmann::json& e) {
    return e.value("process", "") == "es-mic-user";
  })) << read_text_file(events_);
}

TEST_F(CaptureTest, ProgramKilledWhileHoldingTheNodeOpenIsNoLongerActive) {
  start_daemon(true);
  ChildProcess user = start_mic_user("60", "0");
  ASSERT_TRUE(user.wait_for_output("opened", 10s)) << user.stderr_text();
  ASSERT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, mic_user()) == 1; }, 3s))
      << "never active: " << all_opens(daemon_->last_scrape());
  user.kill(SIGKILL);
  EXPECT_EQ(user.wait(5s), 128 + SIGKILL);
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, mic_user()) == 0; }, 3s))
      << "still active after SIGKILL: " << daemon_->last_scrape().sum(kActive, mic_user());
  EXPECT_EQ(daemon_->last_scrape().sum(kOpens, mic_user()), 1);
}

TEST_F(CaptureTest, ArecordOnTheNullPcmIsCountedThroughLibasound) {
  if (!arecord_runs()) GTEST_SKIP() << "arecord (alsa-utils) does not run here";
  // No node registered: only the libasound tier can see this capture.
  start_daemon(false);
  const Labels arecord{{"process", "arecord"}, {"device", "alsa:null"}};
  const double before = daemon_->scrape().sum(kOpens, arecord);
  auto result = run_arecord();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kOpens, arecord) == before + 1; }, 3s))
      << "before: " << before << "; opens now: " << all_opens(daemon_->last_scrape());
  EXPECT_TRUE(
      daemon_->wait_for([&](const MetricsScrape& s) { return s.sum(kActive, arecord) == 0; }, 3s))
      << "arecord exited but is still active";
  auto opens = select_events(read_event_lines(events_), "capture_open");
  EXPECT_TRUE(std::any_of(opens.begin(), opens.end(), [&](const nlohmann::json& e) {
    return e.value("process", "") == "arecord" && e.value("device", "") == "alsa:null" &&
           e.value("tier", "") == "libasound";
  })) << read_text_file(events_);
}

TEST_F(CaptureTest, ArecordSeenByTwoTiersCountsAsOneOpen) {
  if (!arecord_runs()) GTEST_SKIP() << "arecord (alsa-utils) does not run here";
  // The node has /dev/full's numbers, which the null PCM opens inside
  // snd_pcm_open: the openat tracepoint and the libasound uprobe both fire.
  start_daemon(true);
  const Labels arecord{{"process", "arecord"}};
  const double before = daemon_->scrape().sum(kOpens, arecord);
  auto result = run_arecord();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kOpens, arecord) >= before + 1; }, 3s))
      << "arecord's open was not counted: " << all_opens(daemon_->last_scrape());
  // Settle, then exactly one: a second tier must not add another.
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(daemon_->scrape().sum(kOpens, arecord), before + 1)
      << all_opens(daemon_->last_scrape());
  EXPECT_TRUE(
      daemon_->wait_for([&](const MetricsScrape& s) { return s.sum(kActive, arecord) == 0; }, 3s))
      << "arecord exited but is still active";
}

}  // namespace
}  // namespace earshot::test::capture_test
