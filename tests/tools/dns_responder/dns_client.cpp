#include "dns_client.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <random>

#include "../socket_address.h"
#include "common/error.h"
#include "dns_message.h"

namespace earshot::dns_tool {

std::string resolve(const std::string& server, std::uint16_t port, const std::string& name,
                    bool ipv6, std::chrono::milliseconds timeout) {
  auto address = traffic::parse_socket_address(server, port);
  UniqueFd fd(::socket(address.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) traffic::throw_errno("socket");
  if (::connect(fd.get(), address.get(), address.length) != 0) {
    traffic::throw_errno("connect to DNS server " + server);
  }
  const std::uint16_t type = ipv6 ? kTypeAaaa : kTypeA;
  const auto id = static_cast<std::uint16_t>(std::random_device{}());
  const auto query = build_query({id, name, type});
  constexpr int kAttempts = 5;
  const auto per_attempt = timeout / kAttempts;
  std::array<std::uint8_t, 1500> buffer{};
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (::send(fd.get(), query.data(), query.size(), 0) < 0 && errno != ECONNREFUSED) {
      traffic::throw_errno("send DNS query to " + server);
    }
    auto deadline = std::chrono::steady_clock::now() + per_attempt;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd ready{fd.get(), POLLIN, 0};
      int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
      if (polled < 0 && errno == EINTR) continue;
      if (polled <= 0) break;
      ssize_t got = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
      if (got < 0) break;  // e.g. ECONNREFUSED while the server starts: ask again
      auto rdata = first_answer(std::span(buffer.data(), static_cast<std::size_t>(got)), id, type);
      if (!rdata) continue;  // a stray datagram or no record of that type
      char text[INET6_ADDRSTRLEN] = {};
      if (rdata->size() == (ipv6 ? 16U : 4U) &&
          ::inet_ntop(ipv6 ? AF_INET6 : AF_INET, rdata->data(), text, sizeof text)) {
        return text;
      }
      throw Error("DNS server " + server + " answered " + name + " with a malformed address");
    }
  }
  throw Error("DNS server " + server + " gave no address for " + name + " within " +
              std::to_string(timeout.count()) + " ms");
}

}  // namespace earshot::dns_tool
