#pragma once
// A QUIC-like datagram: what a QUIC 1-RTT packet shows on the wire (a short
// header with a connection id and a packet number, encrypted frames, a
// 16-byte AEAD tag), with one plain frame-type byte (a wire.h message type)
// where the encrypted frames would start. 25 bytes of overhead a datagram.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace earshot::speaker {

inline constexpr std::size_t kQuicHeader = 9;  // flags, 4-byte id, 3-byte number, frame type
inline constexpr std::size_t kQuicTag = 16;
inline constexpr std::size_t kQuicOverhead = kQuicHeader + kQuicTag;
// A datagram holding only an ACK frame; it elicits no ack itself.
inline constexpr char kQuicAck = 'A';
// The speaker's CONNECTION_CLOSE, so the peer lets go of the connection.
inline constexpr char kQuicClose = 'X';
inline constexpr std::size_t kQuicAckBytes[] = {28, 52};  // UDP payload of an ACK datagram
// The payload of a download's (a segment's, music's) datagrams.
inline constexpr std::size_t kQuicDataBytes[] = {1200, 1350};
// Datagrams the speaker sends are at most this much payload (QUIC's
// minimum maximum datagram size), a video frame split to fit.
inline constexpr std::size_t kQuicMaxSend = 1200;

struct QuicPacket {
  std::uint32_t connection_id = 0;
  std::uint32_t number = 0;  // 24 bits
  char type = 0;
  std::span<const char> body;
};

std::vector<char> encode_quic(std::uint32_t connection_id, std::uint32_t number, char type,
                              std::size_t body_size, const void* body = nullptr);
std::optional<QuicPacket> decode_quic(std::span<const char> datagram);

// When a receiver acknowledges, as RFC 9000 (13.2.2) recommends: an ACK
// for every second ack-eliciting datagram, or max_ack_delay after a lone one.
class AckScheduler {
 public:
  using Time = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::milliseconds kMaxAckDelay{25};

  // An ack-eliciting datagram arrived: true when an ack is to go now.
  bool on_data(Time now);
  // true when a lone datagram's ack delay has run out by `now`.
  bool on_timer(Time now);
  // When the pending lone ack is due, if one is.
  std::optional<Time> due() const;

 private:
  int unacked_ = 0;
  Time first_unacked_{};
};

}  // namespace earshot::speaker
