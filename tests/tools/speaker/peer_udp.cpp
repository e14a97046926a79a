// The peer over UDP: one socket; replies go by sendto to whoever asked.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "../traffic.h"
#include "peer.h"
#include "peer_replies.h"

namespace earshot::speaker {

namespace {

// Data in one reply datagram, its frame header and tag aside.
constexpr std::size_t kUdpReplyData = 1200;

struct Client {
  sockaddr_storage address{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address); }
};

void send_download(int fd, Client client, DownloadRequest r) {
  std::vector<char> data(1200, kDownloadData);
  paced(
      [&](std::size_t n) {
        for (std::size_t off = 0; off < n; off += data.size())
          ::sendto(fd, data.data(), std::min(data.size(), n - off), 0, client.get(), client.length);
      },
      r.ms, r.rate);
}

void send_stream(int fd, Client client, StreamRequest r, bool segment) {
  const char type = segment ? kSegmentData : kMusicData;
  auto send = [&](std::size_t n) {
    for (std::size_t left = n; left > 0;) {
      const std::size_t piece = std::min(left, kUdpReplyData);
      auto f = reply_frame(type, r.tag, piece);
      ::sendto(fd, f.data(), f.size(), 0, client.get(), client.length);
      left -= piece;
    }
  };
  // The speaker cannot say it has gone, so a reply runs its course.
  const std::atomic<bool> never{false};
  segment ? serve_segment(r, send, never) : serve_music(r, send, never);
}

}  // namespace

int run_udp_peer(std::uint16_t port) {
  UniqueFd sock = traffic::bind_wildcard(SOCK_DGRAM, port, traffic::Family::any);
  traffic::say("ready");
  std::vector<char> buf(65536);
  for (;;) {
    Client from;
    from.length = sizeof from.address;
    ssize_t n = ::recvfrom(sock.get(), buf.data(), buf.size(), 0,
                           reinterpret_cast<sockaddr*>(&from.address), &from.length);
    if (n < 0) {
      if (errno == EINTR) continue;
      traffic::throw_errno("recvfrom");
    }
    if (n < static_cast<ssize_t>(kFrameHeader)) continue;
    const std::span<const char> body(buf.data() + kFrameHeader,
                                     static_cast<std::size_t>(n) - kFrameHeader);
    const char type = buf[0];
    if (type == kDownload) {
      if (auto r = read_struct<DownloadRequest>(body))
        std::thread(send_download, sock.get(), from, *r).detach();
    } else if (type == kSegmentRequest || type == kMusicRequest) {
      if (auto r = read_struct<StreamRequest>(body))
        std::thread(send_stream, sock.get(), from, *r, type == kSegmentRequest).detach();
    }
  }
}

}  // namespace earshot::speaker
