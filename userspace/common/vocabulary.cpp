#include "common/vocabulary.h"

namespace earshot {

static_assert(kTiers.size() == 7);
static_assert(kWindows.size() == kWindowCount);
static_assert(kLostReasons.size() == kLostReasonCount);

std::string_view to_string(Tier tier) {
  switch (tier) {
    case Tier::fentry:
      return "fentry";
    case Tier::lsm:
      return "lsm";
    case Tier::syscalls:
      return "syscalls";
    case Tier::libasound:
      return "libasound";
    case Tier::procfs:
      return "procfs";
    case Tier::libpulse:
      return "libpulse";
    case Tier::libpipewire:
      return "libpipewire";
  }
  return "unknown";
}

std::optional<Tier> tier_named(std::string_view word) {
  for (Tier tier : kTiers)
    if (to_string(tier) == word) return tier;
  return std::nullopt;
}

std::optional<Tier> tier_from_abi(std::uint32_t value) {
  for (Tier tier : kTiers)
    if (static_cast<std::uint32_t>(tier) == value) return tier;
  return std::nullopt;
}

bool sound_server_tier(Tier tier) {
  return tier == Tier::libpulse || tier == Tier::libpipewire;
}

std::string_view to_string(Window window) {
  switch (window) {
    case Window::self:
      return "self";
    case Window::other:
      return "other";
    case Window::grace:
      return "grace";
    case Window::none:
      return "none";
  }
  return "unknown";
}

std::string_view to_string(LostReason reason) {
  switch (reason) {
    case LostReason::ringbuf_full:
      return "ringbuf_full";
    case LostReason::capture_handle_table_full:
      return "capture_handle_table_full";
    case LostReason::socket_owner_table_full:
      return "socket_owner_table_full";
    case LostReason::dns_ringbuf_full:
      return "dns_ringbuf_full";
  }
  return "unknown";
}

std::string_view to_string(DeviceKind kind) {
  return kind == DeviceKind::camera ? "camera" : "microphone";
}

}  // namespace earshot
