#include "process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "common/error.h"

namespace earshot::test::process_test {
namespace {

using namespace std::chrono_literals;

TEST(ChildProcess, ReportsExitCodesAndCapturesOutput) {
  ChildProcess echo({"echo", "hello"});
  EXPECT_GT(echo.pid(), 0);
  EXPECT_EQ(echo.wait(5s), 0);
  EXPECT_EQ(echo.stdout_text(), "hello\n");
  EXPECT_EQ(echo.wait(0ms), 0) << "the exit code stays once reaped";

  ChildProcess failing({"false"});
  EXPECT_EQ(failing.wait(5s), 1);
}

TEST(ChildProcess, TimesOutThenKills) {
  ChildProcess sleeper({"sleep", "30"});
  EXPECT_EQ(sleeper.wait(50ms), std::nullopt);
  EXPECT_TRUE(sleeper.running());
  sleeper.kill(SIGTERM);
  EXPECT_EQ(sleeper.wait(5s), 128 + SIGTERM);
  EXPECT_FALSE(sleeper.running());
}

TEST(ChildProcess, DestructorKillsAndReaps) {
  pid_t pid;
  {
    ChildProcess sleeper({"sleep", "30"});
    pid = sleeper.pid();
  }
  // Reaped: our pid is no child of ours any more.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcess, ThrowsWhenExecFails) {
  try {
    ChildProcess missing({"/nonexistent/earshot-no-such-program"});
    ADD_FAILURE() << "started";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("exec"), std::string::npos) << error.what();
  }
}

TEST(ChildProcess, ThrowsWhenTheNamespaceIsMissing) {
  EXPECT_THROW(ChildProcess({"true"}, {.netns_path = "/nonexistent/netns"}), Error);
}

TEST(ChildProcess, PassesEnvironmentAndWaitsForOutput) {
  ChildProcess printer({"printenv", "EARSHOT_TEST_VALUE"},
                       {.environment = {"EARSHOT_TEST_VALUE=forty two"}});
  EXPECT_TRUE(printer.wait_for_output("forty two", 5s));
  EXPECT_FALSE(printer.wait_for_output("never printed", 5s)) << "returns once the child exits";
}

TEST(RunCommand, ThrowsWithStderrOnFailure) {
  EXPECT_EQ(check_command({"echo", "ok"}), "ok\n");
  try {
    check_command({"ls", "/nonexistent/earshot"});
    ADD_FAILURE() << "no throw";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("ls /nonexistent/earshot exited with 2"), std::string::npos) << message;
    EXPECT_NE(message.find("No such file"), std::string::npos) << message;
  }
  EXPECT_THROW(run_command({"sleep", "30"}, {}, 50ms), Error);
}

}  // namespace
}  // namespace earshot::test::process_test
