// Issue 2, kernel lane: capture opens seen by the real daemon. A node made
// with mknod (numbers of /dev/full, which opens on this kernel, unlike a
// char 116 ALSA node) is registered through capture.extra_devices and
// counted by the syscall tracepoint tier; `arecord -D null` is counted by
// the libasound uprobe tier.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kOpens = "earshot_capture_opens_total";
constexpr const char* kActive = "earshot_capture_active";

// Every JSON line of the event file whose "event" is kind.
std::vector<nlohmann::json> events_of_kind(const std::string& path, const std::string& kind) {
  std::vector<nlohmann::json> found;
  std::istringstream lines(read_text_file(path));
  std::string line;
  while (std::getline(lines, line)) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_discarded() && event.is_object() && event.value("event", "") == kind) {
      found.push_back(event);
    }
  }
  return found;
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
    daemon_.emplace(DaemonOptions{.binary = kDaemon,
                                  .config_yaml = "harvest:\n  interval: 200ms\n"
                                                 "capture:\n  sysfs: false\n"
                                                 "  extra_devices: [\"" +
                                                 node_ + "\"]\nevents:\n  file: \"" + events_ +
                                                 "\"\n"});
  }
  void TearDown() override {
    if (HasFailure() && daemon_) std::cout << "daemon log:\n" << daemon_->log() << std::endl;
    daemon_.reset();  // before the directory holding the node and event file
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
  // Open for 2 s, then alive for 3 s more: the end must come from close(),
  // not from the process exit.
  ChildProcess user = start_mic_user("2", "3000");
  ASSERT_TRUE(user.wait_for_output("opened", 10s)) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kOpens, mic_user()) == 1 && s.sum(kActive, mic_user()) == 1;
      },
      1500ms))
      << "while open: opens=" << daemon_->last_scrape().sum(kOpens, mic_user())
      << " active=" << daemon_->last_scrape().sum(kActive, mic_user());

  ASSERT_TRUE(user.wait_for_output("closed", 10s)) << user.stderr_text();
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, mic_user()) == 0; }, 2000ms))
      << "still active after close: " << daemon_->last_scrape().sum(kActive, mic_user());
  EXPECT_TRUE(user.running()) << "the program exited before the close was seen";
  EXPECT_EQ(daemon_->last_scrape().sum(kOpens, mic_user()), 1);
  EXPECT_TRUE(daemon_->last_scrape().has(kOpens, mic_user()));
  EXPECT_EQ(user.wait(10s), 0) << user.stderr_text();

  auto opens = events_of_kind(events_, "capture_open");
  auto mine = std::count_if(opens.begin(), opens.end(), [&](const nlohmann::json& e) {
    return e.value("process", "") == "es-mic-user" && e.value("device", "") == node_;
  });
  EXPECT_EQ(mine, 1) << read_text_file(events_);
  auto closes = events_of_kind(events_, "capture_close");
  EXPECT_TRUE(std::any_of(closes.begin(), closes.end(), [&](const nlohmann::json& e) {
    return e.value("process", "") == "es-mic-user";
  })) << read_text_file(events_);
}

TEST_F(CaptureTest, ProgramKilledWhileHoldingTheNodeOpenIsNoLongerActive) {
  ChildProcess user = start_mic_user("60", "0");
  ASSERT_TRUE(user.wait_for_output("opened", 10s)) << user.stderr_text();
  ASSERT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, mic_user()) == 1; }, 3s))
      << "never active: " << daemon_->last_scrape().sum(kActive, mic_user());
  user.kill(SIGKILL);
  EXPECT_EQ(user.wait(5s), 128 + SIGKILL);
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kActive, mic_user()) == 0; }, 3s))
      << "still active after SIGKILL: " << daemon_->last_scrape().sum(kActive, mic_user());
  EXPECT_EQ(daemon_->last_scrape().sum(kOpens, mic_user()), 1);
}

TEST_F(CaptureTest, ArecordOnTheNullPcmIsCountedThroughLibasound) {
  if (run_command({"arecord", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "arecord (alsa-utils) does not run here";
  }
  const Labels arecord{{"process", "arecord"}, {"device", "alsa:null"}};
  const double before = daemon_->scrape().sum(kOpens, arecord);
  auto result = run_command({"arecord", "-D", "null", "-d", "1", "-q", "-t", "raw", "/dev/null"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(daemon_->wait_for(
      [&](const MetricsScrape& s) { return s.sum(kOpens, arecord) == before + 1; }, 3s))
      << "opens by arecord on alsa:null: " << daemon_->last_scrape().sum(kOpens, arecord)
      << " (before: " << before << "); processes with opens: " << [&] {
           std::string names;
           for (const auto& name : daemon_->last_scrape().label_values(kOpens, "process"))
             names += name + " ";
           return names;
         }();
  EXPECT_TRUE(
      daemon_->wait_for([&](const MetricsScrape& s) { return s.sum(kActive, arecord) == 0; }, 3s))
      << "arecord exited but is still active";
}

}  // namespace
}  // namespace earshot::test
