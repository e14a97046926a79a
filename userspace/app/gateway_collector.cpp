#include "app/gateway_collector.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/log.h"
#include "model/label_value.h"

namespace earshot::app {

namespace {

model::Counters to_model(const earshot_device_counters& c) {
  model::Counters m;
  m.packets = c.packets;
  m.bytes = c.bytes;
  m.payload_bytes = c.payload_bytes;
  m.ack_sized_packets = c.ack_sized_packets;
  m.ack_sized_payload = c.ack_sized_payload;
  m.ingress_packets = c.ingress_packets;
  m.ingress_payload = c.ingress_payload;
  return m;
}

model::DeviceBurstsConfig bursts_config(const config::Config& c, std::int64_t offset) {
  model::DeviceBurstsConfig b;
  b.kept = c.events.sessions_kept;
  b.upload_allowed = c.policy.upload_allowed;
  b.realtime_minus_monotonic_ns = offset;
  return b;
}

}  // namespace

GatewayCollector::GatewayCollector(const config::Config& config, const kernel::MapReader& maps,
                                   const resolve::DestinationNamer& namer, resolve::NameTable& dns,
                                   std::int64_t realtime_minus_monotonic_ns)
    : enabled_(config.gateway.enabled),
      forget_idle_ns_(static_cast<std::uint64_t>(
          std::chrono::nanoseconds(config.gateway.forget_idle_after).count())),
      maps_(maps),
      namer_(namer),
      dns_(dns),
      devices_(config.gateway.devices, config.gateway.leases_file.path),
      accounting_(config.limits.devices, config.limits.destinations_per_device),
      bursts_(bursts_config(config, realtime_minus_monotonic_ns)) {}

std::vector<nlohmann::json> GatewayCollector::harvest(std::uint64_t now_ns) {
  if (!enabled_) return {};
  // Refused and unmatched before the pairs: a packet counted in between
  // then shows in the next harvest on one side, never on both.
  const model::Counters refused = to_model(maps_.device_flows_refused());
  const model::Counters unmatched = to_model(maps_.device_ingress_unmatched());
  std::vector<std::pair<model::DeviceFlowId, model::Counters>> cumulative;
  for (const auto& r : maps_.device_flows()) {
    model::DeviceFlowId id;
    std::copy(std::begin(r.key.mac), std::end(r.key.mac), id.mac.begin());
    id.family = r.key.family;
    std::copy(std::begin(r.key.daddr), std::end(r.key.daddr), id.daddr.begin());
    cumulative.emplace_back(id, to_model(r.counters));
  }
  devices_.refresh();
  std::vector<std::pair<model::DeviceFlowId, model::Counters>> growth;
  {
    std::lock_guard lock(mutex_);
    growth = accounting_.growth(cumulative, now_ns);
    retire_idle_pairs(now_ns, growth);
  }
  std::vector<model::NamedDeviceGrowth> named;
  named.reserve(growth.size());
  for (auto& [id, counters] : growth) {
    resolve::IpAddress address{id.family, id.daddr};
    named.push_back({id, model::sanitize_label_value(devices_.name(id.mac)),
                     model::sanitize_label_value(namer_.name(address, &dns_, now_ns)), counters});
  }
  std::lock_guard lock(mutex_);
  accounting_.account(std::move(named), refused, unmatched);
  return bursts_.harvested(now_ns, accounting_.last_growth());
}

void GatewayCollector::retire_idle_pairs(
    std::uint64_t now_ns, std::vector<std::pair<model::DeviceFlowId, model::Counters>>& growth) {
  if (!retiring_) return;
  for (const auto& id : accounting_.idle(now_ns, forget_idle_ns_)) {
    earshot_device_flow_key key{};
    std::copy(id.mac.begin(), id.mac.end(), std::begin(key.mac));
    key.family = id.family;
    std::copy(id.daddr.begin(), id.daddr.end(), std::begin(key.daddr));
    std::optional<earshot_device_counters> taken;
    try {
      taken = maps_.take_device_flow(key);
    } catch (const Error& e) {
      retiring_ = false;
      log::warn("gateway: idle device pairs stay in the kernel's table", {{"reason", e.what()}});
      return;
    }
    if (!taken) {  // gone already: its last reading was its last count
      accounting_.retire(id, model::Counters{});
      continue;
    }
    model::Counters grew = accounting_.retire(id, to_model(*taken));
    if (grew.packets || grew.bytes || grew.ingress_packets) growth.emplace_back(id, grew);
  }
}

void GatewayCollector::fill(exporter::Snapshot& snapshot) const {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  snapshot.gateway = true;
  snapshot.device_egress = accounting_.ledger().series();
  snapshot.device_refused = accounting_.refused();
  snapshot.device_ingress_unmatched = accounting_.ingress_unmatched();
  snapshot.device_pairs = accounting_.pairs();
  snapshot.device_bursts = bursts_.counts();
}

nlohmann::json GatewayCollector::bursts_json() const {
  std::lock_guard lock(mutex_);
  return bursts_.json();
}

std::vector<model::NamedDeviceGrowth> GatewayCollector::last_growth() const {
  std::lock_guard lock(mutex_);
  return accounting_.last_growth();
}

}  // namespace earshot::app
