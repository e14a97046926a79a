// The speaker over UDP: a frame a datagram; media as RTP.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>

#include "link.h"
#include "reply_stream.h"

namespace earshot::speaker {

namespace {

// UDP payload of a media datagram, header included: a video frame is split to fit.
constexpr std::size_t kMaxRtpDatagram = 1200;

class UdpLink final : public Link {
 public:
  explicit UdpLink(UniqueFd socket) : socket_(std::move(socket)) {}

  void keepalive(std::size_t size) override { message(kKeepAlive, size - kFrameHeader, nullptr); }

  void message(char type, std::size_t body_size, const void* body) override {
    auto f = frame(type, body_size, body);
    std::lock_guard lock(send_lock_);
    send_all(socket_.get(), f.data(), f.size());
    sent_ += body_size;
  }

  void media(const MediaFrame& frame, RtpStream& rtp) override {
    std::vector<char> datagram;
    std::lock_guard lock(send_lock_);
    for (std::size_t left = frame.bytes; left > 0 || datagram.empty();) {
      const std::size_t n = std::min(left, kMaxRtpDatagram - RtpStream::kHeader);
      left -= n;
      auto header = rtp.next(frame.marker && left == 0, frame.at);
      datagram.assign(header.begin(), header.end());
      datagram.resize(RtpStream::kHeader + n, static_cast<char>(0xa5));
      send_all(socket_.get(), datagram.data(), datagram.size());
      sent_ += n;
    }
  }

  void receive(const std::atomic<bool>& done, ReplyCounters& replies) override {
    std::vector<char> buf(65536);
    auto count = [&](char, std::uint16_t tag, std::size_t n) { replies.add(tag, n); };
    while (!done) {
      pollfd p{socket_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(socket_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) read_reply_datagram({buf.data(), static_cast<std::size_t>(n)}, count);
    }
  }

  std::size_t overhead() const override { return kFrameHeader; }

 private:
  UniqueFd socket_;
  std::mutex send_lock_;
};

}  // namespace

std::unique_ptr<Link> make_udp_link(UniqueFd socket) {
  return std::make_unique<UdpLink>(std::move(socket));
}

}  // namespace earshot::speaker
