#pragma once
// Structured logs on stderr, logfmt or JSON (--log.format), as Prometheus
// exporters write them: a message plus key=value fields.
#include <spdlog/common.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace earshot::log {

enum class Format { logfmt, json };

void setup(Format format, spdlog::level::level_enum level);

using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;

// Pure renderers, exposed for tests.
std::string render_logfmt(std::string_view ts, std::string_view level, std::string_view msg,
                          Fields fields);
std::string render_json(std::string_view ts, std::string_view level, std::string_view msg,
                        Fields fields);

void write(spdlog::level::level_enum level, std::string_view msg, Fields fields = {});
inline void trace(std::string_view msg, Fields f = {}) {
  write(spdlog::level::trace, msg, f);
}
inline void debug(std::string_view msg, Fields f = {}) {
  write(spdlog::level::debug, msg, f);
}
inline void info(std::string_view msg, Fields f = {}) {
  write(spdlog::level::info, msg, f);
}
inline void warn(std::string_view msg, Fields f = {}) {
  write(spdlog::level::warn, msg, f);
}
inline void error(std::string_view msg, Fields f = {}) {
  write(spdlog::level::err, msg, f);
}

}  // namespace earshot::log
