#pragma once
// Reading what a peer sends the speaker over TCP or UDP. Download data is
// unframed 'd' bytes (as it always was), replies to stream requests are
// frames whose body starts with a tag. Over TCP the two mix in one stream,
// but the peer writes each reply frame whole, and a frame never starts with
// 'd', so a 'd' between frames is download data.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "wire.h"

namespace earshot::speaker {

// type, tag (0 for download data), data bytes.
using ReplySink = std::function<void(char, std::uint16_t, std::size_t)>;

class ReplyStream {
 public:
  void feed(std::span<const char> bytes, const ReplySink& sink);

 private:
  char header_[kFrameHeader + kTagSize] = {};
  std::size_t header_got_ = 0;
  std::size_t data_left_ = 0;  // of the frame being read, after its header
};

// One UDP datagram from the peer.
void read_reply_datagram(std::span<const char> datagram, const ReplySink& sink);

}  // namespace earshot::speaker
