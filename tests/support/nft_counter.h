#pragma once
// Independent ground truth for earshot's byte counts: nftables counters in
// an `inet` table whose chain hooks output (LOCAL_OUT) at priority 0, the
// hook earshot counts at. nft counts skb->len there, i.e. payload plus IP
// and transport headers, the same quantity earshot reports per process.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace earshot::test {

enum class L4Protocol { tcp, udp };
enum class IpFamily { any, ipv4, ipv6 };
enum class PortField { destination, source };  // th dport / th sport

struct NftCount {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

class NftCounter {
 public:
  // Creates table `inet <table>` with chain `output` in the namespace at
  // netns_path (empty: the test's namespace). An empty table name gives a
  // unique one (es<pid>_<n>). `hook` names the chain and its hook: "output"
  // (LOCAL_OUT), or "forward" for what a gateway forwards.
  explicit NftCounter(std::string netns_path = "", std::string table = "",
                      std::string hook = "output");
  ~NftCounter();  // deletes the table
  NftCounter(const NftCounter&) = delete;
  NftCounter& operator=(const NftCounter&) = delete;

  // Adds `meta nfproto F meta l4proto P th dport PORT counter` and returns
  // the rule's key (its comment), e.g. "tcp_dport_5001_ipv4".
  std::string count_destination_port(L4Protocol protocol, std::uint16_t port,
                                     IpFamily family = IpFamily::any);
  // Adds `<match...> counter comment KEY` (e.g. match {"ip", "daddr",
  // "10.0.0.2"}) and returns KEY.
  std::string count_matching(const std::string& key, const std::vector<std::string>& match);
  // All counters of the table, by key.
  std::map<std::string, NftCount> read_all() const;
  // One counter; throws earshot::Error when no rule has that key.
  NftCount read(const std::string& key) const;
  // read() of the rule count_destination_port made for these arguments.
  NftCount destination_port(L4Protocol protocol, std::uint16_t port,
                            IpFamily family = IpFamily::any) const;
  // The same with `th sport PORT`: what a server on PORT sends back.
  std::string count_source_port(L4Protocol protocol, std::uint16_t port,
                                IpFamily family = IpFamily::any);
  NftCount source_port(L4Protocol protocol, std::uint16_t port,
                       IpFamily family = IpFamily::any) const;

  const std::string& table() const { return table_; }

 private:
  std::string nft(const std::vector<std::string>& arguments) const;
  std::string count_port(L4Protocol protocol, std::uint16_t port, IpFamily family, PortField field);

  std::string netns_path_;
  std::string table_;
  std::string chain_;
};

// The key count_destination_port (or count_source_port) uses.
std::string nft_counter_key(L4Protocol protocol, std::uint16_t port, IpFamily family,
                            PortField field = PortField::destination);
// Parses `nft -j list table ...` output: counter values of every rule that
// has a comment, by comment. Throws earshot::Error on malformed JSON.
std::map<std::string, NftCount> parse_nft_counters(std::string_view json_text);

}  // namespace earshot::test
