#include "resolve/proc_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"
#include "common/unique_fd.h"
#include "resolve/proc_parse.h"

namespace earshot::resolve {
namespace {

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

}  // namespace

ProcReader::ProcReader(std::filesystem::path proc_root)
    : proc_root_(std::move(proc_root)), ticks_per_second_(sysconf(_SC_CLK_TCK)) {
  if (ticks_per_second_ <= 0 || 1'000'000'000 % ticks_per_second_ != 0) {
    throw Error("sysconf(_SC_CLK_TCK) returned an unusable value: " +
                std::to_string(ticks_per_second_));
  }
}

std::optional<ProcessIdentity> ProcReader::read(uint32_t tgid, uint64_t expected_start_ns) const {
  const std::filesystem::path dir = proc_root_ / std::to_string(tgid);
  const uint64_t expected_ticks = start_ticks_from_ns(expected_start_ns, ticks_per_second_);

  auto read_stat = [&]() -> std::optional<ProcStat> {
    auto text = read_text(dir / "stat");
    if (!text) return std::nullopt;
    auto stat = parse_stat(*text);
    if (!stat || (expected_start_ns != 0 && stat->start_ticks != expected_ticks)) {
      return std::nullopt;
    }
    return stat;
  };

  auto stat = read_stat();
  if (!stat) return std::nullopt;

  ProcessIdentity identity;
  identity.comm = stat->comm;
  identity.start_ns = expected_start_ns != 0
                          ? expected_start_ns
                          : stat->start_ticks * (1'000'000'000 / ticks_per_second_);

  // Pin the process's root and executable first: a short-lived process
  // (arecord -D null) can exit while it is read, and the links in /proc go
  // with it, but files already open stay. The root goes after the
  // executable at exit, so if the root is gone the executable is too.
  UniqueFd root(::open((dir / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd exe_file(::open((dir / "exe").c_str(), O_PATH | O_CLOEXEC));
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink(
      exe_file ? std::filesystem::path("/proc/self/fd") / std::to_string(exe_file.get())
               : dir / "exe",
      ec);
  std::string exe_name = ec ? "" : exe_basename(exe.native());
  // comm counts only when it names a link to this very executable, seen from
  // the process's own root (arecord -> aplay): a process cannot rename itself
  // into another program's name.
  bool alias = false;
  if (root && exe_file && !exe_name.empty() && !stat->comm.empty() &&
      stat->comm.find('/') == std::string::npos) {
    std::filesystem::path alias_path = exe.relative_path().parent_path() / stat->comm;
    struct stat alias_stat {};
    struct stat exe_stat {};
    alias = ::fstatat(root.get(), alias_path.c_str(), &alias_stat, 0) == 0 &&
            ::fstat(exe_file.get(), &exe_stat) == 0 && alias_stat.st_dev == exe_stat.st_dev &&
            alias_stat.st_ino == exe_stat.st_ino;
  }
  identity.process = process_name(exe_name, stat->comm, alias);

  if (auto cgroup = read_text(dir / "cgroup")) identity.unit = unit_from_cgroup(*cgroup);

  // The process may have exited and its pid been reused while exe and cgroup
  // were read: a second look at the start time catches that.
  auto again = read_stat();
  if (!again || again->start_ticks != stat->start_ticks) return std::nullopt;
  return identity;
}

}  // namespace earshot::resolve
