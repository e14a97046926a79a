#include "nft_counter.h"

#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "process.h"

namespace earshot::test {
namespace {

std::atomic<int> next_table_index{0};

const char* protocol_name(L4Protocol protocol) {
  return protocol == L4Protocol::tcp ? "tcp" : "udp";
}

const char* family_name(IpFamily family) {
  switch (family) {
    case IpFamily::ipv4:
      return "ipv4";
    case IpFamily::ipv6:
      return "ipv6";
    case IpFamily::any:
      break;
  }
  return "any";
}

const char* port_field_name(PortField field) {
  return field == PortField::destination ? "dport" : "sport";
}

}  // namespace

std::string nft_counter_key(L4Protocol protocol, std::uint16_t port, IpFamily family,
                            PortField field) {
  return std::string(protocol_name(protocol)) + "_" + port_field_name(field) + "_" +
         std::to_string(port) + "_" + family_name(family);
}

std::map<std::string, NftCount> parse_nft_counters(std::string_view json_text) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    throw Error(std::string("nft JSON output does not parse: ") + error.what());
  }
  if (!document.contains("nftables") || !document["nftables"].is_array()) {
    throw Error("nft JSON output has no \"nftables\" array");
  }
  std::map<std::string, NftCount> counts;
  for (const auto& item : document["nftables"]) {
    if (!item.contains("rule")) continue;
    const auto& rule = item["rule"];
    if (!rule.contains("comment") || !rule.contains("expr")) continue;
    for (const auto& expression : rule["expr"]) {
      if (!expression.contains("counter")) continue;
      const auto& counter = expression["counter"];
      counts[rule["comment"].get<std::string>()] = {counter.at("packets").get<std::uint64_t>(),
                                                    counter.at("bytes").get<std::uint64_t>()};
    }
  }
  return counts;
}

NftCounter::NftCounter(std::string netns_path, std::string table, std::string hook)
    : netns_path_(std::move(netns_path)), table_(std::move(table)), chain_(std::move(hook)) {
  if (table_.empty()) {
    table_ = "es" + std::to_string(::getpid()) + "_" + std::to_string(next_table_index++);
  }
  // A leftover of the same name (pid reuse after a crash) is replaced.
  run_command({"nft", "delete", "table", "inet", table_}, {.netns_path = netns_path_});
  nft({"add", "table", "inet", table_});
  nft({"add", "chain", "inet", table_, chain_,
       "{ type filter hook " + chain_ + " priority 0 ; policy accept ; }"});
}

NftCounter::~NftCounter() {
  try {
    run_command({"nft", "delete", "table", "inet", table_}, {.netns_path = netns_path_});
  } catch (const Error&) {
    // The namespace may already be gone, and the table with it.
  }
}

std::string NftCounter::nft(const std::vector<std::string>& arguments) const {
  std::vector<std::string> argv{"nft"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return check_command(argv, {.netns_path = netns_path_});
}

std::string NftCounter::count_destination_port(L4Protocol protocol, std::uint16_t port,
                                               IpFamily family) {
  return count_port(protocol, port, family, PortField::destination);
}

std::string NftCounter::count_source_port(L4Protocol protocol, std::uint16_t port,
                                          IpFamily family) {
  return count_port(protocol, port, family, PortField::source);
}

std::string NftCounter::count_port(L4Protocol protocol, std::uint16_t port, IpFamily family,
                                   PortField field) {
  std::string key = nft_counter_key(protocol, port, family, field);
  std::vector<std::string> rule{"add", "rule", "inet", table_, chain_};
  if (family != IpFamily::any) {
    rule.insert(rule.end(), {"meta", "nfproto", family_name(family)});
  }
  rule.insert(rule.end(), {"meta", "l4proto", protocol_name(protocol), "th", port_field_name(field),
                           std::to_string(port), "counter", "comment", "\"" + key + "\""});
  nft(rule);
  return key;
}

std::string NftCounter::count_matching(const std::string& key,
                                       const std::vector<std::string>& match) {
  std::vector<std::string> rule{"add", "rule", "inet", table_, chain_};
  rule.insert(rule.end(), match.begin(), match.end());
  rule.insert(rule.end(), {"counter", "comment", "\"" + key + "\""});
  nft(rule);
  return key;
}

std::map<std::string, NftCount> NftCounter::read_all() const {
  return parse_nft_counters(nft({"-j", "list", "table", "inet", table_}));
}

NftCount NftCounter::read(const std::string& key) const {
  auto counts = read_all();
  auto found = counts.find(key);
  if (found == counts.end()) throw Error("nft table " + table_ + " has no counter " + key);
  return found->second;
}

NftCount NftCounter::destination_port(L4Protocol protocol, std::uint16_t port,
                                      IpFamily family) const {
  return read(nft_counter_key(protocol, port, family, PortField::destination));
}

NftCount NftCounter::source_port(L4Protocol protocol, std::uint16_t port, IpFamily family) const {
  return read(nft_counter_key(protocol, port, family, PortField::source));
}

}  // namespace earshot::test
