#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "traffic.h"

namespace earshot::traffic {

int udp_send(const Common& common, const SocketAddress& destination, std::uint64_t count,
             std::size_t size, std::chrono::milliseconds interval) {
  UniqueFd fd(::socket(destination.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  say("ready");
  wait_for_go(common);
  std::vector<char> payload(size, 'u');
  std::uint64_t sent = 0;
  while (sent < count) {
    // Unconnected sendto: an ICMP "port unreachable" for an earlier
    // datagram does not fail the later ones.
    ssize_t wrote = ::sendto(fd.get(), payload.data(), payload.size(), 0, destination.get(),
                             destination.length);
    if (wrote < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (wrote < 0) throw_errno("sendto");
    ++sent;
    if (interval.count() > 0 && sent < count) std::this_thread::sleep_for(interval);
  }
  say("sent_datagrams=" + std::to_string(sent) + " sent_bytes=" + std::to_string(sent * size));
  return 0;
}

int udp_sink(const Common& common, std::uint16_t port, Family family, std::uint64_t count) {
  UniqueFd fd = bind_wildcard(SOCK_DGRAM, port, family);
  // A burst of datagrams must not overflow the default receive buffer
  // (SO_RCVBUFFORCE works as root; otherwise the default stays).
  int buffer_size = 8 << 20;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size) != 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
  }
  say("ready");
  auto deadline = std::chrono::steady_clock::now() + common.timeout;
  std::vector<char> buffer(1 << 16);
  std::uint64_t datagrams = 0;
  std::uint64_t bytes = 0;
  while (datagrams < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd ready{fd.get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled < 0) throw_errno("poll");
    if (polled == 0) break;
    ssize_t got = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_errno("recv");
    ++datagrams;
    bytes += static_cast<std::uint64_t>(got);
  }
  say("received_datagrams=" + std::to_string(datagrams) +
      " received_bytes=" + std::to_string(bytes));
  return datagrams >= count ? 0 : 2;
}

}  // namespace earshot::traffic
