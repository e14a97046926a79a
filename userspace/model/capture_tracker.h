#pragma once
// Capture opens, closes and frame counts from every tier, made into the
// capture series, the sessions' capture events and the capture-time
// figures. Pure: the caller reads the ring buffer, the maps and /proc and
// names things; this keeps the state.
//
// An open another tier already counted is a duplicate (model/tier_dedup.h)
// and counts nothing; its close is swallowed.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/capture_ledger.h"
#include "model/session_builder.h"
#include "model/tier_dedup.h"

namespace earshot::model {

// A handle's cumulative counts, from a BPF map or a poll.
struct HandleCount {
  HandleId id;
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
};

// The names of a counted open.
struct CaptureNames {
  ProcessRef process;
  std::string unit;
  std::string device;
  std::optional<ProcessRef> via = std::nullopt;  // a sound server tier's open: its server
  DeviceKind kind = DeviceKind::microphone;
};

// A capture event as the event log reports it.
struct CaptureRecord {
  enum class Kind { open, close } kind = Kind::open;
  MonotonicNs ts = 0;
  std::string process, unit, device;
  std::uint32_t pid = 0;
  Tier tier{};
  bool process_exit = false;                     // a close because the process exited
  std::optional<ProcessRef> via = std::nullopt;  // the sound server the capture goes through
  DeviceKind device_kind = DeviceKind::microphone;
};

struct CaptureTime {
  std::uint64_t frames = 0;
  double seconds = 0;  // harvest intervals in which frames grew
};

class CaptureTracker {
 public:
  explicit CaptureTracker(SessionBuilder& sessions) : sessions_(sessions) {}

  struct Opened {
    std::optional<HandleId> counted_as;   // set for a duplicate: the open that counts
    std::optional<CaptureRecord> record;  // set for a counted open
  };
  // dev: kernel dev_t, 0 when the tier cannot see it. `name` is called only
  // for a counted open, or a sound server tier's duplicate (whose server
  // the counted open's session then names).
  Opened opened(MonotonicNs ts, const HandleId& id, std::uint32_t dev,
                const std::function<CaptureNames()>& name);
  // A close, with the handle's final counts (a harvest may not have read them).
  std::optional<CaptureRecord> closed(MonotonicNs ts, const HandleCount& final_count);

  struct Exited {
    std::vector<HandleId> closed;  // handles whose map entries the caller may drop
    std::vector<CaptureRecord> records;
  };
  // The process exited: every capture it held is closed, with the counts
  // final_count gives (nullopt: none left to read).
  Exited process_exited(
      MonotonicNs ts, std::uint32_t tgid,
      const std::function<std::optional<HandleCount>(const HandleId&)>& final_count);

  // Cumulative frames of a handle that no map holds (a polled tier).
  void polled_frames(const HandleId& id, std::uint64_t frames) { polled_[id] = frames; }
  // One harvest: every open handle's cumulative counts (the polled ones are added here).
  void harvest(MonotonicNs now, std::vector<HandleCount> handles);

  const CaptureLedger& ledger() const { return ledger_; }
  const std::map<CaptureSeriesKey, CaptureTime>& capture_time() const { return time_; }

 private:
  std::uint64_t session_id(const HandleId& id, bool create);
  void credit(const HandleId& id, MonotonicNs ts, std::uint64_t frames, std::uint64_t bytes,
              double seconds);
  void credit_final(const HandleCount& count, MonotonicNs ts);
  void forget(const HandleId& id);
  std::optional<ProcessRef> via_of(const HandleId& id) const;

  SessionBuilder& sessions_;
  TierDedup dedup_;
  CaptureLedger ledger_;
  std::map<HandleId, std::uint64_t> session_ids_;  // open handles -> session builder ids
  std::uint64_t next_session_id_ = 1;
  std::map<HandleId, std::uint64_t> frames_seen_;  // per handle, last cumulative frames credited
  std::map<HandleId, std::uint64_t> polled_;
  std::map<HandleId, ProcessRef> via_;  // open handles through a sound server
  std::map<CaptureSeriesKey, CaptureTime> time_;
  MonotonicNs last_harvest_ = 0;
};

}  // namespace earshot::model
