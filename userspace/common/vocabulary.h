#pragma once
// earshot's words, each defined once: capture tiers, capture windows and
// lost-event reasons take their values from the kernel ABI (bpf/earshot.h)
// and their label strings from here; hook names are in common/hook_names.h.
// Config, model, kernel loading and export all use these.
#include <linux/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

extern "C" {
#include "earshot.h"
}

namespace earshot {

// Capture detection tiers, strongest first; the value is the ABI's.
enum class Tier : std::uint32_t {
  fentry = EARSHOT_TIER_FENTRY,
  lsm = EARSHOT_TIER_LSM,
  syscalls = EARSHOT_TIER_SYSCALL,
  libasound = EARSHOT_TIER_LIBASOUND,
  procfs = EARSHOT_TIER_PROCFS,
  libpulse = EARSHOT_TIER_LIBPULSE,        // clients of a PulseAudio server
  libpipewire = EARSHOT_TIER_LIBPIPEWIRE,  // clients of PipeWire
};
inline constexpr std::array kTiers{Tier::fentry, Tier::lsm,      Tier::syscalls,   Tier::libasound,
                                   Tier::procfs, Tier::libpulse, Tier::libpipewire};
// A tier that sees a sound server's client record: the client is the one
// capturing, the server (named by the collector) the way it does.
bool sound_server_tier(Tier tier);
// The word of capture.tiers and of the `tier` field of capture events.
std::string_view to_string(Tier tier);
std::optional<Tier> tier_named(std::string_view word);
// A tier number from the kernel; nullopt if it is none of ours.
std::optional<Tier> tier_from_abi(std::uint32_t value);

// Where a byte left relative to live captures: the index of window_bytes in
// the ABI's counters (self, other, grace) and, for bytes outside every
// window, `none` (not a counter slot).
enum class Window : int {
  self = EARSHOT_WINDOW_SELF,
  other = EARSHOT_WINDOW_OTHER,
  grace = EARSHOT_WINDOW_GRACE,
  none = EARSHOT_WINDOW_COUNT,
};
inline constexpr int kWindowCount = EARSHOT_WINDOW_COUNT;
inline constexpr std::array kWindows{Window::self, Window::other, Window::grace};
// The `window` label value.
std::string_view to_string(Window window);

// Why something could not be reported: the index of the ABI's lost map.
enum class LostReason : int {
  ringbuf_full = EARSHOT_LOST_RINGBUF_FULL,
  capture_handle_table_full = EARSHOT_LOST_HANDLE_TABLE,
  socket_owner_table_full = EARSHOT_LOST_OWNER_TABLE,
  dns_ringbuf_full = EARSHOT_LOST_DNS_RINGBUF_FULL,
};
inline constexpr int kLostReasonCount = EARSHOT_LOST_REASONS;
inline constexpr std::array kLostReasons{
    LostReason::ringbuf_full, LostReason::capture_handle_table_full,
    LostReason::socket_owner_table_full, LostReason::dns_ringbuf_full};
// The `reason` label value of earshot_events_lost_total.
std::string_view to_string(LostReason reason);

// What a watched capture device is: the value of the ABI's watched_devices.
enum class DeviceKind : std::uint8_t {
  microphone = EARSHOT_DEVICE_MICROPHONE,
  camera = EARSHOT_DEVICE_CAMERA,
};
// The `kind` label value of the capture metrics and the sessions' "kind".
std::string_view to_string(DeviceKind kind);

}  // namespace earshot
