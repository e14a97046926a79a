#pragma once
// The address the HTTP endpoint listens on, as the Prometheus exporters write
// it: "host:port", "[v6]:port", or ":port" (every interface).
#include <cstdint>
#include <string>
#include <string_view>

namespace earshot::config {

struct ListenAddress {
  std::string host;        // IPv4 literal, IPv6 literal without brackets, host name, or "" = any
  std::uint16_t port = 0;  // 0 = any free port

  // Back in the input form: brackets around IPv6 literals.
  std::string to_string() const;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Throws earshot::Error "bad address '<text>' (<why>)" without a position.
ListenAddress parse_listen_address(std::string_view text);

}  // namespace earshot::config
