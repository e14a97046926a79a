#pragma once
// earshot-traffic: programs whose traffic and device opens the kernel and
// e2e tests measure. Each subcommand prints "ready" once it can be raced
// against (socket bound, connection made, device about to be opened) and
// one key=value summary line at the end.
#include <chrono>
#include <cstdint>
#include <string>

#include "socket_address.h"

namespace earshot::traffic {

struct Common {
  std::string wait_file;                // block before acting until this path exists
  std::chrono::milliseconds linger{0};  // stay alive after the summary line
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // for connect / accept / receive
};

// Prints a line to stdout and flushes, so tests polling the file see it.
void say(const std::string& line);
// Waits until common.wait_file exists (no-op when empty).
void wait_for_go(const Common& common);

// Sends BYTES, shuts down and reads until the peer closes (a download when
// the peer replies); reports the bytes sent and those TCP retransmitted.
int tcp_send(const Common& common, const SocketAddress& destination, std::uint64_t bytes);
// Accepts one connection and reads it to EOF; then sends reply_bytes back on it.
int tcp_sink(const Common& common, std::uint16_t port, Family family, std::uint64_t reply_bytes);
int udp_send(const Common& common, const SocketAddress& destination, std::uint64_t count,
             std::size_t size, std::chrono::milliseconds interval);
int udp_sink(const Common& common, std::uint16_t port, Family family, std::uint64_t count);
// Opens PATH read-only, as a capture would; throws earshot::Error.
UniqueFd open_capture(const std::string& path);
int open_device(const Common& common, const std::string& path, double seconds,
                std::uint64_t read_bytes_per_second);

}  // namespace earshot::traffic
