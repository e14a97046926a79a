#include "app/devices.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "resolve/sound_devices.h"
#include "resolve/video_devices.h"

namespace earshot::app {

namespace {

void add_extra(std::map<std::uint32_t, std::string>& out, const config::SourcePath& extra,
               std::string_view key) {
  struct stat st {};
  if (::stat(extra.path.c_str(), &st) != 0)
    throw Error(fmt::format("capture.{}: {}: {}", key, extra.path, std::strerror(errno)));
  if (!S_ISCHR(st.st_mode))
    throw Error(fmt::format("capture.{}: {} is not a character device", key, extra.path));
  out[resolve::kernel_dev_from_rdev(st.st_rdev)] = extra.path;
}

}  // namespace

std::map<std::uint32_t, std::string> watched_devices(const config::CaptureConfig& capture) {
  std::map<std::uint32_t, std::string> out;
  if (capture.sysfs) {
    for (const auto& d : resolve::scan_capture_devices())
      out.emplace(resolve::kernel_dev(d.major, d.minor), d.name);
  }
  for (const auto& extra : capture.extra_devices) add_extra(out, extra, "extra_devices");
  return out;
}

std::map<std::uint32_t, std::string> watched_cameras(const config::CaptureConfig& capture) {
  std::map<std::uint32_t, std::string> out;
  if (capture.cameras) {
    auto query = [](const resolve::VideoDevice& d) { return resolve::query_video_caps(d); };
    for (const auto& d : resolve::scan_video_capture_devices(query))
      out.emplace(resolve::kernel_dev(d.major, d.minor), d.name);
  }
  for (const auto& extra : capture.extra_cameras) add_extra(out, extra, "extra_cameras");
  return out;
}

}  // namespace earshot::app
