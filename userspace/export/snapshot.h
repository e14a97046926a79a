#pragma once
// What one scrape shows: plain data copied out of the collector under its
// lock, so the Prometheus conversion is pure and the lock is held briefly.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/capture_ledger.h"
#include "model/device_bursts.h"
#include "model/device_ledger.h"
#include "model/egress_ledger.h"

namespace earshot::exporter {

struct HookState {
  std::string hook;
  bool attached = false;
  std::string detail;
};

struct ProgramStats {
  std::string program;
  std::uint64_t run_time_ns = 0;
  std::uint64_t run_count = 0;
};

struct SessionCount {
  std::string process;
  std::string verdict;
  std::uint64_t count = 0;
};

struct PolicyViolationCount {
  std::string process;
  std::string kind;
  std::uint64_t count = 0;
};

struct CaptureTime {
  std::string process, unit, device;
  double seconds = 0;
  std::uint64_t frames = 0;
  DeviceKind kind = DeviceKind::microphone;
};

struct Snapshot {
  std::string version;
  std::string kernel;
  std::map<model::SeriesKey, model::Counters> egress;
  model::Counters unattributed;
  std::uint64_t unaccounted_bytes = 0;
  std::map<model::CaptureSeriesKey, model::CaptureSeries> captures;
  std::vector<CaptureTime> capture_time;
  std::vector<SessionCount> sessions;
  struct EpisodeCount {
    std::string process, destination, verdict;
    bool allowed = true;
    std::uint64_t count = 0;
  };
  struct LastEpisode {
    std::string process, destination;
    double seconds = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<EpisodeCount> upload_episodes;  // during captures
  std::vector<LastEpisode> last_episodes;     // the last of each (process, destination)
  std::vector<PolicyViolationCount> policy_violations;
  std::vector<HookState> hooks;
  std::uint64_t devices_watched = 0;  // capture nodes watched (sysfs and extra_devices)
  std::map<std::string, std::uint64_t> events_lost;  // reason -> count
  std::vector<ProgramStats> programs;
  std::uint64_t harvests = 0;
  // Gateway mode (only when gateway.enabled).
  bool gateway = false;
  std::map<model::DeviceSeriesKey, model::Counters> device_egress;
  model::Counters device_refused;  // packets the full device map refused
  // packets to a LAN device no pair of its took: ingress counters
  model::Counters device_ingress_unmatched;
  std::uint64_t device_pairs = 0;  // (device, destination) pairs in the kernel's table
  std::map<model::DeviceBursts::Key, std::uint64_t> device_bursts;  // voice, video uploads
};

}  // namespace earshot::exporter
