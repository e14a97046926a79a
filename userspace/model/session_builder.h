#pragma once
// Builds capture sessions from capture events and egress samples.
//
// A session is per capture handle (a process and a device). It starts when
// the handle's frame counter first advances (at the harvest before the one
// that saw it move, since frames flowed in between), or at the open when
// the tier cannot see frames. A handle closed without ever delivering frames
// is one session from open to close with zero frames: holding a microphone
// open is itself worth reporting (and an mmap reader may be invisible). It ends at the close, or at its last frame
// progress once idle_gap has passed without any. It is finished, and
// reported, once a harvest at or after end + grace has been fed, so the bytes
// sent in the grace period are in it; before that it is open.
//
// Egress samples with a window other than none (the kernel saw a capture live
// or its grace period running when the bytes left) count in every session
// whose time [start, end + grace] overlaps the sample's harvest interval:
// as the session's own bytes when the sender is the capturing process, else
// under others. Every sample, whatever its window, feeds the baseline history.
//
// A capture through a sound server (CaptureOpened::via) names the server in
// its session; the server's own session (it holds the device) lists its
// clients and, while it has any, is judged on its own traffic only.
//
// Feeding: events in time order; after each harvest call tick(now). Samples
// are held until the harvest is complete (a later timestamp or tick), so the
// order of capture events and samples within one harvest does not matter.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/session.h"
#include "model/session_events.h"
#include "model/session_rate_history.h"
#include "model/verdict.h"

namespace earshot::model {

struct SessionConfig {
  std::chrono::nanoseconds grace = std::chrono::seconds(5);
  std::chrono::nanoseconds idle_gap = std::chrono::seconds(3);
  std::chrono::nanoseconds baseline = std::chrono::minutes(5);
  std::size_t sessions_kept = 100;  // finished sessions listed by recent()
  VerdictRules rules;
  // Bounds on memory: (process, destination) pairs in the baseline history,
  // and timed parts kept a stream (beyond it, neighbours are merged).
  std::size_t max_history_pairs = 4096;
  std::size_t max_parts_per_stream = 4096;
  // A sample's bytes are spread over at most this long before its harvest.
  std::chrono::nanoseconds max_sample_span = std::chrono::seconds(10);
};

class SessionBuilder {
 public:
  explicit SessionBuilder(SessionConfig config = {});

  void on(const CaptureOpened& event);
  void on(const CaptureFrames& event);
  void on(const CaptureClosed& event);
  void on(const CaptureVia& event);
  void on(const EgressSample& sample);
  // Completes the harvest at now: applies its samples, ends idle sessions,
  // finishes those whose grace period has passed.
  void tick(MonotonicNs now);

  // Sessions finished since the last call, oldest first.
  std::vector<Session> take_finished();
  // Sessions not finished yet (live, or ended and in their grace period),
  // as they stand now, with a provisional verdict.
  std::vector<Session> open_sessions() const;
  // The last sessions_kept finished sessions, oldest first.
  const std::deque<Session>& recent() const { return recent_; }

  // Finished sessions by (process name, verdict), for
  // earshot_capture_sessions_total.
  const std::map<std::pair<std::string, Verdict>, std::uint64_t>& finished_counts() const {
    return finished_counts_;
  }
  // Frame or close events for handles never opened (collector started mid-capture).
  std::uint64_t unknown_handle_events() const { return unknown_handle_events_; }

 private:
  struct Part {
    MonotonicNs begin;  // the sample's harvest interval (begin, end]
    MonotonicNs end;
    std::uint64_t bytes;
  };
  struct Stream {
    ProcessRef sender;
    std::string destination;
    double baseline_bytes_per_second = 0;
    std::vector<Part> parts;
  };
  struct Live {
    Session head;  // identity, times, frames; destinations and verdict filled on summary
    std::optional<MonotonicNs> end;
    MonotonicNs last_frames_ts = 0;
    // Opened where frames are visible, none seen yet: starts anew when they
    // come; reported from open to close (zero frames) if they never do.
    bool awaiting_frames = false;
    std::map<SenderDestination, double> baseline;  // every pair's rate before start
    std::map<SenderDestination, Stream> streams;
    // A sound server's session: the clients that captured through it, by tgid.
    std::map<std::uint32_t, ProcessRef> clients;
  };
  struct Handle {
    ProcessRef process;
    std::string device;
    DeviceKind kind = DeviceKind::microphone;
    bool frames_visible = true;
    MonotonicNs last_seen = 0;
    std::uint64_t frames_total = 0;
    std::uint64_t bytes_total = 0;
    std::optional<std::uint64_t> session_id;
    std::optional<ProcessRef> via;
  };

  MonotonicNs advance(MonotonicNs ts);
  void flush_samples();
  void apply(const EgressSample& sample, MonotonicNs span_begin);
  void start_session(std::uint64_t handle_id, Handle& handle, MonotonicNs start);
  void end_session(Live& live, MonotonicNs end, SessionEnd reason);
  void end_idle_sessions();
  // Joins a client capture and the live sessions of the server it goes through.
  void link_server(const Handle& client);
  void link_clients(Live& server);
  void finish_sessions();
  Session summarize(const Live& live, bool finished) const;

  SessionConfig config_;
  SessionRateHistory history_;
  std::map<std::uint64_t, Handle> handles_;
  std::map<std::uint64_t, Live> sessions_;  // by id: not finished yet
  std::vector<EgressSample> pending_;       // samples of the harvest at now_
  std::optional<MonotonicNs> first_ts_;
  MonotonicNs previous_ts_ = 0;  // the time point before now_ (0: none)
  MonotonicNs now_ = 0;
  MonotonicNs applied_through_ = 0;  // samples of harvests up to here are applied
  std::uint64_t next_session_id_ = 1;
  std::vector<Session> finished_;
  std::deque<Session> recent_;
  std::map<std::pair<std::string, Verdict>, std::uint64_t> finished_counts_;
  std::uint64_t unknown_handle_events_ = 0;
};

}  // namespace earshot::model
