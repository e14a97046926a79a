#include "config/cidr.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>

#include "common/error.h"

namespace earshot::config {
namespace {

// Bits of byte `index` that a prefix of `prefix_length` bits covers.
std::uint8_t prefix_mask(std::uint8_t prefix_length, std::size_t index) {
  const int bits = static_cast<int>(prefix_length) - static_cast<int>(index) * 8;
  if (bits <= 0) return 0;
  if (bits >= 8) return 0xff;
  return static_cast<std::uint8_t>(0xff << (8 - bits));
}

std::size_t address_bytes(int family) {
  return family == AF_INET ? 4 : 16;
}

}  // namespace

bool Cidr::contains(int addr_family, const std::uint8_t addr[16]) const {
  if (addr_family != family) return false;
  for (std::size_t i = 0; i < address_bytes(family); ++i) {
    const std::uint8_t mask = prefix_mask(prefix_length, i);
    if (mask == 0) break;
    if ((addr[i] & mask) != address[i]) return false;
  }
  return true;
}

std::string Cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, address.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix_length);
}

Cidr parse_cidr(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error("bad CIDR '" + std::string(text) + "' (" + std::string(why) + ")");
  };
  const std::size_t slash = text.find('/');
  const std::string address_text(text.substr(0, slash));
  Cidr result;
  if (inet_pton(AF_INET, address_text.c_str(), result.address.data()) == 1) {
    result.family = AF_INET;
  } else if (inet_pton(AF_INET6, address_text.c_str(), result.address.data()) == 1) {
    result.family = AF_INET6;
  } else {
    throw bad("'" + address_text + "' is not an IPv4 or IPv6 address");
  }
  const unsigned max_prefix = result.family == AF_INET ? 32 : 128;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view prefix_text = text.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
    if (prefix_text.empty() || ec != std::errc() ||
        end != prefix_text.data() + prefix_text.size() || prefix > max_prefix) {
      throw bad("prefix length must be 0-" + std::to_string(max_prefix));
    }
  }
  result.prefix_length = static_cast<std::uint8_t>(prefix);
  Cidr masked = result;
  for (std::size_t i = 0; i < masked.address.size(); ++i) {
    masked.address[i] &= prefix_mask(masked.prefix_length, i);
  }
  if (masked.address != result.address) {
    throw bad("host bits are set; did you mean " + masked.to_string() + "?");
  }
  return result;
}

}  // namespace earshot::config
