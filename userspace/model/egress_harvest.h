#pragma once
// One harvest of the counting maps, made into growth, ledger series and
// capture-window samples. Pure: the caller reads the maps, looks owners up
// and names processes and destinations; this does the arithmetic.
//
// Reconciliation: every byte the hooks saw (bytes_seen) reaches a series,
// the unattributed bucket (no owner, or no socket at all), or, if it never
// reaches either (an LRU-evicted flow's last counts), unaccounted_bytes.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/egress_ledger.h"
#include "model/session_events.h"

namespace earshot::model {

// The counting maps, read once: cumulative counters, summed over CPUs for
// flows, per CPU for socket slots.
struct EgressReading {
  std::vector<std::pair<FlowId, Counters>> flows;
  std::vector<SlotReading> slots;
  std::uint64_t bytes_seen = 0;       // every byte the hooks counted, ever
  std::uint64_t no_socket_bytes = 0;  // of those, packets no socket sent (cumulative)
  // Received packets no socket's slot or flow took (no socket at LOCAL_IN:
  // unconnected sockets, loopback), cumulative: their ingress counters.
  std::uint64_t unmatched_ingress_packets = 0;
  std::uint64_t unmatched_ingress_payload = 0;
};

// What one flow sent since the last harvest, and who owns its socket
// (nullopt: no owner was recorded).
struct FlowGrowth {
  FlowId flow;
  Counters growth;
  std::optional<ProcessKey> owner;
};

// A flow's growth with the names the caller gave it.
struct NamedGrowth {
  FlowGrowth flow;
  std::string process;  // empty when flow.owner is nullopt
  std::string unit;
  std::string destination;
};

class EgressHarvest {
 public:
  using OwnerLookup = std::function<std::optional<ProcessKey>(std::uint64_t cookie)>;

  // The growth of every flow since the last call, joined to owners. An owner
  // is looked up once per cookie and remembered while the cookie has counts
  // (the kernel's owner record may be evicted before its last bytes are read).
  std::vector<FlowGrowth> growth(const EgressReading& reading, const OwnerLookup& lookup);

  // Adds the named growth to the ledger and reconciles it against the
  // reading's bytes_seen.
  void account(const std::vector<NamedGrowth>& named, const EgressReading& reading,
               EgressLedger& ledger);

 private:
  FlowDeltas flow_deltas_;
  SlotDeltas slot_deltas_;
  std::map<std::uint64_t, ProcessKey> owners_;
  std::uint64_t accounted_bytes_ = 0;  // reached a series or the unattributed bucket
  std::uint64_t no_socket_bytes_ = 0;  // the last cumulative no-socket count added
  std::uint64_t unmatched_ingress_packets_ = 0;  // likewise, for received packets
  std::uint64_t unmatched_ingress_payload_ = 0;
};

// The bytes of a flow's growth that count as upload: its payload less the
// acknowledgements what came back explains (flow_shape.h), so that a
// download's acknowledgements do not look like one.
std::uint64_t upload_bytes(const Counters& growth);

// What each owned flow sent as payload (upload_bytes), split by the capture
// window the kernel saw when each byte left, summed per (process,
// destination, window); payload outside every window is Window::none.
std::vector<EgressSample> window_samples(const std::vector<NamedGrowth>& named, MonotonicNs now);

}  // namespace earshot::model
