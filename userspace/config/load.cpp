// The filesystem side of the config: reading the file and checking that the
// paths it names exist. Kept apart from parse.cpp, which stays pure.
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "config/config.h"

namespace earshot::config {
namespace {

enum class Expect { exists, character_device, btf_file };

// A raw BTF file starts with its header's magic, 0xeB9F in the machine's order.
bool starts_with_btf_magic(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  unsigned char magic[2] = {};
  if (!file.read(reinterpret_cast<char*>(magic), sizeof magic)) return false;
  const std::uint16_t value = static_cast<std::uint16_t>(magic[0] | (magic[1] << 8));
  return value == 0xEB9F || value == 0x9FEB;
}

void check_path(const SourcePath& entry, const std::string& key_path, Expect expect,
                std::string_view source_name) {
  const std::string where = std::string(source_name) + ":" + std::to_string(entry.line) + ":" +
                            std::to_string(entry.column) + ": '" + key_path + "': ";
  struct stat status {};
  if (stat(entry.path.c_str(), &status) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw Error(where + entry.path + " does not exist");
    throw Error(where + "cannot stat " + entry.path + ": " + std::strerror(errno));
  }
  if (expect == Expect::character_device && !S_ISCHR(status.st_mode)) {
    throw Error(where + entry.path + " is not a character device");
  }
  if (expect == Expect::btf_file) {
    if (!S_ISREG(status.st_mode)) throw Error(where + entry.path + " is not a regular file");
    if (!starts_with_btf_magic(entry.path))
      throw Error(where + entry.path +
                  " is not a raw BTF file (no BTF magic 0xeB9F at its start; BTFHub's "
                  ".btf.tar.xz files must be unpacked first)");
  }
}

}  // namespace

void check_paths(const Config& config, std::string_view source_name) {
  for (std::size_t i = 0; i < config.capture.extra_devices.size(); ++i) {
    check_path(config.capture.extra_devices[i], "capture.extra_devices[" + std::to_string(i) + "]",
               Expect::character_device, source_name);
  }
  for (std::size_t i = 0; i < config.capture.extra_cameras.size(); ++i) {
    check_path(config.capture.extra_cameras[i], "capture.extra_cameras[" + std::to_string(i) + "]",
               Expect::character_device, source_name);
  }
  for (std::size_t i = 0; i < config.network.namespaces.size(); ++i) {
    check_path(config.network.namespaces[i], "network.namespaces[" + std::to_string(i) + "]",
               Expect::exists, source_name);
  }
  if (!config.capture.libasound.path.empty()) {
    check_path(config.capture.libasound, "capture.libasound", Expect::exists, source_name);
  }
  if (!config.capture.libpulse.path.empty()) {
    check_path(config.capture.libpulse, "capture.libpulse", Expect::exists, source_name);
  }
  if (!config.capture.libpipewire.path.empty()) {
    check_path(config.capture.libpipewire, "capture.libpipewire", Expect::exists, source_name);
  }
  if (!config.kernel.btf_file.path.empty()) {
    check_path(config.kernel.btf_file, "kernel.btf_file", Expect::btf_file, source_name);
  }
}

Config load_file(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    // ifstream opens a directory and then reads nothing: say so plainly.
    throw Error("cannot read config file " + path.string() + ": " + std::strerror(EISDIR));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw Error("cannot read config file " + path.string() + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    throw Error("cannot read config file " + path.string() + ": " + std::strerror(errno));
  }
  const std::string source_name = path.string();
  Config config = parse(text.str(), source_name);
  check_paths(config, source_name);
  return config;
}

}  // namespace earshot::config
