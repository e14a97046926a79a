#pragma once
// A program started by a test, reaped by its owner: the destructor kills it
// (SIGKILL) and waits, so a failing assertion never leaves it running. The
// child also gets PR_SET_PDEATHSIG, so it dies with a crashed test.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "temp_dir.h"

namespace earshot::test {

struct ChildOptions {
  // Network namespace to enter in the child (setns on this path, e.g.
  // /var/run/netns/NAME) before exec; empty: stay in the test's namespace.
  // Deliberately not `ip netns exec`, which remounts /sys.
  std::string netns_path{};
  // Where stdout/stderr go; empty: a file in a private temp dir, readable
  // through stdout_text()/stderr_text().
  std::string stdout_path{};
  std::string stderr_path{};
  // "NAME=VALUE" entries added to (or replacing in) the test's environment.
  std::vector<std::string> environment{};
};

enum class Stream { out, err };

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no slash). Throws
  // earshot::Error when the namespace cannot be entered or exec fails.
  explicit ChildProcess(std::vector<std::string> argv, ChildOptions options = {});
  ~ChildProcess();
  ChildProcess(ChildProcess&&) noexcept = default;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Exit code, or 128 + signal number when a signal ended it; nullopt when
  // it is still running after timeout. Once it has returned a value, it
  // keeps returning it.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // wait(), but a timeout throws earshot::Error naming the command.
  int wait_or_throw(std::chrono::milliseconds timeout);
  bool running();
  // Sends a signal unless the process has already been reaped.
  void kill(int signal = 9);

  // Output captured so far (only when the options gave no path, or the
  // path is a regular file).
  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }
  // Polls the captured stream until it contains needle (for "ready" lines).
  // False on timeout or when the process exits without printing it.
  bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout,
                       Stream stream = Stream::out);

  // The command line, for failure messages.
  const std::string& command() const { return command_; }

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<int> exit_code_;
  std::optional<TempDir> output_dir_;
  std::string stdout_path_;
  std::string stderr_path_;
  std::string command_;
};

struct CommandResult {
  int exit_code = -1;  // as ChildProcess::wait
  std::string out;
  std::string err;
};

// Runs a command to completion (killed after timeout, which throws).
CommandResult run_command(const std::vector<std::string>& argv, const ChildOptions& options = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
// run_command, but a non-zero exit throws earshot::Error with the command
// line, exit code and stderr. Returns stdout.
std::string check_command(const std::vector<std::string>& argv, const ChildOptions& options = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace earshot::test
