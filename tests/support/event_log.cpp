#include "event_log.h"

#include <fstream>

namespace earshot::test {

std::vector<nlohmann::json> read_event_lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (file.eof()) break;  // no newline yet: the daemon is still writing it
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) lines.push_back(std::move(parsed));
  }
  return lines;
}

std::vector<nlohmann::json> select_events(const std::vector<nlohmann::json>& lines,
                                          std::string_view event_kind, std::string_view process) {
  std::vector<nlohmann::json> selected;
  for (const auto& line : lines) {
    if (line.value("event", "") != event_kind) continue;
    if (!process.empty() && line.value("process", "") != process) continue;
    selected.push_back(line);
  }
  return selected;
}

const nlohmann::json* find_destination(const nlohmann::json& session,
                                       std::string_view destination) {
  auto list = session.find("destinations");
  if (list == session.end() || !list->is_array()) return nullptr;
  for (const auto& entry : *list) {
    if (entry.value("destination", "") == destination) return &entry;
  }
  return nullptr;
}

const nlohmann::json* find_other(const nlohmann::json& destination, std::string_view process) {
  auto list = destination.find("others");
  if (list == destination.end() || !list->is_array()) return nullptr;
  for (const auto& entry : *list) {
    if (entry.value("process", "") == process) return &entry;
  }
  return nullptr;
}

}  // namespace earshot::test
