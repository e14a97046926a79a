#pragma once
// address -> destination label: a DNS answer seen earlier, else a configured
// CIDR name, else the address itself.
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "resolve/name_table.h"

namespace earshot::resolve {

std::string format_address(const IpAddress& address);

class DestinationNamer {
 public:
  explicit DestinationNamer(std::vector<config::Destination> ranges);

  // dns may be null (passive DNS off).
  std::string name(const IpAddress& address, NameTable* dns, std::uint64_t now_ns) const;

 private:
  std::vector<config::Destination> ranges_;
};

}  // namespace earshot::resolve
