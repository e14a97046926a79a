#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "traffic.h"

namespace earshot::traffic {

UniqueFd open_capture(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open " + path);
  return fd;
}

int open_device(const Common& common, const std::string& path, double seconds,
                std::uint64_t read_bytes_per_second) {
  say("ready");
  wait_for_go(common);
  UniqueFd fd = open_capture(path);
  say("opened");
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::uint64_t total = 0;
  if (read_bytes_per_second == 0) {
    std::this_thread::sleep_until(end);
  } else {
    // Read in ten slices a second, keeping the average rate.
    std::vector<char> buffer(std::max<std::uint64_t>(read_bytes_per_second / 10, 1));
    auto tick = std::chrono::milliseconds(100);
    for (auto next = start; next < end; next += tick) {
      std::this_thread::sleep_until(next);
      ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
      if (got < 0 && errno != EINTR) throw_errno("read " + path);
      if (got > 0) total += static_cast<std::uint64_t>(got);
    }
    std::this_thread::sleep_until(end);
  }
  fd.reset();
  say("closed read_bytes=" + std::to_string(total));
  return 0;
}

}  // namespace earshot::traffic
