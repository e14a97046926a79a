#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "config/config.h"

namespace earshot::config {
namespace {

using ::testing::HasSubstr;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "earshot-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw Error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

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
  const TempDir dir;
  const std::string file = dir.write("plain", "x").string();
  EXPECT_EQ(check_error("capture:\n  extra_devices:\n    - " + file + "\n"),
            "earshot.yaml:3:7: 'capture.extra_devices[0]': " + file + " is not a character device");
}

TEST(CheckPaths, DirectoryIsNotADevice) {
  const TempDir dir;
  EXPECT_EQ(check_error("capture:\n  extra_devices: [" + dir.path().string() + "]\n"),
            "earshot.yaml:2:19: 'capture.extra_devices[0]': " + dir.path().string() +
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
  const TempDir dir;
  const std::string library = dir.write("libasound.so.2", "").string();
  EXPECT_NO_THROW(check_paths(parse("capture: {libasound: " + library + "}", "x"), "x"));
  EXPECT_EQ(check_error("capture:\n  libasound: /earshot-test-nope/libasound.so.2\n"),
            "earshot.yaml:2:14: 'capture.libasound': /earshot-test-nope/libasound.so.2 does not "
            "exist");
}

TEST(LoadFile, ReadsAndChecks) {
  const TempDir dir;
  const auto good = dir.write("good.yaml", "capture:\n  extra_devices: [/dev/null]\n");
  EXPECT_EQ(load_file(good).capture.extra_devices.at(0).path, "/dev/null");

  const auto missing_device =
      dir.write("bad.yaml", "capture:\n  extra_devices: [/dev/earshot-nope]\n");
  try {
    load_file(missing_device);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              missing_device.string() +
                  ":2:19: 'capture.extra_devices[0]': /dev/earshot-nope does not exist");
  }

  const auto bad_value = dir.write("level.yaml", "log:\n  level: loud\n");
  try {
    load_file(bad_value);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(bad_value.string() + ":2:10: 'log.level'"));
  }
}

TEST(LoadFile, MissingOrUnreadableFileNamesThePath) {
  const TempDir dir;
  const auto missing = dir.path() / "absent.yaml";
  try {
    load_file(missing);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot read config file " + missing.string() + ": No such file or directory");
  }
  try {
    load_file(dir.path());
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot read config file " + dir.path().string() + ": Is a directory");
  }
}

TEST(CheckPaths, BtfFileMustBeRawBtf) {
  const TempDir dir;
  std::string btf;
  btf += static_cast<char>(0x9F);
  btf += static_cast<char>(0xEB);  // the magic 0xeB9F, little-endian
  btf += std::string(30, '\0');
  const std::string good = dir.write("vmlinux.btf", btf).string();
  EXPECT_NO_THROW(
      check_paths(parse("kernel:\n  btf_file: " + good + "\n", "earshot.yaml"), "earshot.yaml"));
  const std::string text = dir.write("vmlinux.btf.tar.xz", "not btf").string();
  EXPECT_EQ(check_error("kernel:\n  btf_file: " + text + "\n"),
            "earshot.yaml:2:13: 'kernel.btf_file': " + text +
                " is not a raw BTF file (no BTF magic 0xeB9F at its start; BTFHub's .btf.tar.xz "
                "files must be unpacked first)");
  EXPECT_EQ(check_error("kernel:\n  btf_file: /nonexistent/vmlinux.btf\n"),
            "earshot.yaml:2:13: 'kernel.btf_file': /nonexistent/vmlinux.btf does not exist");
  EXPECT_EQ(
      check_error("kernel:\n  btf_file: " + dir.path().string() + "\n"),
      "earshot.yaml:2:13: 'kernel.btf_file': " + dir.path().string() + " is not a regular file");
}

}  // namespace
}  // namespace earshot::config
