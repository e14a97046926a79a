// earshot-speaker: a smart speaker's network life, for the episode tests.
//
//   earshot-speaker peer PORT --proto tcp|udp
//     The cloud end: takes framed messages (keep-alives, upload chunks,
//     download requests) and answers a download request by sending the
//     asked bytes back, paced over the asked time.
//   earshot-speaker listen --peer ADDR --port PORT --proto tcp|udp ...
//     The speaker: optionally reads a capture node the whole time (as a
//     wake-word engine does), keeps one connection (TCP) or socket (UDP) to
//     the peer, sends a keep-alive every --keepalive-ms, and runs the
//     --upload and --download actions (AT:SECONDS:BYTES_PER_SECOND, seconds
//     from the start) on it. A download sends only its request (9 bytes);
//     what comes back is the peer's. A --bursty-upload sends the same
//     average rate unevenly, as a sync of files or logs does: chunks of
//     random size (1-64 kB, log-uniform, scaled to the rate) at random gaps
//     (0.1-1.8 s), drawn from --seed.
//
// Frames (both protocols): a type byte, a 4-byte big-endian length, a body.
// Output: "ready", "opened" (capturing from here), one line an action when
// it ends: "upload begin_ms=A end_ms=B bytes=N" (times from "opened"; bytes
// of payload), "download begin_ms=A end_ms=B received=N", then "closed
// read_bytes=R sent_bytes=S".
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "../socket_address.h"
#include "../traffic.h"
#include "common/error.h"

namespace {

using namespace earshot;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kKeepAlive = 'K';
constexpr char kUpload = 'U';
constexpr char kDownload = 'D';
constexpr std::size_t kFrameHeader = 5;

std::vector<char> frame(char type, std::size_t body_size, const void* body = nullptr) {
  std::vector<char> out(kFrameHeader + body_size, 'x');
  out[0] = type;
  std::uint32_t length = htonl(static_cast<std::uint32_t>(body_size));
  std::memcpy(out.data() + 1, &length, 4);
  if (body) std::memcpy(out.data() + kFrameHeader, body, body_size);
  return out;
}

void send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) {
        std::this_thread::sleep_for(milliseconds(1));
        continue;
      }
      traffic::throw_errno("send");
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

bool recv_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::recv(fd, data, size, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Sends `rate` bytes a second for `ms` in 50 ms slices of at most `slice` bytes each.
std::uint64_t paced(const std::function<void(std::size_t)>& send, std::uint32_t ms,
                    std::uint32_t rate, std::size_t max_slice = 60000) {
  const auto tick = milliseconds(50);
  const auto start = Clock::now();
  const auto end = start + milliseconds(ms);
  std::uint64_t sent = 0;
  double owed = 0;
  for (auto next = start; next < end; next += tick) {
    std::this_thread::sleep_until(next);
    owed += rate * 0.05;
    while (owed >= 1) {
      auto n = static_cast<std::size_t>(std::min<double>(owed, static_cast<double>(max_slice)));
      send(n);
      sent += n;
      owed -= static_cast<double>(n);
    }
  }
  return sent;
}

// Sends about `rate` bytes a second for `ms`, unevenly: chunks whose size is
// log-uniform over a 64x range, at gaps of 0.1-1.8 s, each chunk at once
// in frames of at most `slice` bytes.
std::uint64_t bursty(const std::function<void(std::size_t)>& send, std::uint32_t ms,
                     std::uint32_t rate, std::uint32_t seed, std::size_t max_slice = 1200) {
  std::mt19937 random(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  // The mean of a log-uniform over [c, 64c] is 63c / ln 64; the mean gap is 0.95 s.
  const double smallest = rate * 0.95 * std::log(64.0) / 63;
  const auto start = Clock::now();
  const auto end = start + milliseconds(ms);
  std::uint64_t sent = 0;
  for (auto next = start; next < end;
       next += std::chrono::duration_cast<Clock::duration>(
           std::chrono::duration<double>(uniform(0.1, 1.8)))) {
    std::this_thread::sleep_until(next);
    auto chunk = static_cast<std::size_t>(smallest * std::exp(uniform(0, std::log(64.0))));
    for (std::size_t left = chunk; left > 0;) {
      std::size_t n = std::min(left, max_slice);
      send(n);
      left -= n;
    }
    sent += chunk;
  }
  return sent;
}

struct DownloadRequest {
  std::uint32_t ms = 0;
  std::uint32_t rate = 0;
};

int run_peer(std::uint16_t port, bool tcp) {
  UniqueFd sock = traffic::bind_wildcard(tcp ? SOCK_STREAM : SOCK_DGRAM, port, traffic::Family::any);
  if (tcp && ::listen(sock.get(), 4) != 0) traffic::throw_errno("listen");
  traffic::say("ready");
  if (!tcp) {
    std::vector<char> buf(65536);
    std::vector<std::thread> senders;
    for (;;) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n = ::recvfrom(sock.get(), buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        traffic::throw_errno("recvfrom");
      }
      if (n >= static_cast<ssize_t>(kFrameHeader + sizeof(DownloadRequest)) && buf[0] == kDownload) {
        DownloadRequest r;
        std::memcpy(&r, buf.data() + kFrameHeader, sizeof r);
        int fd = sock.get();
        senders.emplace_back([fd, r, from, from_len] {
          std::vector<char> data(1200, 'd');
          paced([&](std::size_t n) {
                  for (std::size_t off = 0; off < n; off += data.size())
                    ::sendto(fd, data.data(), std::min(data.size(), n - off), 0,
                             reinterpret_cast<const sockaddr*>(&from), from_len);
                },
                r.ms, r.rate);
        });
      }
    }
  }
  for (;;) {
    UniqueFd conn(::accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      if (errno == EINTR) continue;
      traffic::throw_errno("accept");
    }
    std::mutex send_lock;
    std::vector<std::thread> senders;
    std::vector<char> body;
    for (;;) {
      char header[kFrameHeader];
      if (!recv_all(conn.get(), header, sizeof header)) break;
      std::uint32_t length;
      std::memcpy(&length, header + 1, 4);
      body.resize(ntohl(length));
      if (!recv_all(conn.get(), body.data(), body.size())) break;
      if (header[0] == kDownload && body.size() >= sizeof(DownloadRequest)) {
        DownloadRequest r;
        std::memcpy(&r, body.data(), sizeof r);
        int fd = conn.get();
        senders.emplace_back([fd, r, &send_lock] {
          std::vector<char> data(60000, 'd');
          paced([&](std::size_t n) {
                  std::lock_guard lock(send_lock);
                  send_all(fd, data.data(), std::min(n, data.size()));
                },
                r.ms, r.rate, data.size());
        });
      }
    }
    for (auto& t : senders) t.join();
  }
}

struct Action {
  double at = 0, seconds = 0;
  std::uint32_t rate = 0;
};

Action parse_action(const std::string& text) {
  Action a;
  if (std::sscanf(text.c_str(), "%lf:%lf:%u", &a.at, &a.seconds, &a.rate) != 3)
    throw Error("an action is AT:SECONDS:BYTES_PER_SECOND, not '" + text + "'");
  return a;
}

struct Listen {
  std::string peer;
  std::uint16_t port = 0;
  bool tcp = true;
  std::string device;  // empty: no capture
  double seconds = 60;
  std::uint64_t read_rate = 4000;
  std::uint32_t keepalive_ms = 5000;
  std::size_t keepalive_size = 40;
  std::vector<std::string> uploads, bursty_uploads, downloads;
  std::uint32_t seed = 1;  // of the bursty uploads
};

int run_listen(const Listen& o, const traffic::Common& common) {
  auto address = traffic::parse_socket_address(o.peer, o.port);
  UniqueFd sock(::socket(address.family(), (o.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!sock) traffic::throw_errno("socket");
  if (::connect(sock.get(), address.get(), address.length) != 0) traffic::throw_errno("connect");
  traffic::say("ready");
  traffic::wait_for_go(common);
  UniqueFd device;
  if (!o.device.empty()) {
    device.reset(::open(o.device.c_str(), O_RDONLY | O_CLOEXEC));
    if (!device) traffic::throw_errno("open " + o.device);
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.seconds));
  traffic::say("opened");
  auto ms_since_start = [&] {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  };
  std::mutex send_lock;
  std::atomic<std::uint64_t> sent{0};
  // One frame a datagram for UDP; a stream of frames for TCP.
  auto send_frame = [&](char type, std::size_t body, const void* data = nullptr) {
    auto f = frame(type, body, data);
    std::lock_guard lock(send_lock);
    send_all(sock.get(), f.data(), f.size());
    sent += body;
  };
  std::vector<std::thread> threads;
  std::mutex say_lock;
  auto report = [&](const std::string& line) {
    std::lock_guard lock(say_lock);
    traffic::say(line);
  };
  for (const auto& text : o.uploads) {
    Action a = parse_action(text);
    threads.emplace_back([&, a] {
      std::this_thread::sleep_until(start + milliseconds(static_cast<int>(a.at * 1000)));
      auto begin = ms_since_start();
      std::uint64_t bytes = paced([&](std::size_t n) { send_frame(kUpload, n); },
                                  static_cast<std::uint32_t>(a.seconds * 1000), a.rate, 1200);
      report("upload begin_ms=" + std::to_string(begin) + " end_ms=" +
             std::to_string(ms_since_start()) + " bytes=" + std::to_string(bytes));
    });
  }
  for (const auto& text : o.bursty_uploads) {
    Action a = parse_action(text);
    threads.emplace_back([&, a] {
      std::this_thread::sleep_until(start + milliseconds(static_cast<int>(a.at * 1000)));
      auto begin = ms_since_start();
      std::uint64_t bytes = bursty([&](std::size_t n) { send_frame(kUpload, n); },
                                   static_cast<std::uint32_t>(a.seconds * 1000), a.rate, o.seed);
      report("upload begin_ms=" + std::to_string(begin) + " end_ms=" +
             std::to_string(ms_since_start()) + " bytes=" + std::to_string(bytes));
    });
  }
  for (const auto& text : o.downloads) {
    Action a = parse_action(text);
    threads.emplace_back([&, a] {
      std::this_thread::sleep_until(start + milliseconds(static_cast<int>(a.at * 1000)));
      auto begin = ms_since_start();
      DownloadRequest r{static_cast<std::uint32_t>(a.seconds * 1000), a.rate};
      send_frame(kDownload, sizeof r, &r);
      std::this_thread::sleep_for(milliseconds(r.ms));
      report("download begin_ms=" + std::to_string(begin) + " end_ms=" +
             std::to_string(ms_since_start()));
    });
  }
  // What the peer sends back is read and dropped (a download).
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::vector<char> buf(65536);
    while (!done) {
      pollfd p{sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        if (::recv(sock.get(), buf.data(), buf.size(), MSG_DONTWAIT) == 0) break;
      }
    }
  });
  // The wake-word engine: reads the capture node in ten slices a second;
  // the keep-alive on its own tick.
  std::uint64_t read_bytes = 0;
  std::vector<char> slice(std::max<std::uint64_t>(o.read_rate / 10, 1));
  auto next_read = start;
  auto next_keepalive = start + milliseconds(o.keepalive_ms);
  while (true) {
    auto next = o.keepalive_ms ? std::min(next_read, next_keepalive) : next_read;
    if (next >= end) break;
    std::this_thread::sleep_until(next);
    if (next == next_keepalive && o.keepalive_ms) {
      send_frame(kKeepAlive, o.keepalive_size - kFrameHeader);
      next_keepalive += milliseconds(o.keepalive_ms);
      continue;
    }
    if (device) {
      ssize_t got = ::read(device.get(), slice.data(), slice.size());
      if (got > 0) read_bytes += static_cast<std::uint64_t>(got);
    }
    next_read += milliseconds(100);
  }
  for (auto& t : threads) t.join();
  device.reset();
  done = true;
  reader.join();
  traffic::say("closed read_bytes=" + std::to_string(read_bytes) +
               " sent_bytes=" + std::to_string(sent.load()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"earshot-speaker: a speaker's uploads, downloads and keep-alives"};
  app.require_subcommand(1);
  std::uint16_t peer_port = 0;
  std::string peer_proto = "tcp";
  auto* peer = app.add_subcommand("peer", "the cloud end");
  peer->add_option("PORT", peer_port)->required();
  peer->add_option("--proto", peer_proto)->check(CLI::IsMember({"tcp", "udp"}));

  Listen listen;
  std::string proto = "tcp";
  traffic::Common common;
  auto* speaker = app.add_subcommand("listen", "the speaker");
  speaker->add_option("--peer", listen.peer)->required();
  speaker->add_option("--port", listen.port)->required();
  speaker->add_option("--proto", proto)->check(CLI::IsMember({"tcp", "udp"}));
  speaker->add_option("--device", listen.device, "capture node read the whole time");
  speaker->add_option("--seconds", listen.seconds)->capture_default_str();
  speaker->add_option("--read", listen.read_rate, "bytes a second read")->capture_default_str();
  speaker->add_option("--keepalive-ms", listen.keepalive_ms, "0: none")->capture_default_str();
  speaker->add_option("--keepalive-size", listen.keepalive_size)->capture_default_str();
  speaker->add_option("--upload", listen.uploads, "AT:SECONDS:BYTES_PER_SECOND");
  speaker->add_option("--bursty-upload", listen.bursty_uploads,
                      "AT:SECONDS:BYTES_PER_SECOND on average, unevenly");
  speaker->add_option("--seed", listen.seed, "of the bursty uploads")->capture_default_str();
  speaker->add_option("--download", listen.downloads, "AT:SECONDS:BYTES_PER_SECOND");
  speaker->add_option("--wait-file", common.wait_file);
  CLI11_PARSE(app, argc, argv);
  try {
    if (*peer) return run_peer(peer_port, peer_proto == "tcp");
    listen.tcp = proto == "tcp";
    listen.keepalive_size = std::max(listen.keepalive_size, kFrameHeader);
    return run_listen(listen, common);
  } catch (const Error& error) {
    std::cerr << "earshot-speaker: " << error.what() << std::endl;
    return 1;
  }
}
