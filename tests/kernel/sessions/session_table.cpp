#include "session_table.h"

#include <fmt/format.h>

namespace earshot::test {
namespace {

std::string integer(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return "?";
  return fmt::format("{:.0f}", it->get<double>());
}

std::string others_text(const nlohmann::json& destination) {
  std::string text;
  for (const auto& other : destination.value("others", nlohmann::json::array())) {
    if (!text.empty()) text += ", ";
    text += fmt::format("{}={} (excess {})", other.value("process", "?"), integer(other, "bytes"),
                        integer(other, "excess_bytes"));
  }
  return text.empty() ? "-" : text;
}

}  // namespace

std::string format_scenario_table(const std::vector<ScenarioActor>& actors,
                                  const std::vector<nlohmann::json>& sessions,
                                  const std::vector<nlohmann::json>& alerts) {
  std::string out =
      "What the scenario did (bytes on the wire: nftables at LOCAL_OUT, "
      "payload + 28 bytes of IPv4/UDP headers a datagram)\n";
  out += fmt::format("  {:<13} {:<18} {:>5} {:>9} {:>13} {:>13} {:>10}\n", "process", "destination",
                     "port", "datagrams", "payload bytes", "wire bytes", "read bytes");
  for (const auto& actor : actors) {
    out += fmt::format("  {:<13} {:<18} {:>5} {:>9} {:>13} {:>13} {:>10}\n", actor.process,
                       actor.destination, actor.port, actor.datagrams, actor.payload_bytes,
                       actor.wire_bytes, actor.read_bytes);
  }
  out += "Sessions earshot reported (event log)\n";
  out += fmt::format("  {:<4} {:<13} {:<12} {:>6} {:>8} {:>6} {:<18} {:>10}  {}\n", "id", "process",
                     "verdict", "frames", "audio B", "secs", "destination", "self bytes",
                     "others: process=bytes (excess)");
  for (const auto& session : sessions) {
    auto destinations = session.value("destinations", nlohmann::json::array());
    std::string head =
        fmt::format("  {:<4} {:<13} {:<12} {:>6} {:>8} {:>6}", integer(session, "id"),
                    session.value("process", "?"), session.value("verdict", "?"),
                    integer(session, "frames"), integer(session, "audio_bytes"),
                    fmt::format("{:.1f}", session.value("duration_seconds", 0.0)));
    if (destinations.empty()) out += head + fmt::format(" {:<18} {:>10}  -\n", "-", "-");
    for (std::size_t i = 0; i < destinations.size(); ++i) {
      const auto& destination = destinations[i];
      out += (i == 0 ? head : std::string(head.size(), ' ')) +
             fmt::format(" {:<18} {:>10}  {}\n", destination.value("destination", "?"),
                         integer(destination, "self_bytes"), others_text(destination));
    }
  }
  if (!alerts.empty()) {
    out += "Alerts\n";
    for (const auto& alert : alerts) {
      std::string destination = alert.contains("destination") && alert["destination"].is_string()
                                    ? alert["destination"].get<std::string>()
                                    : "-";
      out += fmt::format("  {:<20} {:<13} {}\n", alert.value("kind", "?"),
                         alert.value("process", "?"), destination);
    }
  }
  return out;
}

}  // namespace earshot::test
