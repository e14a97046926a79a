#include "resolve/sound_devices.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/error.h"
#include "temp_dir.h"

namespace earshot::resolve::sound_devices_test {
namespace {

using earshot::test::TempDir;

TEST(ScanCaptureDevices, KeepsOnlyCaptureNodes) {
  TempDir sysfs;
  sysfs.write_file("pcmC0D0c/dev", "116:24\n");
  sysfs.write_file("pcmC0D0p/dev", "116:16\n");
  sysfs.write_file("pcmC1D3c/dev", "116:7\n");  // dynamic minor: not derivable from card/device
  sysfs.write_file("pcmC10D0c/dev", "116:2\n");
  sysfs.write_file("controlC0/dev", "116:0\n");
  sysfs.write_file("timer/dev", "116:33\n");
  sysfs.write_file("seq/dev", "116:1\n");
  sysfs.write_file("hwC0D0/dev", "116:9\n");
  sysfs.write_file("pcmCxD0c/dev", "116:3\n");  // not a PCM name

  auto devices = scan_capture_devices(sysfs.path());
  std::vector<SoundDevice> expected{
      {"pcmC0D0c", 0, 0, 116, 24},
      {"pcmC1D3c", 1, 3, 116, 7},
      {"pcmC10D0c", 10, 0, 116, 2},
  };
  EXPECT_EQ(devices, expected);
}

TEST(ScanCaptureDevices, MissingDirectoryMeansNoAlsa) {
  TempDir sysfs;
  EXPECT_TRUE(scan_capture_devices(sysfs.file("class/sound")).empty());
  EXPECT_TRUE(scan_capture_devices(sysfs.path()).empty());
}

TEST(ScanCaptureDevices, NodeWithoutDevFileIsSkipped) {
  TempDir sysfs;
  std::filesystem::create_directories(sysfs.file("pcmC0D0c"));
  sysfs.write_file("pcmC0D1c/dev", "116:25\n");
  auto devices = scan_capture_devices(sysfs.path());
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].name, "pcmC0D1c");
}

TEST(ScanCaptureDevices, MalformedDevFileNamesThePath) {
  TempDir sysfs;
  sysfs.write_file("pcmC0D0c/dev", "116-24\n");
  try {
    scan_capture_devices(sysfs.path());
    FAIL() << "expected earshot::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pcmC0D0c/dev"), std::string::npos) << e.what();
  }
}

TEST(KernelDev, MatchesMkdev) {
  EXPECT_EQ(kernel_dev(116, 24), 0x07400018u);
  EXPECT_EQ(kernel_dev(1, 3), 0x00100003u);
  EXPECT_EQ(kernel_dev(116, 300), (116u << 20) + 300u);
}

TEST(KernelDev, FromUserspaceRdev) {
  // glibc's dev_t encoding differs from the kernel's once minor > 255.
  EXPECT_EQ(kernel_dev_from_rdev(makedev(116, 300)), kernel_dev(116, 300));
  EXPECT_EQ(kernel_dev_from_rdev(makedev(116, 24)), 0x07400018u);
  struct stat null_stat {};
  ASSERT_EQ(stat("/dev/null", &null_stat), 0);
  EXPECT_EQ(kernel_dev_from_rdev(null_stat.st_rdev), kernel_dev(1, 3));
}

}  // namespace
}  // namespace earshot::resolve::sound_devices_test
