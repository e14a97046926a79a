#include "model/device_ledger.h"

namespace earshot::model {

DeviceLedger::DeviceLedger(std::size_t max_devices, std::size_t max_destinations_per_device)
    : labels_(max_devices, max_destinations_per_device, kOtherLabel) {}

void DeviceLedger::add(const std::string& device, const std::string& destination,
                       const Counters& growth) {
  auto [who, where] = labels_.place(device, destination);
  series_[DeviceSeriesKey{who, where}] += growth;
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
