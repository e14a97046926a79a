#pragma once
// Gateway mode: a LAN device's label, from its MAC address: the name the
// config gives it (gateway.devices), else the hostname its DHCP lease
// carries (gateway.leases_file, dnsmasq's or odhcpd's), else the MAC.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace earshot::resolve {

struct Lease {
  config::MacAddress mac{};
  std::string hostname;
  friend bool operator==(const Lease&, const Lease&) = default;
};

// A leases file's devices that have a hostname, in file order. Lines of
// either format (a file holds one), others skipped:
//   dnsmasq  "<expiry> <mac> <ipv4> <hostname|*> <client-id|*>"; DHCPv6
//            leases (after the "duid" line) "<expiry> <iaid> <ipv6>
//            <hostname|*> <client duid>", the MAC from the DUID when it
//            is link-layer based (DUID-LLT, DUID-LL, Ethernet).
//   odhcpd   "# <iface> <mac as 12 hex digits> ipv4 <hostname|-> ..." and
//            "# <iface> <duid hex> <iaid> <hostname|-> ...", likewise.
std::vector<Lease> parse_leases(std::string_view text);

// The MAC inside a link-layer DUID (hex, colons allowed) into `mac`; false
// when it has none.
bool mac_from_duid(std::string_view duid_hex, config::MacAddress& mac);

class DeviceNamer {
 public:
  DeviceNamer(const std::vector<config::GatewayDevice>& devices, std::filesystem::path leases);

  // Reads the leases file again when it changed (or appeared) since the
  // last call; a missing or unreadable file keeps the names it gave.
  void refresh();
  // The label of the device (not sanitised for Prometheus: the caller does).
  std::string name(const config::MacAddress& mac) const;

 private:
  std::map<config::MacAddress, std::string> configured_;
  std::map<config::MacAddress, std::string> leased_;
  std::filesystem::path leases_;
  std::filesystem::file_time_type leases_mtime_{};
  std::uintmax_t leases_size_ = 0;
};

}  // namespace earshot::resolve
