#pragma once
// The daemon's JSON-lines event log (events.file) as tests read it: capture,
// session and alert lines, selected by kind and process name.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace earshot::test {

// Every complete line of the file parsed as JSON (a line still being
// written, or one that is not JSON, is skipped). Empty when the file does
// not exist yet.
std::vector<nlohmann::json> read_event_lines(const std::string& path);

// Lines whose "event" is event_kind ("capture_open", "session", "alert",
// ...) and whose "process" is process (any process when empty).
std::vector<nlohmann::json> select_events(const std::vector<nlohmann::json>& lines,
                                          std::string_view event_kind,
                                          std::string_view process = "");

// The destinations[] entry of a session named destination, or nullptr.
const nlohmann::json* find_destination(const nlohmann::json& session, std::string_view destination);
// The others[] entry of a session destination sent by process, or nullptr.
const nlohmann::json* find_other(const nlohmann::json& destination, std::string_view process);

}  // namespace earshot::test
