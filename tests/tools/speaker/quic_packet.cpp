#include "quic_packet.h"

#include <cstring>

namespace earshot::speaker {

namespace {

// The short header's first byte: the fixed bit, a 3-byte packet number.
constexpr unsigned char kShortHeader = 0x40 | 0x02;

}  // namespace

std::vector<char> encode_quic(std::uint32_t connection_id, std::uint32_t number, char type,
                              std::size_t body_size, const void* body) {
  std::vector<char> out(kQuicOverhead + body_size, 'q');
  out[0] = static_cast<char>(kShortHeader);
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>(connection_id >> (24 - 8 * i));
  for (int i = 0; i < 3; ++i) out[5 + i] = static_cast<char>(number >> (16 - 8 * i));
  out[8] = type;
  if (body) std::memcpy(out.data() + kQuicHeader, body, body_size);
  // The tag's bytes vary with the number, as ciphertext would.
  for (std::size_t i = 0; i < kQuicTag; ++i)
    out[out.size() - kQuicTag + i] = static_cast<char>((number * 131 + i * 29) & 0xff);
  return out;
}

std::optional<QuicPacket> decode_quic(std::span<const char> datagram) {
  if (datagram.size() < kQuicOverhead || static_cast<unsigned char>(datagram[0]) != kShortHeader)
    return std::nullopt;
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(datagram[i]));
  };
  QuicPacket packet;
  for (int i = 0; i < 4; ++i) packet.connection_id = packet.connection_id << 8 | byte(1 + i);
  for (int i = 0; i < 3; ++i) packet.number = packet.number << 8 | byte(5 + i);
  packet.type = datagram[8];
  packet.body = datagram.subspan(kQuicHeader, datagram.size() - kQuicOverhead);
  return packet;
}

bool AckScheduler::on_data(Time now) {
  if (++unacked_ >= 2) {
    unacked_ = 0;
    return true;
  }
  first_unacked_ = now;
  return false;
}

bool AckScheduler::on_timer(Time now) {
  if (unacked_ == 0 || now < first_unacked_ + kMaxAckDelay) return false;
  unacked_ = 0;
  return true;
}

std::optional<AckScheduler::Time> AckScheduler::due() const {
  if (unacked_ == 0) return std::nullopt;
  return first_unacked_ + kMaxAckDelay;
}

}  // namespace earshot::speaker
