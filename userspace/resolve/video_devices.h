#pragma once
// The V4L2 capture nodes (cameras) of this host, from sysfs, like the ALSA
// nodes (resolve/sound_devices.h). /sys/class/video4linux lists every V4L2
// node (video, vbi, radio, swradio, v4l-touch, v4l-subdev); a camera is a
// videoN node whose device capabilities (VIDIOC_QUERYCAP) say it captures
// video. A camera driver also makes videoN nodes that do not (metadata,
// output): only the capture ones are watched.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace earshot::resolve {

struct VideoDevice {
  std::string name;  // "video0", as in /dev/
  unsigned major = 0;
  unsigned minor = 0;

  bool operator==(const VideoDevice&) const = default;
};

// The capabilities a node reports (struct v4l2_capability: device_caps when
// it sets V4L2_CAP_DEVICE_CAPS, else capabilities); nullopt when the node
// cannot be asked (cannot be opened, or the ioctl failed).
using VideoCapsQuery = std::function<std::optional<std::uint32_t>(const VideoDevice&)>;

// True for capabilities of a node that captures video (single- or
// multi-planar). A mem2mem node (a codec, a scaler) captures only what it
// was fed: not a camera.
bool captures_video(std::uint32_t caps);

// videoN nodes under sysfs_class_video4linux whose capabilities say they
// capture video, sorted by number. A node whose capabilities cannot be read
// is kept: it may be a camera earshot cannot open now. A missing directory
// means a host without V4L2: no devices, not an error. Throws
// earshot::Error when a node's `dev` file is not "MAJOR:MINOR".
std::vector<VideoDevice> scan_video_capture_devices(
    const VideoCapsQuery& caps,
    const std::filesystem::path& sysfs_class_video4linux = "/sys/class/video4linux");

// Asks /dev/<name> (or dev_dir/<name>) with VIDIOC_QUERYCAP, opened
// read-only and non-blocking.
std::optional<std::uint32_t> query_video_caps(const VideoDevice& device,
                                              const std::filesystem::path& dev_dir = "/dev");

}  // namespace earshot::resolve
