#pragma once
// What a flow sent and received in one harvest, and how much of what it sent
// is upload: the payload its destination did not ask for. A download's
// acknowledgements are explained by what came back: TCP's carry no payload;
// a datagram transport's (QUIC) are ack-sized packets (1-64 bytes of
// payload, EARSHOT_ACK_SIZED_PAYLOAD), at most one a packet received, so
// ack-sized payload is explained in proportion to the packets received.
// Voice leaving on a connection that also brings music back stays upload:
// its frames are larger than acknowledgements.
#include <cstdint>

#include "model/egress_ledger.h"

namespace earshot::model {

struct FlowShape {
  std::uint64_t payload_bytes = 0;      // sent
  std::uint64_t packets = 0;            // sent, with payload or without
  std::uint64_t ack_sized_packets = 0;  // sent with 1-64 bytes of payload
  std::uint64_t ack_sized_payload = 0;
  std::uint64_t ingress_packets = 0;  // received from the destination
  std::uint64_t ingress_payload = 0;

  FlowShape& operator+=(const FlowShape& o);
  // The ack-sized packets (and their payload) explained by the packets received.
  double explained_packets() const;
  double explained_payload() const;
  // Payload (and packets) the destination did not ask for.
  double upload_payload() const;
  double upload_packets() const;
};

FlowShape shape_of(const Counters& growth);

}  // namespace earshot::model
