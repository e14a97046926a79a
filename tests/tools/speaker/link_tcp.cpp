// The speaker over TCP: one stream of frames each way.
#include <poll.h>
#include <sys/socket.h>

#include <mutex>

#include "link.h"
#include "reply_stream.h"

namespace earshot::speaker {

namespace {

class TcpLink final : public Link {
 public:
  explicit TcpLink(UniqueFd socket) : socket_(std::move(socket)) {}

  void keepalive(std::size_t size) override { message(kKeepAlive, size - kFrameHeader, nullptr); }

  void message(char type, std::size_t body_size, const void* body) override {
    auto f = frame(type, body_size, body);
    std::lock_guard lock(send_lock_);
    send_all(socket_.get(), f.data(), f.size());
    sent_ += body_size;
  }

  // One framed message a frame, written at once (TCP_NODELAY is the caller's).
  void media(const MediaFrame& frame, RtpStream&) override {
    message(frame.type, frame.bytes, nullptr);
  }

  void receive(const std::atomic<bool>& done, ReplyCounters& replies) override {
    std::vector<char> buf(65536);
    ReplyStream stream;
    auto count = [&](char, std::uint16_t tag, std::size_t n) { replies.add(tag, n); };
    while (!done) {
      pollfd p{socket_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(socket_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) stream.feed({buf.data(), static_cast<std::size_t>(n)}, count);
    }
  }

  std::size_t overhead() const override { return kFrameHeader; }

 private:
  UniqueFd socket_;
  std::mutex send_lock_;
};

}  // namespace

std::unique_ptr<Link> make_tcp_link(UniqueFd socket) {
  return std::make_unique<TcpLink>(std::move(socket));
}

}  // namespace earshot::speaker
