#include "config/values.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>

#include "common/error.h"

namespace earshot::config {
namespace {

template <typename Enum, std::size_t N>
Enum parse_choice(std::string_view text,
                  const std::array<std::pair<std::string_view, Enum>, N>& choices) {
  std::string names;
  for (const auto& [name, value] : choices) {
    if (name == text) return value;
    if (!names.empty()) names += '|';
    names += name;
  }
  throw Error("must be one of " + names + " (got '" + std::string(text) + "')");
}

template <typename Enum, std::size_t N>
std::string_view choice_name(Enum value,
                             const std::array<std::pair<std::string_view, Enum>, N>& choices) {
  for (const auto& [name, candidate] : choices) {
    if (candidate == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<std::string_view, LogLevel>, 5> kLogLevels{{
    {"trace", LogLevel::trace},
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
}};

constexpr std::array<std::pair<std::string_view, LogFormat>, 2> kLogFormats{{
    {"logfmt", LogFormat::logfmt},
    {"json", LogFormat::json},
}};

constexpr std::array<std::pair<std::string_view, DnsHook>, 3> kDnsHooks{{
    {"auto", DnsHook::automatic},
    {"tcx", DnsHook::tcx},
    {"cgroup", DnsHook::cgroup},
}};

// Largest unit first: a combination must list them in this order, each once.
constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> kDurationUnits{{
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

}  // namespace

std::string_view to_string(LogLevel level) {
  return choice_name(level, kLogLevels);
}
std::string_view to_string(LogFormat format) {
  return choice_name(format, kLogFormats);
}
std::string_view to_string(DnsHook hook) {
  return choice_name(hook, kDnsHooks);
}

LogLevel parse_log_level(std::string_view text) {
  return parse_choice(text, kLogLevels);
}
LogFormat parse_log_format(std::string_view text) {
  return parse_choice(text, kLogFormats);
}
Tier parse_tier(std::string_view text) {
  if (auto tier = tier_named(text)) return *tier;
  std::string names;
  for (Tier tier : kTiers) names += (names.empty() ? "" : "|") + std::string(to_string(tier));
  throw Error("must be one of " + names + " (got '" + std::string(text) + "')");
}
DnsHook parse_dns_hook(std::string_view text) {
  return parse_choice(text, kDnsHooks);
}

std::chrono::milliseconds parse_duration(std::string_view text) {
  const auto bad = [&] {
    return Error("must be a duration like 500ms, 5s, 2m (got '" + std::string(text) + "')");
  };
  if (text.empty()) throw bad();
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // index into kDurationUnits: units must descend
  std::string_view rest = text;
  while (!rest.empty()) {
    std::int64_t count = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), count);
    if (ec != std::errc() || count < 0 || rest.front() == '+' || rest.front() == '-') throw bad();
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    std::size_t unit_length = 0;
    while (unit_length < rest.size() && rest[unit_length] >= 'a' && rest[unit_length] <= 'z') {
      ++unit_length;
    }
    const std::string_view unit = rest.substr(0, unit_length);
    rest.remove_prefix(unit_length);
    std::size_t index = next_unit;
    while (index < kDurationUnits.size() && kDurationUnits[index].first != unit) ++index;
    if (index == kDurationUnits.size()) throw bad();
    next_unit = index + 1;
    const std::int64_t scale = kDurationUnits[index].second;
    if (count > (std::numeric_limits<std::int64_t>::max() - total) / scale) throw bad();
    total += count * scale;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t rest = duration.count();
  if (rest == 0) return "0s";
  std::string text;
  if (rest < 0) {
    // Not produced by parse_duration; printed plainly for diagnostics.
    return std::to_string(rest) + "ms";
  }
  for (const auto& [unit, scale] : kDurationUnits) {
    if (rest >= scale) {
      text += std::to_string(rest / scale);
      text += unit;
      rest %= scale;
    }
  }
  return text;
}

}  // namespace earshot::config
