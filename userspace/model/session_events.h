#pragma once
// What the collector feeds the session builder: capture handles opening,
// their cumulative frame counters, closing, and per-harvest egress deltas.
// Timestamps are CLOCK_MONOTONIC nanoseconds.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "common/vocabulary.h"

namespace earshot::model {

using MonotonicNs = std::uint64_t;

// Identity of a process: tgid plus its start time, so a reused pid is a
// different process. The name is for display only.
struct ProcessKey {
  std::uint32_t tgid = 0;
  std::uint64_t start_ns = 0;
  auto operator<=>(const ProcessKey&) const = default;
};

struct ProcessRef {
  std::uint32_t tgid = 0;
  std::uint64_t start_ns = 0;
  std::string name;
  ProcessKey key() const { return {tgid, start_ns}; }
};

struct CaptureOpened {
  MonotonicNs ts = 0;
  std::uint64_t handle_id = 0;  // unique per open
  ProcessRef process;
  std::string device;
  bool frames_visible = true;  // false when the tier that saw the open cannot see frames
  // The sound server the capture goes through (its client is `process`);
  // nullopt for a capture straight from the device. tgid 0: a server not
  // found, named by its protocol.
  std::optional<ProcessRef> via = std::nullopt;
  DeviceKind kind = DeviceKind::microphone;
};

// A capture already open turns out to go through a sound server (an ALSA
// application whose PCM is the server's plugin: the library tier saw the
// open first).
struct CaptureVia {
  MonotonicNs ts = 0;
  std::uint64_t handle_id = 0;
  ProcessRef via;
};

struct CaptureFrames {
  MonotonicNs ts = 0;
  std::uint64_t handle_id = 0;
  std::uint64_t frames_total = 0;  // cumulative since the open
  std::uint64_t bytes_total = 0;   // cumulative audio bytes since the open
};

struct CaptureClosed {
  MonotonicNs ts = 0;
  std::uint64_t handle_id = 0;
};

struct EgressSample {
  MonotonicNs ts = 0;  // the harvest time; the bytes left since the previous harvest
  ProcessRef process;
  std::string destination;       // already named: DNS name, CIDR label or address
  std::uint64_t bytes = 0;       // delta since the previous harvest
  Window window = Window::none;  // none: no capture live, no grace period
};

}  // namespace earshot::model
