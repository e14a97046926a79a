#pragma once
// earshot-speaker peer: the cloud end. Takes the speaker's messages and
// answers its requests: a download (the asked bytes paced over the asked
// time), a segment (a burst), music (chunks); acks QUIC-like datagrams.
#include <cstdint>

#include "wire.h"

namespace earshot::speaker {

// Each serves until killed.
int run_tcp_peer(std::uint16_t port);
int run_udp_peer(std::uint16_t port);
int run_quic_peer(std::uint16_t port);

}  // namespace earshot::speaker
