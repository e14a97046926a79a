#include "app/devices.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "resolve/sound_devices.h"

namespace earshot::app {

std::map<std::uint32_t, std::string> watched_devices(const config::CaptureConfig& capture) {
  std::map<std::uint32_t, std::string> out;
  if (capture.sysfs) {
    for (const auto& d : resolve::scan_capture_devices())
      out.emplace(resolve::kernel_dev(d.major, d.minor), d.name);
  }
  for (const auto& extra : capture.extra_devices) {
    struct stat st {};
    if (::stat(extra.path.c_str(), &st) != 0)
      throw Error(fmt::format("capture.extra_devices: {}: {}", extra.path, std::strerror(errno)));
    if (!S_ISCHR(st.st_mode))
      throw Error(fmt::format("capture.extra_devices: {} is not a character device", extra.path));
    out[resolve::kernel_dev_from_rdev(st.st_rdev)] = extra.path;
  }
  return out;
}

}  // namespace earshot::app
