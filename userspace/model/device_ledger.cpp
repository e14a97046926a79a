#include "model/device_ledger.h"

namespace earshot::model {

std::vector<std::pair<DeviceFlowId, Counters>> DeviceDeltas::update(
    const std::vector<std::pair<DeviceFlowId, Counters>>& cumulative) {
  std::vector<std::pair<DeviceFlowId, Counters>> growth;
  std::map<DeviceFlowId, Counters> now;
  for (const auto& [id, counters] : cumulative) {
    auto it = last_.find(id);
    Counters d = it == last_.end() ? counters : delta(counters, it->second);
    if (d.packets || d.bytes) growth.emplace_back(id, d);
    now[id] = counters;
  }
  last_ = std::move(now);
  return growth;
}

DeviceLedger::DeviceLedger(std::size_t max_devices, std::size_t max_destinations_per_device)
    : max_devices_(max_devices), max_destinations_(max_destinations_per_device) {}

void DeviceLedger::add(const std::string& device, const std::string& destination,
                       const Counters& growth) {
  std::string who = device;
  auto known = destinations_per_device_.find(who);
  if (known == destinations_per_device_.end()) {
    if (destinations_per_device_.size() >= max_devices_) who = kOtherLabel;
    known = destinations_per_device_.try_emplace(who, 0).first;
  }
  DeviceSeriesKey key{who, destination};
  auto series = series_.find(key);
  if (series == series_.end()) {
    if (known->second >= max_destinations_) {
      key.destination = kOtherLabel;
      series = series_.find(key);
    }
    if (series == series_.end()) {
      series = series_.emplace(key, Counters{}).first;
      ++known->second;
    }
  }
  series->second += growth;
}

GatewayAccounting::GatewayAccounting(std::size_t max_devices,
                                     std::size_t max_destinations_per_device)
    : ledger_(max_devices, max_destinations_per_device) {}

std::vector<std::pair<DeviceFlowId, Counters>> GatewayAccounting::growth(
    const std::vector<std::pair<DeviceFlowId, Counters>>& cumulative) {
  return deltas_.update(cumulative);
}

void GatewayAccounting::account(std::vector<NamedDeviceGrowth> named, const Counters& refused) {
  for (const auto& g : named) ledger_.add(g.device, g.destination, g.growth);
  refused_ = refused;
  last_growth_ = std::move(named);
}

}  // namespace earshot::model
