// The filesystem side of the config: reading the file and checking that the
// paths it names exist. Kept apart from parse.cpp, which stays pure.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "config/config.h"

namespace earshot::config {
namespace {

enum class Expect { exists, character_device };

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
}

}  // namespace

void check_paths(const Config& config, std::string_view source_name) {
  for (std::size_t i = 0; i < config.capture.extra_devices.size(); ++i) {
    check_path(config.capture.extra_devices[i], "capture.extra_devices[" + std::to_string(i) + "]",
               Expect::character_device, source_name);
  }
  for (std::size_t i = 0; i < config.network.namespaces.size(); ++i) {
    check_path(config.network.namespaces[i], "network.namespaces[" + std::to_string(i) + "]",
               Expect::exists, source_name);
  }
  if (!config.capture.libasound.path.empty()) {
    check_path(config.capture.libasound, "capture.libasound", Expect::exists, source_name);
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
