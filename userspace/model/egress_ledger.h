#pragma once
// Turns the kernel's cumulative per-socket flow counters into monotonic
// per-(process, destination) series with bounded label values.
//
// Pure: fed readings and names, returns nothing but state. Bytes the kernel
// counted that never reach a series (an LRU-evicted flow's last increments)
// show up as `unaccounted`, reconciled against the never-evicted totals.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/vocabulary.h"
#include "model/bounded_labels.h"
#include "model/cumulative_deltas.h"

namespace earshot::model {

struct Counters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;          // IP packet length: payload and headers
  std::uint64_t payload_bytes = 0;  // what TCP or UDP carried (0 for other protocols)
  std::array<std::uint64_t, kWindowCount> window_bytes{};
  // Shape: packets sent with 1-64 bytes of payload (an acknowledgement's
  // size, EARSHOT_ACK_SIZED_PAYLOAD) and their payload; what the flow
  // received from its destination.
  std::uint64_t ack_sized_packets = 0;
  std::uint64_t ack_sized_payload = 0;
  std::uint64_t ingress_packets = 0;
  std::uint64_t ingress_payload = 0;

  Counters& operator+=(const Counters& o);
  friend bool operator==(const Counters&, const Counters&) = default;
};
// a - b, per field; a field that went backwards (the kernel entry was evicted
// and created again) counts from zero, except the ack-sized counts, which a
// socket slot keeps in 32 bits: below 2^32 they grew through the wrap.
Counters delta(const Counters& now, const Counters& before);

struct FlowId {
  std::uint64_t cookie = 0;
  std::uint8_t family = 0;
  std::uint8_t protocol = 0;
  std::uint16_t dport = 0;
  std::array<std::uint8_t, 16> daddr{};
  auto operator<=>(const FlowId&) const = default;
};

// The growth of each flow between readings (flows no longer present are
// forgotten).
using FlowDeltas = CumulativeDeltas<FlowId, Counters>;

// The same for the kernel's per-CPU socket slots. A slot is one identity:
// while it holds the same flow its counters only grow (a decrease counts from
// zero, as above); when another socket reclaims it, the old flow's last
// reading was final and the new flow counts from zero. Growth is summed per
// flow (a socket has a slot on each CPU it sent from).
struct SlotReading {
  std::uint32_t slot = 0;  // CPU and index
  FlowId id;
  Counters counters;
};

class SlotDeltas {
 public:
  // `readings`: every claimed slot now; a slot not listed is forgotten.
  std::vector<std::pair<FlowId, Counters>> update(const std::vector<SlotReading>& readings);

 private:
  std::map<std::uint32_t, std::pair<FlowId, Counters>> last_;
};

struct SeriesKey {
  std::string process;
  std::string unit;
  std::string destination;
  auto operator<=>(const SeriesKey&) const = default;
};

class EgressLedger {
 public:
  EgressLedger(std::size_t max_processes, std::size_t max_destinations_per_process);

  // Adds growth to a series; past the limits the process or destination
  // label becomes "other" (first come, first kept: a series once shown keeps
  // its name, since a counter cannot move).
  void add(const std::string& process, const std::string& unit, const std::string& destination,
           const Counters& growth);
  void add_unattributed(const Counters& growth) { unattributed_ += growth; }
  void add_unaccounted(std::uint64_t bytes) { unaccounted_bytes_ += bytes; }

  const std::map<SeriesKey, Counters>& series() const { return series_; }
  const Counters& unattributed() const { return unattributed_; }
  std::uint64_t unaccounted_bytes() const { return unaccounted_bytes_; }

 private:
  // Owner: (process, unit).
  BoundedLabels<std::pair<std::string, std::string>> labels_;
  std::map<SeriesKey, Counters> series_;
  Counters unattributed_;
  std::uint64_t unaccounted_bytes_ = 0;
};

}  // namespace earshot::model
