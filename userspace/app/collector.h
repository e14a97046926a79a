#pragma once
// The collector: drains capture events from the ring buffer as they come,
// harvests the counting maps every harvest.interval, names what it finds and
// keeps the ledgers the exporter shows. One thread runs it; scrapes copy a
// snapshot under the lock.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <vector>

#include "config/config.h"
#include "export/snapshot.h"
#include "kernel/abi.h"
#include "kernel/bpf_handles.h"
#include "kernel/hooks.h"
#include "kernel/map_reader.h"
#include "kernel/procfs_poller.h"
#include "model/capture_ledger.h"
#include "model/egress_ledger.h"
#include "model/tier_dedup.h"
#include "model/session_builder.h"
#include "model/session_policy.h"
#include "resolve/destination_names.h"
#include "resolve/proc_reader.h"

namespace earshot::app {

class EventLog;

struct Identity {
  std::string process;
  std::string unit;
};

class Collector {
 public:
  Collector(const config::Config& config, kernel::KernelHooks& hooks,
            std::map<std::uint32_t, std::string> device_labels, EventLog& events);
  ~Collector();

  // Runs until stop is requested.
  void run(std::stop_token stop);
  // One harvest now (tests and start-up).
  void harvest();

  exporter::Snapshot snapshot() const;
  int on_event_thunk(const earshot_event& event);
  void on_dns_answer(const std::uint8_t* payload, std::size_t len);
  nlohmann::json sessions_json() const;

 private:
  int on_event(const earshot_event& event);
  Identity identify(std::uint32_t tgid, std::uint64_t start_ns, const char* comm_hint);
  std::string device_label(const earshot_event& event) const;
  void harvest_frames(std::uint64_t now);
  void credit_frames(const model::HandleId& id, std::uint64_t ts, std::uint64_t frames, std::uint64_t bytes,
                     double seconds);
  void credit_final_frames(const model::HandleId& id, std::uint64_t ts, std::uint64_t frames,
                           std::uint64_t bytes);
  // Tier 5: one poll of /proc/asound, fed through on_event as procfs-tier events.
  void poll_procfs();
  void finish_sessions(std::uint64_t now);
  std::uint64_t handle_id(const model::HandleId& handle, bool create);

  const config::Config& config_;
  kernel::KernelHooks& hooks_;
  kernel::MapReader maps_;
  kernel::RingBuffer ring_;
  std::map<std::uint32_t, std::string> device_labels_;
  EventLog& events_;
  resolve::ProcReader proc_;
  resolve::DestinationNamer namer_;
  std::string kernel_release_;

  // Naming caches, touched only by the collector thread.
  struct Owner {
    std::uint32_t tgid = 0;
    std::uint64_t start_ns = 0;
  };
  std::map<std::uint64_t, Owner> owner_by_cookie_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, Identity> identities_;
  model::FlowDeltas flow_deltas_;
  model::SlotDeltas slot_deltas_;
  resolve::NameTable dns_;
  std::int64_t realtime_offset_ns_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC
  std::uint64_t last_harvest_ns_ = 0;
  std::map<model::HandleId, std::uint64_t> handle_ids_;  // open handles -> session builder ids
  std::uint64_t next_handle_id_ = 1;
  struct HandleProgress {
    std::uint64_t frames = 0;
  };
  std::map<model::HandleId, HandleProgress> handle_progress_;
  std::uint64_t accounted_bytes_ =
      0;  // every byte that reached a series or the unattributed bucket
  std::uint64_t no_socket_bytes_seen_ = 0;
  // Capture tiers: one open seen by several counts once; the procfs floor.
  model::TierDedup dedup_;
  kernel::ProcfsPoller procfs_poller_;
  kernel::ProcfsTracker procfs_tracker_;
  std::map<model::HandleId, std::uint64_t> procfs_frames_;  // cumulative, per open procfs handle

  mutable std::mutex mutex_;  // guards what snapshot() reads
  model::EgressLedger egress_;
  model::CaptureLedger captures_;
  std::map<std::string, std::uint64_t> lost_;
  model::SessionBuilder sessions_;
  model::SessionPolicy policy_;
  struct CaptureProgress {
    std::uint64_t frames = 0;
    double seconds = 0;
  };
  std::map<model::CaptureSeriesKey, CaptureProgress> capture_progress_;
  std::uint64_t harvests_ = 0;
};

}  // namespace earshot::app
