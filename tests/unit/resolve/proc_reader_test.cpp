#include "resolve/proc_reader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "resolve/proc_parse.h"
#include "temp_dir.h"

namespace earshot::resolve::proc_reader_test {
namespace {

using earshot::test::TempDir;

uint64_t ns_per_tick() {
  return 1'000'000'000 / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
}

std::string stat_line(uint32_t pid, std::string_view comm, uint64_t starttime) {
  return std::to_string(pid) + " (" + std::string(comm) + ") S 1 1 1 0 -1 4194560 1 0 0 0 0 0 " +
         "0 0 20 0 1 0 " + std::to_string(starttime) + " 1000 10 18446744073709551615 0 0 0 0\n";
}

class FakeProc : public ::testing::Test {
 protected:
  void add_process(uint32_t pid, std::string_view comm, uint64_t starttime, std::string_view cgroup,
                   const char* exe_target) {
    const std::string dir = std::to_string(pid);
    proc_.write_file(dir + "/stat", stat_line(pid, comm, starttime));
    proc_.write_file(dir + "/cgroup", cgroup);
    if (exe_target != nullptr) {
      std::filesystem::create_symlink(exe_target, proc_.file(dir + "/exe"));
    }
  }

  TempDir proc_;
};

TEST_F(FakeProc, ReadsIdentityWhenStartTimeMatches) {
  add_process(4242, "avahi-daemon: r", 5000, "0::/system.slice/avahi-daemon.service\n",
              "/usr/sbin/avahi-daemon");
  ProcReader reader(proc_.path());
  // Any ns inside the tick BPF saw maps to the same starttime.
  for (uint64_t start_ns : {5000 * ns_per_tick(), 5000 * ns_per_tick() + ns_per_tick() - 1}) {
    auto identity = reader.read(4242, start_ns);
    ASSERT_TRUE(identity) << start_ns;
    EXPECT_EQ(identity->process, "avahi-daemon");
    EXPECT_EQ(identity->unit, "avahi-daemon.service");
    EXPECT_EQ(identity->comm, "avahi-daemon: r");
    EXPECT_EQ(identity->start_ns, start_ns);
  }
}

TEST_F(FakeProc, UnknownStartTimeTakesWhateverHasThePid) {
  add_process(7, "sh", 123, "0::/user.slice/user-1000.slice/session-3.scope\n", "/usr/bin/dash");
  auto identity = ProcReader(proc_.path()).read(7, 0);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->process, "dash");
  EXPECT_EQ(identity->unit, "session-3.scope");
  EXPECT_EQ(identity->start_ns, 123 * ns_per_tick());
}

TEST_F(FakeProc, ReusedPidIsNotFound) {
  // The pid now belongs to a process that started one tick later.
  add_process(4242, "newcomer", 5001, "0::/system.slice/other.service\n", "/usr/bin/newcomer");
  ProcReader reader(proc_.path());
  EXPECT_FALSE(reader.read(4242, 5000 * ns_per_tick()));
  EXPECT_FALSE(reader.read(4242, 5002 * ns_per_tick()));
  EXPECT_TRUE(reader.read(4242, 5001 * ns_per_tick()));
}

TEST_F(FakeProc, MissingPidIsNotFound) {
  EXPECT_FALSE(ProcReader(proc_.path()).read(99, 0));
  EXPECT_FALSE(ProcReader(proc_.file("no-such-proc")).read(1, 0));
}

TEST_F(FakeProc, UnreadableExeFallsBackToComm) {
  add_process(2, "kworker/0:1", 1, "0::/\n", nullptr);  // kernel threads have no exe
  auto identity = ProcReader(proc_.path()).read(2, 0);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->process, "kworker/0:1");
  EXPECT_EQ(identity->unit, "");
}

TEST_F(FakeProc, DeletedExeAndHostileComm) {
  add_process(300, "a) b (c", 9, "0::/system.slice/docker-0123456789abcdef0123.scope\n",
              "/usr/lib/voice/assistant (deleted)");
  auto identity = ProcReader(proc_.path()).read(300, 9 * ns_per_tick());
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->process, "assistant");
  EXPECT_EQ(identity->comm, "a) b (c");
  EXPECT_EQ(identity->unit, "docker:0123456789ab");
}

TEST_F(FakeProc, MissingCgroupLeavesUnitEmpty) {
  add_process(5, "x", 1, "", "/bin/x");
  std::filesystem::remove(proc_.file("5/cgroup"));
  auto identity = ProcReader(proc_.path()).read(5, 0);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->process, "x");
  EXPECT_EQ(identity->unit, "");
}

// /bin/sh is a link to dash on Debian: run as `sh`, the process is "sh"
// (comm names a link to its own executable), not "dash".
TEST(RealProc, NameOfALinkedProgramIsTheLink) {
  if (!std::filesystem::exists("/usr/bin/sh") || !std::filesystem::is_symlink("/usr/bin/sh"))
    GTEST_SKIP() << "/usr/bin/sh is not a link here";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/usr/bin/sh", "sh", "-c",
          "sleep 5 </dev/null >/dev/null 2>&1; :", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::optional<ProcessIdentity> identity;
  for (int i = 0; i < 50 && (!identity || identity->comm != "sh"); ++i) {
    usleep(10000);
    identity = ProcReader().read(child, 0);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->process, "sh");
}

TEST(RealProc, ReadsThisProcess) {
  std::ifstream in("/proc/self/stat");
  std::stringstream text;
  text << in.rdbuf();
  auto self = parse_stat(text.str());
  ASSERT_TRUE(self);
  const uint64_t start_ns = self->start_ticks * ns_per_tick();

  ProcReader reader;
  auto identity = reader.read(static_cast<uint32_t>(getpid()), start_ns);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->process, program_invocation_short_name);
  EXPECT_EQ(identity->comm, std::string(program_invocation_short_name).substr(0, 15));
  EXPECT_FALSE(reader.read(static_cast<uint32_t>(getpid()), start_ns + ns_per_tick()));
}

}  // namespace
}  // namespace earshot::resolve::proc_reader_test
