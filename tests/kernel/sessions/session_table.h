#pragma once
// The scenario's closing-note table: each session earshot reported, next to
// what each program of the scenario actually did.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace earshot::test {

// What one program of the scenario did (ground truth).
struct ScenarioActor {
  std::string process;
  std::string destination;  // where it sent, "-" for nowhere
  std::uint16_t port = 0;
  std::uint64_t datagrams = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t wire_bytes = 0;  // nftables at LOCAL_OUT: payload + IP + UDP headers
  std::uint64_t read_bytes = 0;  // read from the capture node
};

// Plain-text tables: what the scenario did, the sessions (event-log JSON
// objects) earshot reported, and the alert lines.
std::string format_scenario_table(const std::vector<ScenarioActor>& actors,
                                  const std::vector<nlohmann::json>& sessions,
                                  const std::vector<nlohmann::json>& alerts);

}  // namespace earshot::test
