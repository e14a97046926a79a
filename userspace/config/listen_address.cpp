#include "config/listen_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "common/error.h"

namespace earshot::config {
namespace {

bool is_ipv6_literal(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

bool looks_like_ipv4(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

bool is_ipv4_literal(const std::string& host) {
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

// RFC 1123 host name characters; enough to reject typos like "local host".
bool is_host_name(std::string_view host) {
  return !host.empty() && host.front() != '-' && host.front() != '.' &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
         });
}

}  // namespace

std::string ListenAddress::to_string() const {
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return shown_host + ":" + std::to_string(port);
}

ListenAddress parse_listen_address(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error("bad address '" + std::string(text) + "' (" + std::string(why) + ")");
  };
  ListenAddress result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) throw bad("missing ']' after IPv6 address");
    result.host = std::string(text.substr(1, close - 1));
    if (!is_ipv6_literal(result.host)) throw bad("'" + result.host + "' is not an IPv6 address");
    const std::string_view after = text.substr(close + 1);
    if (after.empty() || after.front() != ':') throw bad("missing port, expected [v6]:port");
    port_text = after.substr(1);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) throw bad("missing port, expected host:port");
    result.host = std::string(text.substr(0, colon));
    if (result.host.find(':') != std::string::npos) {
      throw bad("an IPv6 address needs brackets, as in [::1]:9737");
    }
    if (!result.host.empty()) {
      if (looks_like_ipv4(result.host)) {
        if (!is_ipv4_literal(result.host))
          throw bad("'" + result.host + "' is not an IPv4 address");
      } else if (!is_host_name(result.host)) {
        throw bad("'" + result.host + "' is not a host name or address");
      }
    }
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty()) throw bad("missing port, expected host:port");
  unsigned long port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && port > 65535)) {
    throw bad("port must be 0-65535");
  }
  if (ec != std::errc() || end != port_text.data() + port_text.size()) {
    throw bad("port must be a number 0-65535");
  }
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

}  // namespace earshot::config
