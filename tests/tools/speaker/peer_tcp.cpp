// The peer over TCP: a thread a connection, reading frames; replies are
// written whole under one lock, so they never interleave mid-frame.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <mutex>
#include <thread>

#include "../traffic.h"
#include "peer.h"
#include "peer_replies.h"

namespace earshot::speaker {

namespace {

void serve_tcp_connection(UniqueFd conn) {
  const int fd = conn.get();
  std::mutex send_lock;
  auto send_reply = [fd, &send_lock](char type, std::uint16_t tag) {
    return [fd, &send_lock, type, tag](std::size_t n) {
      auto f = reply_frame(type, tag, n);
      std::lock_guard lock(send_lock);
      send_all(fd, f.data(), f.size());
    };
  };
  ReplyThreads replies;
  std::vector<char> body;
  for (;;) {
    char header[kFrameHeader];
    if (!recv_all(fd, header, sizeof header)) break;
    std::uint32_t length;
    std::memcpy(&length, header + 1, 4);
    body.resize(ntohl(length));
    if (!recv_all(fd, body.data(), body.size())) break;
    const char type = header[0];
    if (type == kDownload) {
      if (auto r = read_struct<DownloadRequest>(body)) {
        replies.start([fd, r = *r, &send_lock](const std::atomic<bool>&) {
          std::vector<char> data(60000, kDownloadData);
          paced(
              [&](std::size_t n) {
                std::lock_guard lock(send_lock);
                send_all(fd, data.data(), std::min(n, data.size()));
              },
              r.ms, r.rate, data.size());
        });
      }
    } else if (type == kSegmentRequest || type == kMusicRequest) {
      if (auto r = read_struct<StreamRequest>(body)) {
        const bool segment = type == kSegmentRequest;
        auto send = send_reply(segment ? kSegmentData : kMusicData, r->tag);
        replies.start([r = *r, send, segment](const std::atomic<bool>& stop) {
          segment ? serve_segment(r, send, stop) : serve_music(r, send, stop);
        });
      }
    }
  }
  replies.stop_and_join();
}

}  // namespace

int run_tcp_peer(std::uint16_t port) {
  UniqueFd sock = traffic::bind_wildcard(SOCK_STREAM, port, traffic::Family::any);
  if (::listen(sock.get(), 4) != 0) traffic::throw_errno("listen");
  traffic::say("ready");
  for (;;) {
    UniqueFd conn(::accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      if (errno == EINTR) continue;
      traffic::throw_errno("accept");
    }
    std::thread(serve_tcp_connection, std::move(conn)).detach();
  }
}

}  // namespace earshot::speaker
