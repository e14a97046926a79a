#pragma once
// A device's hardware address, as gateway mode identifies LAN devices.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace earshot::config {

using MacAddress = std::array<std::uint8_t, 6>;

// "02:00:00:aa:bb:cc" or "02-00-00-AA-BB-CC": six two-digit hex bytes,
// separated by ':' or '-', any case.
// Throws earshot::Error without a position.
MacAddress parse_mac(std::string_view text);

// Lower case, colons: "02:00:00:aa:bb:cc".
std::string format_mac(const MacAddress& mac);

}  // namespace earshot::config
