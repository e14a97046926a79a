#include <linux/tcp.h>  // tcp_info with tcpi_bytes_retrans, which glibc's lacks
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <thread>
#include <vector>

#include "common/error.h"
#include "traffic.h"

namespace earshot::traffic {
namespace {

using Clock = std::chrono::steady_clock;

// Connects, retrying while the sink is not listening yet.
UniqueFd connect_with_retry(const SocketAddress& destination, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    UniqueFd fd(::socket(destination.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno("socket");
    if (::connect(fd.get(), destination.get(), destination.length) == 0) return fd;
    bool retry = errno == ECONNREFUSED || errno == ENETUNREACH || errno == EHOSTUNREACH;
    if (!retry || Clock::now() >= deadline) throw_errno("connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void wait_readable(int fd, std::chrono::milliseconds timeout, const char* what) {
  pollfd ready{fd, POLLIN, 0};
  int polled;
  do {
    polled = ::poll(&ready, 1, static_cast<int>(timeout.count()));
  } while (polled < 0 && errno == EINTR);
  if (polled < 0) throw_errno(what);
  if (polled == 0) throw Error(std::string(what) + ": timed out");
}

// Reads until EOF and returns the byte count.
std::uint64_t drain(int fd, std::chrono::milliseconds timeout) {
  std::vector<char> buffer(1 << 16);
  std::uint64_t total = 0;
  while (true) {
    wait_readable(fd, timeout, "recv");
    ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_errno("recv");
    if (got == 0) return total;
    total += static_cast<std::uint64_t>(got);
  }
}

std::uint64_t send_all(int fd, std::uint64_t bytes) {
  std::vector<char> chunk(1 << 16, 'e');
  std::uint64_t sent = 0;
  while (sent < bytes) {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), bytes - sent));
    ssize_t wrote = ::send(fd, chunk.data(), want, MSG_NOSIGNAL);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) throw_errno("send");
    sent += static_cast<std::uint64_t>(wrote);
  }
  return sent;
}

// Payload bytes TCP sent again (retransmissions, tail loss probes): the
// kernel counts them as payload sent, like the first copy.
std::uint64_t retransmitted_bytes(int fd) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) throw_errno("TCP_INFO");
  if (size < offsetof(tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans)
    throw Error("TCP_INFO has no tcpi_bytes_retrans (Linux 4.19+)");
  return info.tcpi_bytes_retrans;
}

}  // namespace

int tcp_send(const Common& common, const SocketAddress& destination, std::uint64_t bytes) {
  UniqueFd fd = connect_with_retry(destination, common.timeout);
  say("ready");
  wait_for_go(common);
  std::uint64_t sent = send_all(fd.get(), bytes);
  if (::shutdown(fd.get(), SHUT_WR) != 0) throw_errno("shutdown");
  // The peer closes after reading everything: then every byte has left.
  drain(fd.get(), common.timeout);
  say("sent_bytes=" + std::to_string(sent) +
      " retransmitted_bytes=" + std::to_string(retransmitted_bytes(fd.get())));
  return 0;
}

int tcp_sink(const Common& common, std::uint16_t port, Family family, std::uint64_t reply_bytes) {
  UniqueFd listener = bind_wildcard(SOCK_STREAM, port, family);
  if (::listen(listener.get(), 4) != 0) throw_errno("listen");
  say("ready");
  wait_readable(listener.get(), common.timeout, "accept");
  UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!connection) throw_errno("accept");
  std::uint64_t received = drain(connection.get(), common.timeout);
  std::uint64_t replied = send_all(connection.get(), reply_bytes);
  connection.reset();
  say("received_bytes=" + std::to_string(received) +
      (reply_bytes ? " replied_bytes=" + std::to_string(replied) : ""));
  return 0;
}

}  // namespace earshot::traffic
