#pragma once
// Gateway mode's share of a harvest: reads the per-device counters, names
// devices (config, leases file, MAC) and destinations (DNS answers, the
// configured labels, as for processes), and keeps the device series. Apart
// from the collector so the two grow separately; it calls harvest() and
// fill() and owns nothing here.
#include <cstdint>
#include <mutex>

#include "config/config.h"
#include "export/snapshot.h"
#include "kernel/map_reader.h"
#include "model/device_bursts.h"
#include "model/device_ledger.h"
#include "resolve/destination_names.h"
#include "resolve/device_names.h"
#include "resolve/name_table.h"

namespace earshot::app {

class GatewayCollector {
 public:
  // realtime_minus_monotonic_ns: for the bursts' wall times.
  GatewayCollector(const config::Config& config, const kernel::MapReader& maps,
                   const resolve::DestinationNamer& namer, resolve::NameTable& dns,
                   std::int64_t realtime_minus_monotonic_ns);

  bool enabled() const { return enabled_; }
  // One harvest (collector thread); a no-op when gateway mode is off.
  // Returns the event lines of the voice-upload bursts that ended.
  std::vector<nlohmann::json> harvest(std::uint64_t now_ns);
  // The device series into a scrape's snapshot (any thread).
  void fill(exporter::Snapshot& snapshot) const;
  // The last harvest's named growth, for what watches device uploads.
  std::vector<model::NamedDeviceGrowth> last_growth() const;
  // The recent bursts, newest first (/api/sessions' "traffic").
  nlohmann::json bursts_json() const;

 private:
  // Takes the pairs idle for gateway.forget_idle_after out of the kernel's
  // table, their last counts added to `growth` (caller holds mutex_).
  void retire_idle_pairs(std::uint64_t now_ns,
                         std::vector<std::pair<model::DeviceFlowId, model::Counters>>& growth);

  bool enabled_;
  std::uint64_t forget_idle_ns_;
  bool retiring_ = true;  // false once the kernel said it cannot
  const kernel::MapReader& maps_;
  const resolve::DestinationNamer& namer_;
  resolve::NameTable& dns_;
  resolve::DeviceNamer devices_;
  mutable std::mutex mutex_;  // guards accounting_ and bursts_
  model::GatewayAccounting accounting_;
  model::DeviceBursts bursts_;
};

}  // namespace earshot::app
