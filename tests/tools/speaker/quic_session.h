#pragma once
// One end of a QUIC-like connection on a connected UDP socket: numbers and
// sends datagrams (from any thread), and acknowledges the ones it receives
// (from the one thread that reads them), as AckScheduler says, each ACK
// datagram of a random 28-52 bytes.
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <span>

#include "quic_packet.h"
#include "wire.h"

namespace earshot::speaker {

class QuicSession {
 public:
  // ack_seed: draws the sizes of this end's ACK datagrams.
  QuicSession(int fd, std::uint32_t connection_id, std::uint32_t ack_seed);

  // One datagram of kQuicOverhead + body_size bytes. A datagram refused
  // (an ICMP error for an earlier one) is lost, as it would be to QUIC.
  void send(char type, std::size_t body_size, const void* body = nullptr);
  // Takes a received datagram: its packet, nullopt when it is not one; acks
  // it when due. Reader thread only.
  std::optional<QuicPacket> receive(std::span<const char> datagram, Clock::time_point now);
  // Sends the ack of a lone datagram whose delay has run out, then says how
  // long a poll() may sleep: until the next ack is due, or idle_ms. Reader thread only.
  int poll_timeout(Clock::time_point now, int idle_ms);

  std::uint32_t connection_id() const { return connection_id_; }

 private:
  void send_ack();

  const int fd_;
  const std::uint32_t connection_id_;
  std::mutex send_lock_;
  std::uint32_t next_number_ = 0;
  // The reader's.
  std::mt19937 ack_random_;
  AckScheduler acks_;
  std::uint32_t largest_received_ = 0;
};

}  // namespace earshot::speaker
