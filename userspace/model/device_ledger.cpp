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
    const std::vector<std::pair<DeviceFlowId, Counters>>& cumulative, std::uint64_t now_ns) {
  auto grew = deltas_.update(cumulative);
  std::map<DeviceFlowId, std::uint64_t> present;
  for (const auto& [id, counters] : cumulative) {
    auto it = last_grew_.find(id);
    present[id] = it == last_grew_.end() ? now_ns : it->second;
  }
  for (const auto& [id, counters] : grew) present[id] = now_ns;
  last_grew_ = std::move(present);
  return grew;
}

std::vector<DeviceFlowId> GatewayAccounting::idle(std::uint64_t now_ns,
                                                  std::uint64_t idle_ns) const {
  std::vector<DeviceFlowId> out;
  for (const auto& [id, grew] : last_grew_)
    if (now_ns - grew >= idle_ns) out.push_back(id);
  return out;
}

Counters GatewayAccounting::retire(const DeviceFlowId& id, const Counters& final_reading) {
  last_grew_.erase(id);
  return deltas_.retire(id, final_reading);
}

void GatewayAccounting::account(std::vector<NamedDeviceGrowth> named, const Counters& refused,
                                const Counters& ingress_unmatched) {
  for (const auto& g : named) ledger_.add(g.device, g.destination, g.growth);
  refused_ = refused;
  ingress_unmatched_ = ingress_unmatched;
  last_growth_ = std::move(named);
}

}  // namespace earshot::model
