#include "resolve/video_devices.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string_view>
#include <system_error>

#include "common/error.h"
#include "common/unique_fd.h"

namespace earshot::resolve {
namespace {

bool parse_unsigned(std::string_view text, unsigned& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// "video<N>" -> N; nullopt for vbi, radio, subdevices and other names.
std::optional<unsigned> video_number(std::string_view name) {
  if (!name.starts_with("video")) return std::nullopt;
  unsigned n = 0;
  if (!parse_unsigned(name.substr(5), n)) return std::nullopt;
  return n;
}

}  // namespace

bool captures_video(std::uint32_t caps) {
  constexpr std::uint32_t kCapture = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE;
  constexpr std::uint32_t kMem2Mem = V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE;
  return (caps & kCapture) != 0 && (caps & kMem2Mem) == 0;
}

std::vector<VideoDevice> scan_video_capture_devices(
    const VideoCapsQuery& caps, const std::filesystem::path& sysfs_class_video4linux) {
  std::vector<VideoDevice> devices;
  std::error_code ec;
  std::filesystem::directory_iterator it(sysfs_class_video4linux, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return devices;
    throw Error("cannot list " + sysfs_class_video4linux.string() + ": " + ec.message());
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!video_number(name)) continue;
    const std::filesystem::path dev_file = it->path() / "dev";
    std::ifstream in(dev_file);
    if (!in) continue;  // unplugged between listing and reading
    std::string text;
    std::getline(in, text);
    VideoDevice device{name, 0, 0};
    size_t colon = text.find(':');
    if (colon == std::string::npos ||
        !parse_unsigned(std::string_view(text).substr(0, colon), device.major) ||
        !parse_unsigned(std::string_view(text).substr(colon + 1), device.minor)) {
      throw Error(dev_file.string() + ": expected MAJOR:MINOR, got \"" + text + "\"");
    }
    auto reported = caps(device);
    if (reported && !captures_video(*reported)) continue;
    devices.push_back(std::move(device));
  }
  if (ec) throw Error("cannot list " + sysfs_class_video4linux.string() + ": " + ec.message());
  std::sort(devices.begin(), devices.end(), [](const VideoDevice& a, const VideoDevice& b) {
    return *video_number(a.name) < *video_number(b.name);
  });
  return devices;
}

std::optional<std::uint32_t> query_video_caps(const VideoDevice& device,
                                              const std::filesystem::path& dev_dir) {
  UniqueFd fd(::open((dev_dir / device.name).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return std::nullopt;
  v4l2_capability cap{};
  if (::ioctl(fd.get(), VIDIOC_QUERYCAP, &cap) != 0) return std::nullopt;
  return (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
}

}  // namespace earshot::resolve
