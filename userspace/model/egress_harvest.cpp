#include "model/egress_harvest.h"

#include "model/flow_shape.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace earshot::model {

std::vector<FlowGrowth> EgressHarvest::growth(const EgressReading& reading,
                                              const OwnerLookup& lookup) {
  std::map<std::uint64_t, ProcessKey> owners;
  auto join = [&](const FlowId& id) {
    if (!id.cookie || owners.count(id.cookie)) return;
    if (auto known = owners_.find(id.cookie); known != owners_.end())
      owners.emplace(id.cookie, known->second);
    else if (auto found = lookup(id.cookie))
      owners.emplace(id.cookie, *found);
  };
  for (const auto& [id, counters] : reading.flows) join(id);
  for (const auto& slot : reading.slots) join(slot.id);
  owners_ = std::move(owners);

  // A socket may have counts in both (a slot taken by another socket sends
  // it to the flows map): two growths of one flow, each added once.
  auto grown = flow_deltas_.update(reading.flows);
  auto slot_grown = slot_deltas_.update(reading.slots);
  grown.insert(grown.end(), slot_grown.begin(), slot_grown.end());

  std::vector<FlowGrowth> out;
  out.reserve(grown.size());
  for (auto& [id, counters] : grown) {
    auto owner = owners_.find(id.cookie);
    out.push_back(
        {id, counters, owner == owners_.end() ? std::nullopt : std::optional(owner->second)});
  }
  return out;
}

void EgressHarvest::account(const std::vector<NamedGrowth>& named, const EgressReading& reading,
                            EgressLedger& ledger) {
  for (const auto& n : named) {
    accounted_bytes_ += n.flow.growth.bytes;
    if (n.flow.owner)
      ledger.add(n.process, n.unit, n.destination, n.flow.growth);
    else
      ledger.add_unattributed(n.flow.growth);
  }
  if (reading.no_socket_bytes > no_socket_bytes_) {
    Counters g;
    g.bytes = reading.no_socket_bytes - no_socket_bytes_;
    ledger.add_unattributed(g);
    no_socket_bytes_ = reading.no_socket_bytes;
  }
  if (reading.unmatched_ingress_packets > unmatched_ingress_packets_) {
    Counters g;
    g.ingress_packets = reading.unmatched_ingress_packets - unmatched_ingress_packets_;
    g.ingress_payload = reading.unmatched_ingress_payload - std::min(reading.unmatched_ingress_payload,
                                                                     unmatched_ingress_payload_);
    ledger.add_unattributed(g);
    unmatched_ingress_packets_ = reading.unmatched_ingress_packets;
    unmatched_ingress_payload_ = reading.unmatched_ingress_payload;
  }
  std::uint64_t explained = accounted_bytes_ + no_socket_bytes_ + ledger.unaccounted_bytes();
  if (reading.bytes_seen > explained) ledger.add_unaccounted(reading.bytes_seen - explained);
}

std::uint64_t upload_bytes(const Counters& growth) {
  return static_cast<std::uint64_t>(std::llround(shape_of(growth).upload_payload()));
}

std::vector<EgressSample> window_samples(const std::vector<NamedGrowth>& named, MonotonicNs now) {
  std::map<std::tuple<ProcessKey, std::string, Window>, EgressSample> samples;
  auto add = [&](const NamedGrowth& n, Window window, std::uint64_t bytes) {
    const ProcessKey& owner = *n.flow.owner;
    auto& s = samples[{owner, n.destination, window}];
    s.ts = now;
    s.process = {owner.tgid, owner.start_ns, n.process};
    s.destination = n.destination;
    s.window = window;
    s.bytes += bytes;
  };
  for (const auto& n : named) {
    if (!n.flow.owner) continue;
    const Counters& g = n.flow.growth;
    std::uint64_t payload = upload_bytes(g);
    if (!payload || !g.bytes) continue;
    // The kernel splits bytes by window, not payload: each window gets the
    // flow's payload share of its bytes in this harvest.
    double share = static_cast<double>(payload) / static_cast<double>(g.bytes);
    std::uint64_t windowed = 0;
    for (Window w : kWindows) {
      auto bytes = static_cast<std::uint64_t>(
          std::llround(static_cast<double>(g.window_bytes[static_cast<int>(w)]) * share));
      bytes = std::min(bytes, payload - windowed);
      if (!bytes) continue;
      windowed += bytes;
      add(n, w, bytes);
    }
    if (payload > windowed) add(n, Window::none, payload - windowed);
  }
  std::vector<EgressSample> out;
  out.reserve(samples.size());
  for (auto& [key, sample] : samples) out.push_back(std::move(sample));
  return out;
}

}  // namespace earshot::model
