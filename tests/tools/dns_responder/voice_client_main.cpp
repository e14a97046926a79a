// earshot-voice-client: one process shaped like a voice assistant, the thing
// earshot's capture sessions are about. It resolves its upload host through
// a DNS server (so earshot's passive DNS can name it), then, after "ready"
// (and --wait-file), opens a capture device, reads from it at --read bytes/s
// and streams UDP datagrams to the resolved address at the same time, for
// SECONDS. Reading and sending happen in the same process, so earshot counts
// the upload as the capturing process's own ("self") bytes.
//
// Output lines: "resolved ADDR", "ready", "opened", then
// "closed sent_datagrams=N sent_bytes=B read_bytes=R" (payload bytes).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <iostream>
#include <thread>
#include <vector>

#include "../socket_address.h"
#include "../traffic.h"
#include "common/error.h"
#include "dns_client.h"

namespace {

using namespace earshot;
using Clock = std::chrono::steady_clock;

struct Stream {
  std::string device;
  double seconds = 5;
  std::uint64_t read_bytes_per_second = 4000;
  std::uint16_t port = 0;
  std::size_t datagram_size = 200;
  std::chrono::milliseconds interval{50};
};

int capture_and_upload(const traffic::Common& common, const traffic::SocketAddress& destination,
                       const Stream& stream) {
  UniqueFd socket_fd(::socket(destination.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket_fd) traffic::throw_errno("socket");
  traffic::say("ready");
  traffic::wait_for_go(common);
  UniqueFd device(::open(stream.device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!device) traffic::throw_errno("open " + stream.device);
  traffic::say("opened");

  // Reads in ten slices a second; sends on its own tick. Both are scheduled
  // from the start time, so a late wake-up does not stretch the stream.
  const auto read_tick = std::chrono::milliseconds(100);
  std::vector<char> slice(std::max<std::uint64_t>(stream.read_bytes_per_second / 10, 1));
  std::vector<char> payload(stream.datagram_size, 'v');
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(stream.seconds));
  auto next_read = start;
  auto next_send = start;
  std::uint64_t read_bytes = 0;
  std::uint64_t sent = 0;
  while (true) {
    const bool read_now = stream.read_bytes_per_second > 0 && next_read <= next_send;
    const auto next = read_now ? next_read : next_send;
    if (next >= end) break;
    std::this_thread::sleep_until(next);
    if (read_now) {
      ssize_t got = ::read(device.get(), slice.data(), slice.size());
      if (got < 0 && errno != EINTR) traffic::throw_errno("read " + stream.device);
      if (got > 0) read_bytes += static_cast<std::uint64_t>(got);
      next_read += read_tick;
      continue;
    }
    ssize_t wrote = ::sendto(socket_fd.get(), payload.data(), payload.size(), 0, destination.get(),
                             destination.length);
    if (wrote < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN &&
        errno != ECONNREFUSED) {
      traffic::throw_errno("sendto");
    }
    if (wrote >= 0) ++sent;
    next_send += stream.interval;
  }
  // Everything was sent while the device was open.
  device.reset();
  traffic::say("closed sent_datagrams=" + std::to_string(sent) +
               " sent_bytes=" + std::to_string(sent * stream.datagram_size) +
               " read_bytes=" + std::to_string(read_bytes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"earshot-voice-client: resolve a host, then capture and upload to it at once"};
  std::string server;
  std::uint16_t dns_port = 53;
  std::string name;
  bool ipv6 = false;
  Stream stream;
  std::int64_t interval_ms = 50;
  traffic::Common common;
  std::int64_t linger_ms = 0;
  app.add_option("--dns-server", server, "IPv4 or IPv6 literal of the DNS server")->required();
  app.add_option("--dns-port", dns_port)->capture_default_str();
  app.add_option("--name", name, "the upload host, resolved through --dns-server")->required();
  app.add_flag("--ipv6", ipv6, "resolve AAAA and upload over IPv6");
  app.add_option("--device", stream.device, "capture device node to read")->required();
  app.add_option("--seconds", stream.seconds, "how long to capture and upload")
      ->capture_default_str();
  app.add_option("--read", stream.read_bytes_per_second, "bytes a second read from the device")
      ->capture_default_str();
  app.add_option("--port", stream.port, "UDP port of the upload")->required();
  app.add_option("--size", stream.datagram_size, "payload bytes a datagram")->capture_default_str();
  app.add_option("--interval-ms", interval_ms, "time between datagrams")->capture_default_str();
  app.add_option("--wait-file", common.wait_file,
                 "after \"ready\", wait until this path exists before capturing");
  app.add_option("--linger-ms", linger_ms, "stay alive this long after the summary line");
  CLI11_PARSE(app, argc, argv);
  stream.interval = std::chrono::milliseconds(interval_ms);
  try {
    std::string address = dns_tool::resolve(server, dns_port, name, ipv6, std::chrono::seconds(10));
    traffic::say("resolved " + address);
    int code =
        capture_and_upload(common, traffic::parse_socket_address(address, stream.port), stream);
    std::this_thread::sleep_for(std::chrono::milliseconds(linger_ms));
    return code;
  } catch (const Error& error) {
    std::cerr << "earshot-voice-client: " << error.what() << std::endl;
    return 1;
  }
}
