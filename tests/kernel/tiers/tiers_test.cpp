// Kernel lane, on a host like the development machine: its kernel has no ALSA and refuses fentry
// and BPF LSM, so --check-config must name tiers 1, 2 and 5 unavailable with
// the reason and still exit 0, and the daemon must run on the lower tiers.
// The syscall tier (which slows every system call) attaches only when it has
// something to watch: here, a node of capture.extra_devices; nothing else
// of earshot uses a syscall tracepoint (accepted sockets' owners neither).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "daemon.h"
#include "hook_report.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::tiers_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kDaemon = EARSHOT_BINARY;

void require_root_and_no_alsa() {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF";
  if (std::filesystem::exists("/proc/asound"))
    GTEST_SKIP() << "this kernel has ALSA: the vm lane checks the kernel tiers attached";
}

// A node with /dev/full's numbers (which open on this kernel) as the
// microphone; the config lines that watch it. Empty if mknod failed.
std::string watch_microphone(TempDir& dir) {
  std::string node = dir.file("mic");
  if (::mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 7)) != 0) {
    ADD_FAILURE() << "mknod " << node << ": " << std::strerror(errno);
    return {};
  }
  return "capture:\n  sysfs: false\n  extra_devices: [\"" + node + "\"]\n";
}

CommandResult check_config(TempDir& dir, const std::string& yaml) {
  std::string config = dir.write_file("earshot.yaml", yaml);
  return run_command({kDaemon, "--config.file", config, "--check-config"}, {}, 60s);
}

TEST(TiersTest, CheckConfigNamesKernelTiersUnavailableWithTheReason) {
  require_root_and_no_alsa();
  TempDir dir("earshot-tiers");
  std::string watched = watch_microphone(dir);
  ASSERT_FALSE(watched.empty());
  auto result = check_config(dir, watched);
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
  std::string watched = watch_microphone(dir);
  ASSERT_FALSE(watched.empty());
  auto result = check_config(dir, watched + "  tiers: [syscalls]\n");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  auto hooks = printed_hooks(result.out);
  for (const char* hook : {"fentry_snd_pcm", "lsm_file_open", "procfs_poll", "uprobe_libasound",
                           "uprobe_libpulse", "uprobe_libpipewire"}) {
    SCOPED_TRACE(hook);
    EXPECT_FALSE(hooks[hook].attached);
    EXPECT_THAT(hooks[hook].detail, HasSubstr("capture.tiers"));
  }
  EXPECT_TRUE(hooks["tracepoint_open"].attached);
}

TEST(TiersTest, DaemonRunsOnTheRestAndExportsEachHook) {
  require_root_and_no_alsa();
  TempDir dir("earshot-tiers");
  std::string watched = watch_microphone(dir);
  ASSERT_FALSE(watched.empty());
  DaemonProcess daemon({kDaemon, "harvest:\n  interval: 200ms\n" + watched});
  auto scrape = daemon.scrape();
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "fentry_snd_pcm"}}), 0);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "lsm_file_open"}}), 0);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "procfs_poll"}}), 0);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "tracepoint_open"}}), 1);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "netfilter_ipv4"}}), 1);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// Nothing to watch (no ALSA here, no extra_devices): no syscall tracepoint
// for capture, whether sysfs watching is on or off.
TEST(TiersTest, SyscallTierStaysOutWithNothingToWatch) {
  require_root_and_no_alsa();
  TempDir dir("earshot-tiers");
  for (const char* yaml : {"capture:\n  sysfs: false\n", "capture:\n  sysfs: true\n"}) {
    SCOPED_TRACE(yaml);
    auto result = check_config(dir, yaml);
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    auto hooks = printed_hooks(result.out);
    for (const char* hook : {"tracepoint_open", "tracepoint_close", "tracepoint_read"}) {
      SCOPED_TRACE(hook);
      ASSERT_TRUE(hooks.count(hook)) << result.out;
      EXPECT_FALSE(hooks[hook].attached);
      EXPECT_THAT(hooks[hook].detail, HasSubstr("no capture device to watch"));
    }
  }
}

// The tracepoints the process's perf-event BPF links are attached to, as
// the kernel reports them (bpftool link show id N: "tracepoint").
std::vector<std::string> tracepoints_held_by(pid_t pid) {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
    std::ifstream fdinfo(entry.path());
    std::string line, link_type, link_id;
    while (std::getline(fdinfo, line)) {
      std::istringstream fields(line);
      std::string key, value;
      fields >> key >> value;
      if (key == "link_type:") link_type = value;
      if (key == "link_id:") link_id = value;
    }
    if (link_type != "perf" || link_id.empty()) continue;
    // bpftool 7.5 prints a perf_event link and then exits 255: what it
    // printed is what counts, and it must be the link asked for.
    auto shown = run_command({"bpftool", "link", "show", "id", link_id, "-j"}, {}, 10s);
    auto info = nlohmann::json::parse(shown.out, nullptr, false);
    if (!info.is_object() || info.value("id", 0) != std::stoi(link_id)) {
      ADD_FAILURE() << "bpftool link show id " << link_id << ": exit " << shown.exit_code << ", "
                    << shown.err << shown.out;
      continue;
    }
    if (info.contains("tracepoint")) names.push_back(info["tracepoint"].get<std::string>());
  }
  return names;
}

bool any_syscall_tracepoint(const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (name.rfind("sys_enter_", 0) == 0 || name.rfind("sys_exit_", 0) == 0) return true;
  return false;
}

// Any syscall tracepoint slows every system call of every process. With no
// microphone to watch the daemon holds none (accepted sockets' owners come
// from fexit or the netfilter program); watching one brings the syscall
// tier's, which shows the check sees them.
TEST(TiersTest, NoSyscallTracepointUnlessADeviceIsWatched) {
  require_root_and_no_alsa();
  if (run_command({"bpftool", "version"}).exit_code != 0) GTEST_SKIP() << "bpftool does not run";
  TempDir dir("earshot-tiers");
  {
    DaemonProcess daemon({kDaemon, "harvest:\n  interval: 200ms\ncapture:\n  sysfs: true\n"});
    auto names = tracepoints_held_by(daemon.pid());
    EXPECT_THAT(names, ::testing::Contains("sched_process_exit")) << "the check saw no tracepoint";
    EXPECT_FALSE(any_syscall_tracepoint(names)) << ::testing::PrintToString(names);
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  }
  std::string watched = watch_microphone(dir);
  ASSERT_FALSE(watched.empty());
  DaemonProcess daemon({kDaemon, "harvest:\n  interval: 200ms\n" + watched});
  auto names = tracepoints_held_by(daemon.pid());
  EXPECT_TRUE(any_syscall_tracepoint(names)) << ::testing::PrintToString(names);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace earshot::test::tiers_test
