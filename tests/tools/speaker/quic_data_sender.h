#pragma once
// The data of the peer's replies (a download, a segment, music) as QUIC-like datagrams.
#include <cstdint>
#include <random>
#include <vector>

#include "quic_session.h"

namespace earshot::speaker {

// Cuts a reply's data into datagrams of 1200-1350 bytes (sizes drawn from
// the request's seed), what does not fill one carried over to the next
// slice; flush() sends the rest.
class QuicDataSender {
 public:
  QuicDataSender(QuicSession& session, char type, std::uint16_t tag, std::uint32_t seed)
      : session_(session), type_(type), random_(seed), body_(kTagSize) {
    write_tag(body_.data(), tag);
    next_ = draw();
  }

  void add(std::size_t bytes) {
    owed_ += bytes;
    while (owed_ >= next_) {
      send(next_);
      owed_ -= next_;
      next_ = draw();
    }
  }
  void flush() {
    if (owed_ > 0) send(owed_);
    owed_ = 0;
  }

 private:
  // Data bytes of the next datagram.
  std::size_t draw() {
    return std::uniform_int_distribution<std::size_t>(kQuicDataBytes[0],
                                                      kQuicDataBytes[1])(random_) -
           kQuicOverhead - kTagSize;
  }
  void send(std::size_t data) {
    body_.resize(kTagSize + data, 'd');
    session_.send(type_, body_.size(), body_.data());
  }

  QuicSession& session_;
  const char type_;
  std::mt19937 random_;
  std::vector<char> body_;
  std::size_t owed_ = 0;
  std::size_t next_ = 0;
};

}  // namespace earshot::speaker
