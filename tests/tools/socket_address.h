#pragma once
// Socket addresses for IPv4 and IPv6 literals, and sockets bound for a sink.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/unique_fd.h"

namespace earshot::traffic {

enum class Family { any, ipv4, ipv6 };  // any: one IPv6 socket accepting IPv4 too

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// "10.199.0.2" or "fd00:199:0::2"; throws earshot::Error otherwise.
SocketAddress parse_socket_address(const std::string& literal, std::uint16_t port);
Family parse_family(const std::string& text);
// A socket of type (SOCK_STREAM or SOCK_DGRAM) bound to the wildcard address.
UniqueFd bind_wildcard(int type, std::uint16_t port, Family family);
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace earshot::traffic
