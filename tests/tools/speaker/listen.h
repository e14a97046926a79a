#pragma once
// earshot-speaker listen: the speaker's side.
#include <cstdint>
#include <string>
#include <vector>

#include "../traffic.h"
#include "wire.h"

namespace earshot::speaker {

struct ListenOptions {
  std::string peer;
  std::uint16_t port = 0;
  Proto proto = Proto::tcp;
  std::string device;  // empty: no capture
  double seconds = 60;
  std::uint64_t read_rate = 4000;
  std::uint32_t keepalive_ms = 5000;
  std::size_t keepalive_size = 40;  // on the wire; at least the protocol's overhead
  // Actions, each AT:SECONDS:BYTES_PER_SECOND.
  std::vector<std::string> uploads, bursty_uploads, downloads, voices, segments, music,
      video_uploads;
  std::uint32_t seed = 1;
  std::uint32_t frame_ms = 20;  // of --voice
};

int run_listen(const ListenOptions& options, const traffic::Common& common);

}  // namespace earshot::speaker
