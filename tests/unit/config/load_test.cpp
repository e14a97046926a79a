// check_paths() and load_file(): the stat() checks of the paths a config
// names, and reading the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "config/config.h"
#include "temp_dir.h"

namespace earshot::config::load_test {
namespace {

using earshot::test::TempDir;
using ::testing::HasSubstr;

std::string check_error(const std::string& yaml) {
  const Config config = parse(yaml, "earshot.yaml");
  try {
    check_paths(config, "earshot.yaml");
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return "";
}

TEST(CheckPaths, CharacterDevicePasses) {
  const Config config = parse("capture:\n  extra_devices: [/dev/null]\n", "earshot.yaml");
  EXPECT_NO_THROW(check_paths(config, "earshot.yaml"));
}

TEST(CheckPaths, MissingDeviceNamesItsEntry) {
  EXPECT_EQ(check_error(R"(web:
  listen_address: ":0"
log:
  level: info
capture:
  sysfs: true
  extra_devices:
    - /dev/null
    - /dev/earshot-test-nope
)"),
            "earshot.yaml:9:7: 'capture.extra_devices[1]': /dev/earshot-test-nope does not exist");
}

TEST(CheckPaths, RegularFileIsNotADevice) {
  const TempDir dir("earshot-config");
  const std::string file = dir.write_file("plain", "x");
  EXPECT_EQ(check_error("capture:\n  extra_devices:\n    - " + file + "\n"),
            "earshot.yaml:3:7: 'capture.extra_devices[0]': " + file + " is not a character device");
}

TEST(CheckPaths, DirectoryIsNotADevice) {
  const TempDir dir("earshot-config");
  EXPECT_EQ(check_error("capture:\n  extra_devices: [" + dir.path() + "]\n"),
            "earshot.yaml:2:19: 'capture.extra_devices[0]': " + dir.path() +
                " is not a character device");
}

TEST(CheckPaths, Namespaces) {
  const Config present = parse("network:\n  namespaces: [/proc/self/ns/net]\n", "earshot.yaml");
  EXPECT_NO_THROW(check_paths(present, "earshot.yaml"));
  EXPECT_EQ(check_error("network:\n  namespaces:\n    - /proc/self/ns/net\n    - "
                        "/var/run/netns/earshot-test-nope\n"),
            "earshot.yaml:4:7: 'network.namespaces[1]': /var/run/netns/earshot-test-nope does not "
            "exist");
}

TEST(CheckPaths, Libasound) {
  const TempDir dir("earshot-config");
  const std::string library = dir.write_file("libasound.so.2", "");
  EXPECT_NO_THROW(check_paths(parse("capture: {libasound: " + library + "}", "x"), "x"));
  EXPECT_EQ(check_error("capture:\n  libasound: /earshot-test-nope/libasound.so.2\n"),
            "earshot.yaml:2:14: 'capture.libasound': /earshot-test-nope/libasound.so.2 does not "
            "exist");
}

TEST(CheckPaths, SoundServerLibraries) {
  const TempDir dir("earshot-config");
  const std::string pulse = dir.write_file("libpulse.so.0", "");
  const std::string pipewire = dir.write_file("libpipewire-0.3.so.0", "");
  const Config config =
      parse("capture: {libpulse: " + pulse + ", libpipewire: " + pipewire + "}", "x");
  EXPECT_EQ(config.capture.libpulse.path, pulse);
  EXPECT_EQ(config.capture.libpipewire.path, pipewire);
  EXPECT_NO_THROW(check_paths(config, "x"));
  EXPECT_EQ(check_error("capture:\n  libpipewire: /earshot-test-nope/libpipewire-0.3.so.0\n"),
            "earshot.yaml:2:16: 'capture.libpipewire': /earshot-test-nope/libpipewire-0.3.so.0 "
            "does not exist");
}

TEST(LoadFile, ReadsAndChecks) {
  const TempDir dir("earshot-config");
  const std::string good = dir.write_file("good.yaml", "capture:\n  extra_devices: [/dev/null]\n");
  EXPECT_EQ(load_file(good).capture.extra_devices.at(0).path, "/dev/null");

  const std::string missing_device =
      dir.write_file("bad.yaml", "capture:\n  extra_devices: [/dev/earshot-nope]\n");
  try {
    load_file(missing_device);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(
        std::string(error.what()),
        missing_device + ":2:19: 'capture.extra_devices[0]': /dev/earshot-nope does not exist");
  }

  const std::string bad_value = dir.write_file("level.yaml", "log:\n  level: loud\n");
  try {
    load_file(bad_value);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(bad_value + ":2:10: 'log.level'"));
  }
}

TEST(LoadFile, MissingOrUnreadableFileNamesThePath) {
  const TempDir dir("earshot-config");
  const std::string missing = dir.file("absent.yaml");
  try {
    load_file(missing);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot read config file " + missing + ": No such file or directory");
  }
  try {
    load_file(dir.path());
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot read config file " + dir.path() + ": Is a directory");
  }
}

TEST(CheckPaths, BtfFileMustBeRawBtf) {
  const TempDir dir("earshot-config");
  std::string btf;
  btf += static_cast<char>(0x9F);
  btf += static_cast<char>(0xEB);  // the magic 0xeB9F, little-endian
  btf += std::string(30, '\0');
  const std::string good = dir.write_file("vmlinux.btf", btf);
  EXPECT_NO_THROW(
      check_paths(parse("kernel:\n  btf_file: " + good + "\n", "earshot.yaml"), "earshot.yaml"));
  const std::string text = dir.write_file("vmlinux.btf.tar.xz", "not btf");
  EXPECT_EQ(check_error("kernel:\n  btf_file: " + text + "\n"),
            "earshot.yaml:2:13: 'kernel.btf_file': " + text +
                " is not a raw BTF file (no BTF magic 0xeB9F at its start; BTFHub's .btf.tar.xz "
                "files must be unpacked first)");
  EXPECT_EQ(check_error("kernel:\n  btf_file: /nonexistent/vmlinux.btf\n"),
            "earshot.yaml:2:13: 'kernel.btf_file': /nonexistent/vmlinux.btf does not exist");
  EXPECT_EQ(check_error("kernel:\n  btf_file: " + dir.path() + "\n"),
            "earshot.yaml:2:13: 'kernel.btf_file': " + dir.path() + " is not a regular file");
}

}  // namespace
}  // namespace earshot::config::load_test
