#pragma once
// Every random choice the speaker makes comes from --seed, mixed with what
// draws it (the kind and index of an action, the connection), so a trial
// repeats and two actions of one run differ.
#include <cstddef>
#include <cstdint>
#include <random>

namespace earshot::speaker {

enum class Draw : std::uint32_t {
  bursty_upload = 1,
  download,
  voice,
  segments,
  music,
  video_upload,
  connection,
};

inline std::mt19937 seeded_random(std::uint32_t seed, Draw draw, std::size_t index) {
  // The first bursty upload draws from the bare seed, as before other
  // actions drew at all, so trials recorded then replay alike.
  if (draw == Draw::bursty_upload && index == 0) return std::mt19937(seed);
  std::seed_seq sequence{seed, static_cast<std::uint32_t>(draw), static_cast<std::uint32_t>(index)};
  return std::mt19937(sequence);
}

}  // namespace earshot::speaker
