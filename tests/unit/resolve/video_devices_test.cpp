#include "resolve/video_devices.h"

#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <map>

#include "common/error.h"
#include "temp_dir.h"

namespace earshot::resolve::video_devices_test {
namespace {

using earshot::test::TempDir;

constexpr std::uint32_t kCamera = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
constexpr std::uint32_t kMetadata = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;

TEST(CapturesVideo, CaptureNodesOnlyNotCodecsOrOutputs) {
  EXPECT_TRUE(captures_video(kCamera));
  EXPECT_TRUE(captures_video(V4L2_CAP_VIDEO_CAPTURE_MPLANE | V4L2_CAP_STREAMING));
  EXPECT_TRUE(captures_video(V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_READWRITE));
  EXPECT_FALSE(captures_video(kMetadata)) << "a UVC camera's second node";
  EXPECT_FALSE(captures_video(V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING));
  EXPECT_FALSE(captures_video(V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_VIDEO_CAPTURE_MPLANE))
      << "a codec captures what it was fed";
}

TEST(ScanVideoCaptureDevices, KeepsVideoNodesThatCapture) {
  TempDir sysfs;
  sysfs.write_file("video0/dev", "81:0\n");
  sysfs.write_file("video1/dev", "81:1\n");   // the camera's metadata node
  sysfs.write_file("video10/dev", "81:5\n");  // another camera, numbered after video2
  sysfs.write_file("video2/dev", "81:4\n");   // cannot be asked: kept
  sysfs.write_file("vbi0/dev", "81:2\n");
  sysfs.write_file("radio0/dev", "81:3\n");
  sysfs.write_file("v4l-subdev0/dev", "81:6\n");
  std::map<std::string, std::optional<std::uint32_t>> caps{
      {"video0", kCamera}, {"video1", kMetadata}, {"video10", kCamera}, {"video2", std::nullopt}};
  std::vector<std::string> asked;
  auto devices = scan_video_capture_devices(
      [&](const VideoDevice& d) {
        asked.push_back(d.name);
        return caps.at(d.name);
      },
      sysfs.path());
  std::vector<VideoDevice> expected{{"video0", 81, 0}, {"video2", 81, 4}, {"video10", 81, 5}};
  EXPECT_EQ(devices, expected);
  EXPECT_EQ(asked.size(), 4u) << "only videoN nodes are asked";
}

TEST(ScanVideoCaptureDevices, MissingDirectoryMeansNoV4l2) {
  TempDir sysfs;
  auto never = [](const VideoDevice&) -> std::optional<std::uint32_t> {
    ADD_FAILURE() << "nothing to ask";
    return std::nullopt;
  };
  EXPECT_TRUE(scan_video_capture_devices(never, sysfs.file("class/video4linux")).empty());
}

TEST(ScanVideoCaptureDevices, ABadDevFileIsAnError) {
  TempDir sysfs;
  sysfs.write_file("video0/dev", "eighty-one\n");
  auto camera = [](const VideoDevice&) -> std::optional<std::uint32_t> { return kCamera; };
  EXPECT_THROW(scan_video_capture_devices(camera, sysfs.path()), Error);
}

TEST(QueryVideoCaps, ANodeThatIsNotV4l2CannotBeAsked) {
  TempDir dev;
  dev.write_file("video0", "");
  EXPECT_EQ(query_video_caps({"video0", 81, 0}, dev.path()), std::nullopt);
  EXPECT_EQ(query_video_caps({"video9", 81, 9}, dev.path()), std::nullopt);
}

}  // namespace
}  // namespace earshot::resolve::video_devices_test
