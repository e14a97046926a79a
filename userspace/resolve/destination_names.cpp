#include "resolve/destination_names.h"

#include <arpa/inet.h>

namespace earshot::resolve {

std::string format_address(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  int family = address.family == kFamilyIpv4 ? AF_INET : AF_INET6;
  if (!inet_ntop(family, address.bytes.data(), text, sizeof text)) return "invalid";
  return text;
}

DestinationNamer::DestinationNamer(std::vector<config::Destination> ranges)
    : ranges_(std::move(ranges)) {}

std::string DestinationNamer::name(const IpAddress& address, NameTable* dns,
                                   std::uint64_t now_ns) const {
  if (dns) {
    if (auto named = dns->lookup(address, now_ns)) return *named;
  }
  int family = address.family == kFamilyIpv4 ? AF_INET : AF_INET6;
  for (const auto& range : ranges_)
    if (range.cidr.contains(family, address.bytes.data())) return range.name;
  return format_address(address);
}

}  // namespace earshot::resolve
