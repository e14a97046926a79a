#pragma once
// Pure parsers and printers for the scalar kinds of the config (durations and
// named choices). They throw earshot::Error without a position; the YAML walk
// adds the key path and line:col. The CLI reuses them for its flags.
#include <chrono>
#include <string>
#include <string_view>

#include "common/vocabulary.h"

namespace earshot::config {

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { logfmt, json };

// Capture detection tiers (capture.tiers): the vocabulary's.
using earshot::Tier;
using earshot::to_string;

// Where DNS answers are read (network.dns_hook): "auto" is tcx ingress of
// the monitored namespaces where the kernel has tcx, else the root cgroup.
enum class DnsHook { automatic, tcx, cgroup };

std::string_view to_string(LogLevel level);
std::string_view to_string(LogFormat format);
std::string_view to_string(DnsHook hook);

// Each throws earshot::Error "must be one of a|b|c (got 'x')".
LogLevel parse_log_level(std::string_view text);
LogFormat parse_log_format(std::string_view text);
Tier parse_tier(std::string_view text);
DnsHook parse_dns_hook(std::string_view text);

// "250ms", "5s", "2m", "1h", or a descending combination such as "1m30s".
// A unit is required: a plain number throws, as does a negative or overflowing
// value. Message: "must be a duration like 500ms, 5s, 2m (got 'x')".
std::chrono::milliseconds parse_duration(std::string_view text);

// An exact form parse_duration reads back: 1500ms -> "1s500ms",
// 120000ms -> "2m", 90000ms -> "1m30s".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace earshot::config
