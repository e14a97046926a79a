#include "app/event_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace earshot::app {

EventLog::EventLog(const std::string& target) {
  if (target == "-") {
    out_ = stdout;
    return;
  }
  out_ = std::fopen(target.c_str(), "a");
  if (!out_)
    throw Error(fmt::format("events.file: cannot open {}: {}", target, std::strerror(errno)));
  owned_ = true;
}

EventLog::~EventLog() {
  if (owned_) std::fclose(out_);
}

void EventLog::write(const nlohmann::json& event) {
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace earshot::app
