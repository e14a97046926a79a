// The speaker over QUIC-like datagrams on a connected UDP socket: each
// message or media piece a datagram, the peer's data acknowledged.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "action_random.h"
#include "link.h"
#include "quic_session.h"

namespace earshot::speaker {

namespace {

class QuicLink final : public Link {
 public:
  QuicLink(UniqueFd socket, std::uint32_t connection_id, std::uint32_t ack_seed)
      : socket_(std::move(socket)), session_(socket_.get(), connection_id, ack_seed) {}

  void keepalive(std::size_t size) override { message(kKeepAlive, size - kQuicOverhead, nullptr); }

  void message(char type, std::size_t body_size, const void* body) override {
    session_.send(type, body_size, body);
    sent_ += body_size;
  }

  void request_download(std::uint32_t ms, std::uint32_t rate, std::uint32_t seed) override {
    StreamRequest request{.bytes = stream_bytes(ms, rate), .ms = ms, .rate = rate, .seed = seed};
    message(kDownload, sizeof request, &request);
  }

  // Split into datagrams of at most kQuicMaxSend bytes.
  void media(const MediaFrame& frame, RtpStream&) override {
    constexpr std::size_t kMaxBody = kQuicMaxSend - kQuicOverhead;
    std::size_t left = frame.bytes;
    do {
      const std::size_t n = std::min(left, kMaxBody);
      message(frame.type, n, nullptr);
      left -= n;
    } while (left > 0);
  }

  void receive(const std::atomic<bool>& done, ReplyCounters& replies) override {
    std::vector<char> buf(65536);
    while (!done) {
      pollfd p{socket_.get(), POLLIN, 0};
      if (::poll(&p, 1, session_.poll_timeout(Clock::now(), 100)) <= 0) continue;
      ssize_t n = ::recv(socket_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) continue;
      auto packet = session_.receive({buf.data(), static_cast<std::size_t>(n)}, Clock::now());
      if (!packet || packet->body.size() < kTagSize) continue;
      if (packet->type == kDownloadData || packet->type == kSegmentData ||
          packet->type == kMusicData)
        replies.add(read_tag(packet->body.data()), packet->body.size() - kTagSize);
    }
  }

  // CONNECTION_CLOSE: an error code, a frame type, an empty reason.
  void close() override { session_.send(kQuicClose, 8); }

  std::size_t overhead() const override { return kQuicOverhead; }

 private:
  UniqueFd socket_;
  QuicSession session_;
};

}  // namespace

std::unique_ptr<Link> make_quic_link(UniqueFd socket, std::uint32_t seed) {
  auto random = seeded_random(seed, Draw::connection, 0);
  const std::uint32_t connection_id = random();
  const std::uint32_t ack_seed = random();
  return std::make_unique<QuicLink>(std::move(socket), connection_id, ack_seed);
}

}  // namespace earshot::speaker
