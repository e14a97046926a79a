#pragma once
// civetweb's listening_ports option for a listen address. civetweb takes IP
// literals only, and IPv6 only when it was built with it (Debian 12's is not).
#include <cstdint>
#include <string>

namespace earshot::exporter {

// host: an IPv4 or IPv6 literal (no brackets), or "" for every interface.
// Throws earshot::Error naming the address when civetweb cannot take it.
std::string civetweb_listening_ports(const std::string& host, std::uint16_t port,
                                     bool civetweb_has_ipv6);

// How the address is shown in logs: "1.2.3.4:80", "[::1]:80", "0.0.0.0:80".
std::string shown_address(const std::string& host, std::uint16_t port);

}  // namespace earshot::exporter
