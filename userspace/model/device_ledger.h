#pragma once
// Gateway mode: the kernel's cumulative per-(device, destination) counters
// made into monotonic series with bounded label values, and each harvest's
// growth kept for what watches devices' uploads (the burst detector reads
// GatewayAccounting::last_growth(), as sessions read the process growth).
//
// Pure: fed readings and names, returns nothing but state. Packets the full
// kernel map refused are counted apart (refused), and so are packets to a
// LAN device that no pair of its took (ingress_unmatched): never dropped
// silently.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/bounded_labels.h"
#include "model/cumulative_deltas.h"
#include "model/egress_ledger.h"

namespace earshot::model {

struct DeviceFlowId {
  std::array<std::uint8_t, 6> mac{};
  std::uint8_t family = 0;
  std::array<std::uint8_t, 16> daddr{};
  auto operator<=>(const DeviceFlowId&) const = default;
};

// The growth of each pair between readings, as FlowDeltas.
using DeviceDeltas = CumulativeDeltas<DeviceFlowId, Counters>;

struct DeviceSeriesKey {
  std::string device;
  std::string destination;
  auto operator<=>(const DeviceSeriesKey&) const = default;
};

// One pair's growth since the last harvest, with the names the caller gave it.
struct NamedDeviceGrowth {
  DeviceFlowId flow;
  std::string device;
  std::string destination;
  Counters growth;
};

class DeviceLedger {
 public:
  DeviceLedger(std::size_t max_devices, std::size_t max_destinations_per_device);

  // Past the limits the device or destination label becomes "other" (first
  // come, first kept, as EgressLedger).
  void add(const std::string& device, const std::string& destination, const Counters& growth);

  const std::map<DeviceSeriesKey, Counters>& series() const { return series_; }

 private:
  BoundedLabels<std::string> labels_;
  std::map<DeviceSeriesKey, Counters> series_;
};

class GatewayAccounting {
 public:
  GatewayAccounting(std::size_t max_devices, std::size_t max_destinations_per_device);

  // The growth of every pair since the last call (the caller names them);
  // `now_ns` dates the pairs that grew.
  std::vector<std::pair<DeviceFlowId, Counters>> growth(
      const std::vector<std::pair<DeviceFlowId, Counters>>& cumulative, std::uint64_t now_ns);
  // Pairs that have not grown for `idle_ns`: the kernel's table has room
  // for a fixed number, so these are taken out of it (retire).
  std::vector<DeviceFlowId> idle(std::uint64_t now_ns, std::uint64_t idle_ns) const;
  // A pair taken out of the kernel's table with its final counts: the
  // growth since the last reading (the caller adds it to this harvest's).
  Counters retire(const DeviceFlowId& id, const Counters& final_reading);
  // Pairs in the kernel's table at the last reading, less those retired.
  std::size_t pairs() const { return last_grew_.size(); }
  // Adds the named growth to the ledger; `refused` is the kernel's
  // cumulative count of packets the full map could not take,
  // `ingress_unmatched` of those forwarded to a LAN device that no pair took
  // (its ingress counters).
  void account(std::vector<NamedDeviceGrowth> named, const Counters& refused,
               const Counters& ingress_unmatched = {});

  const DeviceLedger& ledger() const { return ledger_; }
  const Counters& refused() const { return refused_; }
  const Counters& ingress_unmatched() const { return ingress_unmatched_; }
  // The last harvest's growth, per pair, named: the seam for detectors of
  // device uploads.
  const std::vector<NamedDeviceGrowth>& last_growth() const { return last_growth_; }

 private:
  DeviceDeltas deltas_;
  std::map<DeviceFlowId, std::uint64_t> last_grew_;  // pairs in the table: when each last grew
  DeviceLedger ledger_;
  Counters refused_;
  Counters ingress_unmatched_;
  std::vector<NamedDeviceGrowth> last_growth_;
};

}  // namespace earshot::model
