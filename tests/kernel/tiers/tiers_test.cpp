// Issue 4 on the development host: its kernel has no ALSA and refuses fentry
// and BPF LSM, so --check-config must name tiers 1, 2 and 5 unavailable with
// the reason and still exit 0, and the daemon must run on the lower tiers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include "daemon.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kDaemon = EARSHOT_BINARY;

struct HookLine {
  bool attached = false;
  std::string detail;
};

std::map<std::string, HookLine> printed_hooks(const std::string& out) {
  std::map<std::string, HookLine> hooks;
  std::istringstream lines(out);
  static const std::regex hook_line(R"(^\s+(\S+)\s+(attached|NOT attached)\s*(.*)$)");
  bool in_hooks = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "hooks:") {
      in_hooks = true;
      continue;
    }
    if (!in_hooks) continue;
    if (line.empty() || line[0] != ' ') break;
    std::smatch m;
    if (std::regex_match(line, m, hook_line)) hooks[m[1]] = {m[2] == "attached", m[3]};
  }
  return hooks;
}

void require_root_and_no_alsa() {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF";
  if (std::filesystem::exists("/proc/asound"))
    GTEST_SKIP() << "this kernel has ALSA: the vm lane checks the kernel tiers attached";
}

CommandResult check_config(TempDir& dir, const std::string& yaml) {
  std::string config = dir.write_file("earshot.yaml", yaml);
  return run_command({kDaemon, "--config.file", config, "--check-config"}, {}, 60s);
}

TEST(TiersTest, CheckConfigNamesKernelTiersUnavailableWithTheReason) {
  require_root_and_no_alsa();
  TempDir dir("earshot-tiers");
  auto result = check_config(dir, "capture:\n  sysfs: false\n");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  auto hooks = printed_hooks(result.out);
  for (const char* hook :
       {"fentry_snd_pcm", "fexit_snd_pcm_xfer", "lsm_file_open", "lsm_file_ioctl", "procfs_poll"}) {
    SCOPED_TRACE(hook);
    ASSERT_TRUE(hooks.count(hook)) << result.out;
    EXPECT_FALSE(hooks[hook].attached);
    EXPECT_FALSE(hooks[hook].detail.empty()) << "no reason given";
  }
  EXPECT_THAT(hooks["fentry_snd_pcm"].detail, HasSubstr("snd_pcm"));
  EXPECT_THAT(hooks["procfs_poll"].detail, HasSubstr("/proc/asound"));
  // The lower tiers are what runs here.
  EXPECT_TRUE(hooks["tracepoint_open"].attached) << result.out;
}

TEST(TiersTest, DisabledTiersSaySo) {
  require_root_and_no_alsa();
  TempDir dir("earshot-tiers");
  auto result = check_config(dir, "capture:\n  sysfs: false\n  tiers: [syscalls]\n");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  auto hooks = printed_hooks(result.out);
  for (const char* hook : {"fentry_snd_pcm", "lsm_file_open", "procfs_poll", "uprobe_libasound"}) {
    SCOPED_TRACE(hook);
    EXPECT_FALSE(hooks[hook].attached);
    EXPECT_THAT(hooks[hook].detail, HasSubstr("capture.tiers"));
  }
  EXPECT_TRUE(hooks["tracepoint_open"].attached);
}

TEST(TiersTest, DaemonRunsOnTheRestAndExportsEachHook) {
  require_root_and_no_alsa();
  DaemonProcess daemon({kDaemon, "harvest:\n  interval: 200ms\ncapture:\n  sysfs: false\n"});
  auto scrape = daemon.scrape();
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "fentry_snd_pcm"}}), 0);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "lsm_file_open"}}), 0);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "procfs_poll"}}), 0);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "tracepoint_open"}}), 1);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "netfilter_ipv4"}}), 1);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace earshot::test
