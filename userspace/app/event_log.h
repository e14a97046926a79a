#pragma once
// The JSON event stream (events.file): one JSON object a line, flushed at
// once so a reader sees a capture as it happens.
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace earshot::app {

class EventLog {
 public:
  // "-" is stdout; anything else is a file opened for appending.
  explicit EventLog(const std::string& target);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void write(const nlohmann::json& event);

 private:
  std::mutex mutex_;
  std::FILE* out_ = nullptr;
  bool owned_ = false;
};

}  // namespace earshot::app
