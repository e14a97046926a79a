#include "resolve/proc_parse.h"

#include <array>
#include <charconv>
#include <vector>

namespace earshot::resolve {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// Whitespace-separated fields; /proc/PID/stat uses single spaces and ends in '\n'.
std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find_first_not_of(" \n", pos);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \n", start);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(start, end - start));
    pos = end;
  }
  return fields;
}

bool is_hex_id(std::string_view s) {
  if (s.size() < 12) return false;
  for (char c : s) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return true;
}

bool strip_prefix(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

// "docker:0123456789ab" when a cgroup path component is a container's own
// cgroup, as the systemd cgroup driver ("docker-<id>.scope") or the cgroupfs
// driver ("/docker/<id>", "/kubepods/.../<id>") names it; "" otherwise.
std::string container_unit(std::string_view parent, std::string_view component) {
  struct ScopePrefix {
    std::string_view prefix, runtime;
  };
  static constexpr std::array<ScopePrefix, 4> kScopes{{
      {"docker-", "docker"},
      {"cri-containerd-", "containerd"},
      {"crio-", "crio"},
      {"libpod-", "podman"},
  }};
  std::string_view name = component;
  if (strip_suffix(name, ".scope")) {
    for (const auto& scope : kScopes) {
      std::string_view id = name;
      if (strip_prefix(id, scope.prefix) && is_hex_id(id)) {
        return std::string(scope.runtime) + ":" + std::string(id.substr(0, 12));
      }
    }
    return "";
  }
  if (is_hex_id(name)) {
    // cgroupfs driver: the bare id sits under the runtime's own directory.
    std::string runtime = parent.starts_with("/docker")     ? "docker"
                          : parent.starts_with("/kubepods") ? "kubepods"
                          : parent.starts_with("/libpod")   ? "podman"
                                                            : "container";
    return runtime + ":" + std::string(name.substr(0, 12));
  }
  return "";
}

}  // namespace

std::optional<ProcStat> parse_stat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  std::string_view pid_text = text.substr(0, open);
  while (pid_text.ends_with(' ')) pid_text.remove_suffix(1);
  if (!parse_number(pid_text, stat.pid)) return std::nullopt;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));

  // After ") " come fields 3 (state) .. 52; starttime is field 22.
  std::vector<std::string_view> rest = split_fields(text.substr(close + 1));
  constexpr size_t kStartTimeIndex = 22 - 3;
  if (rest.size() <= kStartTimeIndex || rest[0].size() != 1) return std::nullopt;
  stat.state = rest[0][0];
  if (!parse_number(rest[kStartTimeIndex], stat.start_ticks)) return std::nullopt;
  return stat;
}

uint64_t start_ticks_from_ns(uint64_t start_ns, long ticks_per_second) {
  constexpr uint64_t kNsPerSecond = 1'000'000'000;
  return start_ns / (kNsPerSecond / static_cast<uint64_t>(ticks_per_second));
}

std::string unit_from_cgroup_path(std::string_view path) {
  std::string unit;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(pos, end - pos);
    if (!component.empty()) {
      // The outermost container wins: units inside it (systemd running in a
      // container) are that container's business, not a host service.
      std::string container = container_unit(path.substr(0, pos), component);
      if (!container.empty()) return container;
      if (component.ends_with(".service") || component.ends_with(".scope")) {
        unit = std::string(component);  // innermost unit wins
      }
    }
    pos = end + 1;
  }
  return unit;
}

std::string unit_from_cgroup(std::string_view cgroup_text) {
  std::string v2_unit, systemd_unit;
  size_t pos = 0;
  while (pos < cgroup_text.size()) {
    size_t end = cgroup_text.find('\n', pos);
    if (end == std::string_view::npos) end = cgroup_text.size();
    std::string_view line = cgroup_text.substr(pos, end - pos);
    pos = end + 1;
    // "hierarchy-id:controllers:path"; the path itself may contain ':'.
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view id = line.substr(0, first);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      v2_unit = unit_from_cgroup_path(path);
    } else if (controllers == "name=systemd") {
      systemd_unit = unit_from_cgroup_path(path);
    }
  }
  return v2_unit.empty() ? systemd_unit : v2_unit;
}

std::string exe_basename(std::string_view exe_link) {
  strip_suffix(exe_link, " (deleted)");
  size_t slash = exe_link.rfind('/');
  if (slash != std::string_view::npos) exe_link.remove_prefix(slash + 1);
  return std::string(exe_link);
}

std::string process_name(std::string_view exe_name, std::string_view comm, bool comm_is_alias_of_exe) {
  if (exe_name.empty() || comm_is_alias_of_exe) return std::string(comm.empty() ? exe_name : comm);
  return std::string(exe_name);
}

}  // namespace earshot::resolve
