#include "socket_address.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace earshot::traffic {

void throw_errno(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

SocketAddress parse_socket_address(const std::string& literal, std::uint16_t port) {
  SocketAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (::inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.length = sizeof(sockaddr_in6);
  } else {
    throw Error("not an IPv4 or IPv6 address: '" + literal + "'");
  }
  return address;
}

Family parse_family(const std::string& text) {
  if (text == "any") return Family::any;
  if (text == "4" || text == "ipv4") return Family::ipv4;
  if (text == "6" || text == "ipv6") return Family::ipv6;
  throw Error("family must be any, 4 or 6, not '" + text + "'");
}

UniqueFd bind_wildcard(int type, std::uint16_t port, Family family) {
  int domain = family == Family::ipv4 ? AF_INET : AF_INET6;
  UniqueFd fd(::socket(domain, type | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  SocketAddress address;
  if (domain == AF_INET) {
    address = parse_socket_address("0.0.0.0", port);
  } else {
    int v6_only = family == Family::ipv6 ? 1 : 0;
    if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only) != 0) {
      throw_errno("IPV6_V6ONLY");
    }
    address = parse_socket_address("::", port);
  }
  if (::bind(fd.get(), address.get(), address.length) != 0) {
    throw_errno("bind port " + std::to_string(port));
  }
  return fd;
}

}  // namespace earshot::traffic
