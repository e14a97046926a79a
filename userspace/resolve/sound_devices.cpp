#include "resolve/sound_devices.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <string_view>
#include <system_error>
#include <tuple>

#include "common/error.h"

namespace earshot::resolve {
namespace {

bool parse_unsigned(std::string_view text, unsigned& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// "pcmC<card>D<dev>c" -> card, device; nullopt for playback, controls, timers.
std::optional<std::pair<unsigned, unsigned>> parse_capture_name(std::string_view name) {
  if (!name.starts_with("pcmC") || !name.ends_with('c')) return std::nullopt;
  name.remove_prefix(4);
  name.remove_suffix(1);
  size_t d = name.find('D');
  if (d == std::string_view::npos) return std::nullopt;
  unsigned card = 0, device = 0;
  if (!parse_unsigned(name.substr(0, d), card) || !parse_unsigned(name.substr(d + 1), device)) {
    return std::nullopt;
  }
  return std::pair{card, device};
}

}  // namespace

std::vector<SoundDevice> scan_capture_devices(const std::filesystem::path& sysfs_class_sound) {
  std::vector<SoundDevice> devices;
  std::error_code ec;
  std::filesystem::directory_iterator it(sysfs_class_sound, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return devices;
    throw Error("cannot list " + sysfs_class_sound.string() + ": " + ec.message());
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    std::string name = entry.path().filename().string();
    auto numbers = parse_capture_name(name);
    if (!numbers) continue;

    const std::filesystem::path dev_file = entry.path() / "dev";
    std::ifstream in(dev_file);
    if (!in) continue;  // unplugged between listing and reading
    std::string text;
    std::getline(in, text);
    SoundDevice device{name, numbers->first, numbers->second, 0, 0};
    size_t colon = text.find(':');
    if (colon == std::string::npos ||
        !parse_unsigned(std::string_view(text).substr(0, colon), device.major) ||
        !parse_unsigned(std::string_view(text).substr(colon + 1), device.minor)) {
      throw Error(dev_file.string() + ": expected MAJOR:MINOR, got \"" + text + "\"");
    }
    devices.push_back(std::move(device));
  }
  if (ec) throw Error("cannot list " + sysfs_class_sound.string() + ": " + ec.message());
  std::sort(devices.begin(), devices.end(), [](const SoundDevice& a, const SoundDevice& b) {
    return std::tie(a.card, a.device) < std::tie(b.card, b.device);
  });
  return devices;
}

uint32_t kernel_dev(unsigned major, unsigned minor) {
  return (major << 20) | minor;
}

uint32_t kernel_dev_from_rdev(dev_t rdev) {
  return kernel_dev(major(rdev), minor(rdev));
}

}  // namespace earshot::resolve
