#include "common/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace earshot::log {

namespace {

Format g_format = Format::logfmt;

std::string logfmt_value(std::string_view v) {
  bool quote = v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) quote = true;
  if (!quote) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
                     static_cast<int>(ms.count()));
}

}  // namespace

void setup(Format format, spdlog::level::level_enum level) {
  g_format = format;
  auto logger = std::make_shared<spdlog::logger>("earshot",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

std::string render_logfmt(std::string_view ts, std::string_view level, std::string_view msg,
                          Fields fields) {
  std::string line = fmt::format("ts={} level={} msg={}", ts, level, logfmt_value(msg));
  for (const auto& [k, v] : fields) line += fmt::format(" {}={}", k, logfmt_value(v));
  return line;
}

std::string render_json(std::string_view ts, std::string_view level, std::string_view msg,
                        Fields fields) {
  nlohmann::ordered_json j;
  j["ts"] = ts;
  j["level"] = level;
  j["msg"] = msg;
  for (const auto& [k, v] : fields) j[std::string(k)] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write(spdlog::level::level_enum level, std::string_view msg, Fields fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  auto name = spdlog::level::to_string_view(level);
  std::string_view level_name(name.data(), name.size());
  if (level == spdlog::level::err) level_name = "error";
  if (level == spdlog::level::warn) level_name = "warn";
  std::string ts = now_rfc3339();
  logger->log(level, "{}",
              g_format == Format::json ? render_json(ts, level_name, msg, fields)
                                       : render_logfmt(ts, level_name, msg, fields));
}

}  // namespace earshot::log
