#include "export/listening_ports.h"

#include <fmt/format.h>

#include "common/error.h"

namespace earshot::exporter {

std::string civetweb_listening_ports(const std::string& host, std::uint16_t port,
                                     bool civetweb_has_ipv6) {
  // "+PORT" is every IPv4 and, when civetweb has IPv6, every IPv6 interface.
  if (host.empty()) return fmt::format("+{}", port);
  if (host.find(':') == std::string::npos) return fmt::format("{}:{}", host, port);
  if (!civetweb_has_ipv6)
    throw Error(fmt::format(
        "cannot listen on [{}]:{}: this build's civetweb has no IPv6; use an IPv4 address, "
        "or :{} for every interface",
        host, port, port));
  return fmt::format("[{}]:{}", host, port);
}

std::string shown_address(const std::string& host, std::uint16_t port) {
  if (host.empty()) return fmt::format("0.0.0.0:{}", port);
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

}  // namespace earshot::exporter
