#include "kernel/system_paths.h"

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace earshot::kernel {

namespace {
constexpr long kTracefsMagic = 0x74726163;
}

std::optional<std::filesystem::path> find_cgroup2_mount(const std::string& mountinfo_text) {
  // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
  std::istringstream lines(mountinfo_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point, word;
    fields >> id >> parent >> devno >> root >> mount_point;
    while (fields >> word && word != "-") {
    }
    std::string fstype;
    fields >> fstype;
    if (fstype == "cgroup2") return std::filesystem::path(mount_point);
  }
  return std::nullopt;
}

void ensure_tracefs() {
  struct statfs fs {};
  if (::statfs("/sys/kernel/tracing", &fs) == 0 && fs.f_type == kTracefsMagic) return;
  if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
    throw Error(
        fmt::format("cannot mount tracefs at /sys/kernel/tracing: {}", std::strerror(errno)));
  }
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::filesystem::path find_libasound() {
  static constexpr std::array kCandidates = {"/usr/lib/x86_64-linux-gnu/libasound.so.2",
                                             "/usr/lib/aarch64-linux-gnu/libasound.so.2",
                                             "/usr/lib/arm-linux-gnueabihf/libasound.so.2",
                                             "/lib/x86_64-linux-gnu/libasound.so.2",
                                             "/usr/lib64/libasound.so.2",
                                             "/usr/lib/libasound.so.2"};
  for (const char* candidate : kCandidates) {
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) return std::filesystem::canonical(candidate, ec);
  }
  return {};
}

std::filesystem::path find_library(std::string_view soname) {
  static constexpr std::array kDirectories = {"/usr/lib/x86_64-linux-gnu",
                                              "/usr/lib/aarch64-linux-gnu",
                                              "/usr/lib/arm-linux-gnueabihf",
                                              "/lib/x86_64-linux-gnu",
                                              "/lib/aarch64-linux-gnu",
                                              "/usr/lib64",
                                              "/usr/lib",
                                              "/lib"};
  for (const char* directory : kDirectories) {
    std::error_code ec;
    std::filesystem::path candidate = std::filesystem::path(directory) / soname;
    if (std::filesystem::exists(candidate, ec)) {
      std::filesystem::path file = std::filesystem::canonical(candidate, ec);
      if (!ec) return file;
    }
  }
  return {};
}

}  // namespace earshot::kernel
