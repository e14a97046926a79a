#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "bench.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "socket_address.h"

namespace earshot::bench {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int udp_flood(const FloodOptions& options) {
  traffic::SocketAddress to = traffic::parse_socket_address(options.address, options.port);
  UniqueFd fd(::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  if (options.connected && ::connect(fd.get(), to.get(), to.length) != 0) throw_errno("connect");
  std::vector<char> payload(options.size, 'b');
  // sendmmsg: more packets a second from the same CPU, for a load test.
  unsigned batch = options.connected ? std::max(1U, options.batch) : 1;
  iovec iov{payload.data(), payload.size()};
  std::vector<mmsghdr> messages(batch);
  for (auto& m : messages) {
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
  }
  std::uint64_t sent = 0;
  std::uint64_t refused = 0;  // ENOBUFS/EAGAIN/ECONNREFUSED: retried, not counted
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options.seconds));
  auto now = start;
  while (now < deadline) {
    // Reading the clock every packet would cost a noticeable share.
    for (int i = 0; i < 256 && batch > 1; ++i) {
      int wrote = ::sendmmsg(fd.get(), messages.data(), batch, 0);
      if (wrote >= 0) {
        sent += static_cast<std::uint64_t>(wrote);
      } else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR) {
        ++refused;
      } else {
        throw_errno("sendmmsg");
      }
    }
    for (int i = 0; i < 256 && batch == 1; ++i) {
      ssize_t wrote = options.connected ? ::send(fd.get(), payload.data(), payload.size(), 0)
                                        : ::sendto(fd.get(), payload.data(), payload.size(), 0,
                                                   to.get(), to.length);
      if (wrote >= 0) {
        ++sent;
      } else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR) {
        ++refused;
      } else {
        throw_errno("send");
      }
    }
    now = Clock::now();
  }
  double seconds = std::chrono::duration<double>(now - start).count();
  say("sent=" + std::to_string(sent) + " refused=" + std::to_string(refused) +
      " seconds=" + std::to_string(seconds) +
      " pps=" + std::to_string(static_cast<std::uint64_t>(sent / seconds)));
  return 0;
}

int udp_sink(std::uint16_t port, double seconds, std::chrono::milliseconds idle) {
  UniqueFd fd = traffic::bind_wildcard(SOCK_DGRAM, port, traffic::Family::ipv4);
  int buffer_size = 8 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size);
  say("ready");
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds));
  std::vector<char> buffer(2048);
  std::uint64_t received = 0;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    if (received > 0 && left > idle) left = idle;
    pollfd ready{fd.get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled < 0) throw_errno("poll");
    if (polled == 0) {
      if (received > 0) break;  // the flood is over
      continue;
    }
    // Drain without blocking: one poll per datagram would be the bottleneck.
    while (::recv(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT) >= 0) ++received;
  }
  say("received=" + std::to_string(received));
  return 0;
}

void throw_errno(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

}  // namespace earshot::bench
