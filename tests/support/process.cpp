#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/error.h"

extern char** environ;

namespace earshot::test {
namespace {

// What the child reports through the CLOEXEC pipe when it cannot exec.
struct ChildFailure {
  int stage;  // index into kStages
  int error;
};
constexpr const char* kStages[] = {"set parent-death signal", "enter network namespace",
                                   "redirect stdin/stdout/stderr", "exec"};

UniqueFd open_or_throw(const std::string& path, int flags, const char* what) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(std::string("cannot open ") + what + " " + path + ": " + std::strerror(errno));
  return UniqueFd(fd);
}

std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    bool replaced = false;
    for (const auto& override_entry : overrides) {
      auto name = override_entry.substr(0, override_entry.find('=') + 1);
      if (text.starts_with(name)) replaced = true;
    }
    if (!replaced) result.emplace_back(text);
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& text : strings) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

// Raw system calls: glibc 2.36's <sys/pidfd.h> lacks extern "C".
int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
int send_signal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Only async-signal-safe calls from here to exec: the test may have threads.
[[noreturn]] void run_child(int error_pipe, pid_t parent, int netns_fd, int stdin_fd, int stdout_fd,
                            int stderr_fd, char** argv, char** envp) {
  auto fail = [error_pipe](int stage) {
    ChildFailure failure{stage, errno};
    [[maybe_unused]] auto ignored = ::write(error_pipe, &failure, sizeof failure);
    ::_exit(127);
  };
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(0);
  if (::getppid() != parent) ::_exit(127);  // the test died before prctl
  if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) fail(1);
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) fail(2);
  ::execvpe(argv[0], argv, envp);
  fail(3);
  ::_exit(127);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, ChildOptions options) {
  if (argv.empty()) throw Error("ChildProcess: empty command line");
  for (const auto& word : argv) command_ += (command_.empty() ? "" : " ") + word;

  stdout_path_ = options.stdout_path;
  stderr_path_ = options.stderr_path;
  if (stdout_path_.empty() || stderr_path_.empty()) {
    output_dir_.emplace("earshot-child");
    if (stdout_path_.empty()) stdout_path_ = output_dir_->file("stdout");
    if (stderr_path_.empty()) stderr_path_ = output_dir_->file("stderr");
  }
  UniqueFd stdin_fd = open_or_throw("/dev/null", O_RDONLY, "stdin");
  UniqueFd stdout_fd = open_or_throw(stdout_path_, O_WRONLY | O_CREAT | O_TRUNC, "stdout file");
  UniqueFd stderr_fd = open_or_throw(stderr_path_, O_WRONLY | O_CREAT | O_TRUNC, "stderr file");
  UniqueFd netns_fd;
  if (!options.netns_path.empty()) {
    netns_fd = open_or_throw(options.netns_path, O_RDONLY, "network namespace");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error(std::string("pipe2: ") + std::strerror(errno));
  UniqueFd error_read(pipe_fds[0]);
  UniqueFd error_write(pipe_fds[1]);

  std::vector<std::string> environment = merged_environment(options.environment);
  std::vector<char*> argv_pointers = pointers_to(argv);
  std::vector<char*> env_pointers = pointers_to(environment);

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw Error("fork for " + command_ + ": " + std::strerror(errno));
  if (pid == 0) {
    run_child(error_write.get(), parent, netns_fd.get(), stdin_fd.get(), stdout_fd.get(),
              stderr_fd.get(), argv_pointers.data(), env_pointers.data());
  }
  pid_ = pid;
  int pidfd = open_pidfd(pid);
  if (pidfd < 0) {
    int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw Error(std::string("pidfd_open: ") + std::strerror(error));
  }
  pidfd_.reset(pidfd);
  error_write.reset();

  ChildFailure failure{};
  ssize_t got;
  do {
    got = ::read(error_read.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    wait(std::chrono::seconds(5));
    pidfd_.reset();
    throw Error("cannot start " + command_ + ": " + kStages[failure.stage] +
                (options.netns_path.empty() ? "" : " (" + options.netns_path + ")") + ": " +
                std::strerror(failure.error));
  }
}

ChildProcess::~ChildProcess() {
  if (!pidfd_ || exit_code_) return;
  kill(SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_code_ || !pidfd_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{pidfd_.get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (polled < 0 && errno == EINTR) continue;
    if (polled <= 0) return std::nullopt;
    int status = 0;
    pid_t reaped = ::waitpid(pid_, &status, 0);
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped != pid_) throw Error("waitpid for " + command_ + ": " + std::strerror(errno));
    exit_code_ = decode_status(status);
    return exit_code_;
  }
}

int ChildProcess::wait_or_throw(std::chrono::milliseconds timeout) {
  auto code = wait(timeout);
  if (!code) {
    throw Error(command_ + " still running after " + std::to_string(timeout.count()) +
                " ms; stderr: " + stderr_text());
  }
  return *code;
}

bool ChildProcess::running() {
  return !wait(std::chrono::milliseconds(0)).has_value();
}

void ChildProcess::kill(int signal) {
  if (!pidfd_ || exit_code_) return;
  send_signal(pidfd_.get(), signal);
}

std::string ChildProcess::stdout_text() const {
  return read_text_file(stdout_path_);
}
std::string ChildProcess::stderr_text() const {
  return read_text_file(stderr_path_);
}

bool ChildProcess::wait_for_output(std::string_view needle, std::chrono::milliseconds timeout,
                                   Stream stream) {
  const std::string& path = stream == Stream::out ? stdout_path_ : stderr_path_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    bool exited = !running();  // read after checking, so a final line is not missed
    if (read_text_file(path).find(needle) != std::string::npos) return true;
    if (exited || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

CommandResult run_command(const std::vector<std::string>& argv, const ChildOptions& options,
                          std::chrono::milliseconds timeout) {
  ChildProcess child(argv, options);
  CommandResult result;
  result.exit_code = child.wait_or_throw(timeout);
  result.out = child.stdout_text();
  result.err = child.stderr_text();
  return result;
}

std::string check_command(const std::vector<std::string>& argv, const ChildOptions& options,
                          std::chrono::milliseconds timeout) {
  CommandResult result = run_command(argv, options, timeout);
  if (result.exit_code != 0) {
    std::string line;
    for (const auto& word : argv) line += (line.empty() ? "" : " ") + word;
    throw Error(line + " exited with " + std::to_string(result.exit_code) + ": " + result.err);
  }
  return result.out;
}

}  // namespace earshot::test
