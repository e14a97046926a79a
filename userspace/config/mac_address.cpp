#include "config/mac_address.h"

#include <fmt/format.h>

#include "common/error.h"

namespace earshot::config {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

MacAddress parse_mac(std::string_view text) {
  auto bad = [&] {
    return Error("must be a MAC address like 02:00:00:aa:bb:cc (got '" + std::string(text) + "')");
  };
  if (text.size() != 17) throw bad();
  MacAddress mac{};
  const char separator = text[2];
  if (separator != ':' && separator != '-') throw bad();
  for (std::size_t i = 0; i < 6; ++i) {
    int high = hex_digit(text[i * 3]), low = hex_digit(text[i * 3 + 1]);
    if (high < 0 || low < 0 || (i < 5 && text[i * 3 + 2] != separator)) throw bad();
    mac[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return mac;
}

std::string format_mac(const MacAddress& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

}  // namespace earshot::config
