#pragma once
// The speaker's one connection to its peer, in the shape of its protocol:
// how keep-alives, messages and media frames go out, and how what comes
// back is read (and, over QUIC, acknowledged). sent() counts the bodies
// and media payload sent, not framing or acks.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/unique_fd.h"
#include "rtp.h"
#include "wire.h"

namespace earshot::speaker {

// Data bytes received for each stream request's tag; tag 0 is downloads'.
class ReplyCounters {
 public:
  explicit ReplyCounters(std::size_t tags) : counts_(tags) {}
  void add(std::uint16_t tag, std::uint64_t bytes) {
    if (tag < counts_.size()) counts_[tag] += bytes;
  }
  std::uint64_t get(std::uint16_t tag) const {
    return tag < counts_.size() ? counts_[tag].load() : 0;
  }

 private:
  std::vector<std::atomic<std::uint64_t>> counts_;
};

struct MediaFrame {
  char type = kVoice;  // or kCamera
  std::size_t bytes = 0;
  bool marker = false;  // RTP's: a talk spurt's start, a video frame's end
  std::chrono::microseconds at{0};
};

class Link {
 public:
  virtual ~Link() = default;
  // A keep-alive of `size` bytes on the wire (at least overhead()).
  virtual void keepalive(std::size_t size) = 0;
  // A message with a body of body_size bytes: an upload slice, a request.
  virtual void message(char type, std::size_t body_size, const void* body = nullptr) = 0;
  virtual void request_download(std::uint32_t ms, std::uint32_t rate, std::uint32_t seed) {
    (void)seed;  // TCP and UDP downloads draw nothing
    DownloadRequest request{ms, rate};
    message(kDownload, sizeof request, &request);
  }
  // A voice or video frame, sent at once.
  virtual void media(const MediaFrame& frame, RtpStream& rtp) = 0;
  // Reads what the peer sends until `done` (or it closes), counting replies.
  virtual void receive(const std::atomic<bool>& done, ReplyCounters& replies) = 0;
  // Tells the peer the speaker is done, where the protocol has no close of its own.
  virtual void close() {}
  // A message's bytes on the wire besides its body.
  virtual std::size_t overhead() const = 0;

  std::uint64_t sent() const { return sent_; }

 protected:
  std::atomic<std::uint64_t> sent_{0};
};

// Each takes a socket connected to the peer.
std::unique_ptr<Link> make_tcp_link(UniqueFd socket);
std::unique_ptr<Link> make_udp_link(UniqueFd socket);
std::unique_ptr<Link> make_quic_link(UniqueFd socket, std::uint32_t seed);

}  // namespace earshot::speaker
