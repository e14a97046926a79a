#pragma once
// Reads earshot's BPF maps. Values are cumulative and summed over CPUs here;
// deltas and naming are the model's job.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "kernel/abi.h"
#include "kernel/hooks.h"

namespace earshot::kernel {

struct FlowReading {
  earshot_flow_key key;
  earshot_counters counters;
};

// One CPU's slot of a connected socket (sock_slots); `slot` names the
// (CPU, index) pair, the identity its cumulative counters belong to.
struct SlotReading {
  std::uint32_t slot;
  earshot_flow_key key;
  earshot_counters counters;
};

struct TotalsReading {
  std::array<earshot_counters, EARSHOT_TOTAL_SLOTS> slots{};
};

// Bytes of every packet the netfilter hooks saw: those counted outside the
// socket slots, the claimed slots' counts now, and those of slots since
// taken over by another socket. Read totals before slots: a packet counted
// in between then raises both sides of the reconciliation, never one.
std::uint64_t bytes_seen(const TotalsReading& totals, const std::vector<SlotReading>& slots);

// Gateway mode: one (device, destination) pair, summed over CPUs.
struct DeviceFlowReading {
  earshot_device_flow_key key;
  earshot_device_counters counters;
};

struct OwnerReading {
  std::uint32_t tgid = 0;
  std::uint64_t start_ns = 0;
};

class MapReader {
 public:
  explicit MapReader(MapFds fds);

  std::vector<FlowReading> flows() const;
  // Every claimed slot, per CPU (not summed: a slot changes socket when reclaimed).
  std::vector<SlotReading> sock_slots() const;
  TotalsReading totals() const;
  std::optional<OwnerReading> owner(std::uint64_t cookie) const;
  // Gateway mode's counters; empty when its maps are not loaded.
  std::vector<DeviceFlowReading> device_flows() const;
  // Takes a pair out of device_flows with its final counts (one step, so
  // nothing counted before it is missed); nullopt when it is not there.
  // Throws Error where the kernel cannot (lookup-and-delete on a hash map
  // needs 5.14).
  std::optional<earshot_device_counters> take_device_flow(const earshot_device_flow_key& key) const;
  // Packets the full device_flows map refused (gateway_totals).
  earshot_device_counters device_flows_refused() const;
  // Packets forwarded to a LAN device that no pair of its took (its address
  // not known, or it never sent to their source): their ingress counters.
  earshot_device_counters device_ingress_unmatched() const;
  std::array<std::uint64_t, EARSHOT_LOST_REASONS> lost() const;
  // Cumulative frames/bytes of open capture handles.
  std::vector<std::pair<earshot_handle_key, earshot_handle>> capture_handles() const;
  std::optional<earshot_handle> capture_handle(const earshot_handle_key& key) const;
  // Drops handles of a process that exited (BPF cannot iterate by tgid).
  void forget_handle(const earshot_handle_key& key) const;

 private:
  earshot_device_counters gateway_total(std::uint32_t slot) const;

  MapFds fds_;
  int cpus_;
};

}  // namespace earshot::kernel
