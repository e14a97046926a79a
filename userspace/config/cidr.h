#pragma once
// An address range (CIDR) that names destinations. Addresses are held as 16
// bytes in network order, IPv4 in the first 4, matching the kernel's flow keys.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace earshot::config {

struct Cidr {
  int family = 0;                          // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> address{};  // host bits are zero
  std::uint8_t prefix_length = 0;          // 0-32 for AF_INET, 0-128 for AF_INET6

  // True when addr (same layout as address) has this family and lies in the range.
  bool contains(int addr_family, const std::uint8_t addr[16]) const;

  // "192.168.0.0/16", "fd00::/8".
  std::string to_string() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "a.b.c.d/n" or "v6/n"; a bare address is a single host (/32, /128). Set host
// bits are an error (likely a typo) that says which range was probably meant.
// Throws earshot::Error without a position.
Cidr parse_cidr(std::string_view text);

}  // namespace earshot::config
