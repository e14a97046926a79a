#pragma once
// The BPF maps' and ring buffer's records, turned into the model's types.
#include <vector>

#include "kernel/abi.h"
#include "kernel/map_reader.h"
#include "model/capture_tracker.h"
#include "model/egress_harvest.h"
#include "model/monitor.h"

namespace earshot::app {

// The counting maps, read in the order the reconciliation needs (totals
// before flows and slots: a packet counted in between then lands in the
// flows, so a loss can only be under-, never over-reported).
model::EgressReading read_egress(const kernel::MapReader& maps);
std::vector<model::HandleCount> read_handles(const kernel::MapReader& maps);
model::LostCounts read_lost(const kernel::MapReader& maps);

// A handle the kernel reported; nullopt for a tier number that is none of ours.
std::optional<model::HandleId> handle_of(std::uint32_t tgid, std::uint32_t tier,
                                         std::uint64_t handle);
earshot_handle_key handle_key(const model::HandleId& id);

}  // namespace earshot::app
