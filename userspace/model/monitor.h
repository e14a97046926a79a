#pragma once
// Everything earshot works out, fed what the kernel and /proc said: the
// egress series, the capture series, sessions and policy alerts. Pure: the
// collector (app/) reads maps, the ring buffer and /proc, names things,
// hands them over here and writes out the event lines each call returns.
#include <array>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/vocabulary.h"
#include "model/capture_tracker.h"
#include "model/egress_harvest.h"
#include "model/egress_ledger.h"
#include "model/session_builder.h"
#include "model/session_policy.h"
#include "model/upload_episodes.h"

namespace earshot::model {

struct MonitorConfig {
  SessionConfig sessions;
  SessionPolicyConfig policy;
  std::size_t max_processes = 100;
  std::size_t max_destinations_per_process = 50;
  std::int64_t realtime_minus_monotonic_ns = 0;  // for the event lines' wall times
  EpisodeRules episodes;
  std::size_t episodes_kept_per_session = 50;  // listed in /api/sessions; the rest counted
  // earshot's own process: its replies (a scrape of /metrics) are never
  // a suspect upload, nor part of a session's evidence. 0: none.
  std::uint32_t self_tgid = 0;
};

using EventLines = std::vector<nlohmann::json>;
using LostCounts = std::array<std::uint64_t, kLostReasonCount>;

class Monitor {
 public:
  explicit Monitor(const MonitorConfig& config);

  // Capture events from any tier.
  struct Opened {
    std::optional<HandleId> counted_as;  // a duplicate of this counted open
    EventLines lines;
  };
  Opened capture_opened(MonotonicNs ts, const HandleId& id, std::uint32_t dev,
                        const std::function<CaptureNames()>& name);
  EventLines capture_closed(MonotonicNs ts, const HandleCount& final_count);
  struct Exited {
    std::vector<HandleId> closed;  // handles whose map entries may be dropped
    EventLines lines;
  };
  Exited process_exited(
      MonotonicNs ts, std::uint32_t tgid,
      const std::function<std::optional<HandleCount>(const HandleId&)>& final_count);
  void polled_frames(const HandleId& id, std::uint64_t frames) {
    captures_.polled_frames(id, frames);
  }

  // A harvest, in two steps: the growth of the counting maps joined to
  // owners (the caller then names each), then everything else.
  std::vector<FlowGrowth> egress_growth(const EgressReading& reading,
                                        const EgressHarvest::OwnerLookup& lookup);
  EventLines harvested(MonotonicNs now, const std::vector<NamedGrowth>& named,
                       const EgressReading& reading, std::vector<HandleCount> handles,
                       const LostCounts& lost);

  const EgressLedger& egress() const { return egress_; }
  const CaptureLedger& captures() const { return captures_.ledger(); }
  const std::map<CaptureSeriesKey, CaptureTime>& capture_time() const {
    return captures_.capture_time();
  }
  const SessionBuilder& sessions() const { return sessions_; }
  const SessionPolicy& policy() const { return policy_; }
  const LostCounts& lost() const { return lost_; }
  // Upload episodes reported during captures, and the last one of each
  // (process, destination).
  struct EpisodeKey {
    std::string process, destination;
    Verdict verdict = Verdict::upload;
    bool allowed = true;  // destination in policy.upload_allowed, or no list
    auto operator<=>(const EpisodeKey&) const = default;
  };
  struct LastEpisode {
    double seconds = 0;
    std::uint64_t bytes = 0;
  };
  const std::map<EpisodeKey, std::uint64_t>& episode_counts() const { return episode_counts_; }
  const std::map<std::pair<std::string, std::string>, LastEpisode>& last_episodes() const {
    return last_episodes_;
  }
  std::uint64_t harvests() const { return harvests_; }
  // Finished sessions by (process name, verdict as judged()), for
  // earshot_capture_sessions_total.
  const std::map<std::pair<std::string, Verdict>, std::uint64_t>& session_counts() const {
    return session_counts_;
  }
  // A session with its verdict from the episodes that joined it: a
  // microphone's is audio-upload only when an audio-upload episode did (the
  // episodes judge shape with the packets' evidence; the session's own
  // per-second bytes cannot tell a voice from a download's acknowledgements
  // or a reply), else an upload the builder saw stays one. A camera's
  // keeps the builder's video verdict, or takes a video-upload episode's.
  Session judged(const Session& session) const;
  // /api/sessions: open sessions and the recent finished ones, newest first.
  nlohmann::json sessions_json() const;

 private:
  EventLines capture_lines(const std::vector<CaptureRecord>& records) const;
  // Episodes that ended: those during a capture (from its start to the end
  // of its grace period) join that session and are reported.
  void report_episodes(const std::vector<UploadEpisode>& ended,
                       const std::vector<Session>& finished, EventLines& lines);
  std::vector<UploadEpisode> episodes_of(const Session& session, std::uint64_t& total) const;
  nlohmann::json with_episodes(const Session& session) const;
  nlohmann::json session_line(const Session& session) const;

  MonitorConfig config_;
  EgressLedger egress_;
  EgressHarvest harvest_;
  SessionBuilder sessions_;
  SessionPolicy policy_;
  CaptureTracker captures_;
  EpisodeDetector episodes_;
  struct SessionEpisodes {
    std::deque<UploadEpisode> kept;  // the last episodes_kept_per_session
    std::uint64_t total = 0;
  };
  std::map<std::uint64_t, SessionEpisodes> session_episodes_;  // by session id
  std::map<EpisodeKey, std::uint64_t> episode_counts_;
  std::map<std::pair<std::string, std::string>, LastEpisode> last_episodes_;
  LostCounts lost_{};
  std::uint64_t harvests_ = 0;
  std::map<std::pair<std::string, Verdict>, std::uint64_t> session_counts_;

  bool is_self(std::uint32_t tgid) const {
    return config_.self_tgid != 0 && tgid == config_.self_tgid;
  }
};

}  // namespace earshot::model
