#include "quic_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "../socket_address.h"

namespace earshot::speaker {

QuicSession::QuicSession(int fd, std::uint32_t connection_id, std::uint32_t ack_seed)
    : fd_(fd), connection_id_(connection_id), ack_random_(ack_seed) {}

void QuicSession::send(char type, std::size_t body_size, const void* body) {
  std::lock_guard lock(send_lock_);
  auto datagram = encode_quic(connection_id_, next_number_++ & 0xffffff, type, body_size, body);
  for (;;) {
    if (::send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL) >= 0) return;
    if (errno == ECONNREFUSED) return;
    if (errno == EINTR) continue;
    if (errno == ENOBUFS || errno == EAGAIN) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    traffic::throw_errno("send");
  }
}

std::optional<QuicPacket> QuicSession::receive(std::span<const char> datagram,
                                               Clock::time_point now) {
  auto packet = decode_quic(datagram);
  // Neither an ACK nor a CONNECTION_CLOSE elicits an ack.
  if (!packet || packet->type == kQuicAck || packet->type == kQuicClose) return packet;
  largest_received_ = packet->number;
  if (acks_.on_data(now)) send_ack();
  return packet;
}

int QuicSession::poll_timeout(Clock::time_point now, int idle_ms) {
  if (acks_.on_timer(now)) send_ack();
  auto due = acks_.due();
  if (!due) return idle_ms;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(*due - now).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, idle_ms));
}

void QuicSession::send_ack() {
  const auto size =
      std::uniform_int_distribution<std::size_t>(kQuicAckBytes[0], kQuicAckBytes[1])(ack_random_);
  // An ACK frame's start: the largest number acknowledged, then filler
  // standing for the delay and ranges.
  char body[kQuicAckBytes[1] - kQuicOverhead] = {};
  for (int i = 0; i < 3; ++i) body[i] = static_cast<char>(largest_received_ >> (16 - 8 * i));
  send(kQuicAck, size - kQuicOverhead, body);
}

}  // namespace earshot::speaker
