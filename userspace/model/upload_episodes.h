#pragma once
// Upload episodes, found as they happen: a stretch in which one sender's
// upload to one destination stands out from that pair's own baseline.
// Each is reported when it ends (end_gap quiet seconds after its last busy
// one) with a verdict on its shape (README, "Verdicts"): audio-upload,
// video-upload, or upload (anything else: a bulk transfer, a reply, a
// stream out of both bands). A heartbeat stays below the threshold and
// raises nothing.
//
// What counts as upload is the payload the destination did not ask for
// (FlowShape::upload_payload): a download's acknowledgements are explained
// by what came back.
//
// One detector for processes (device mode, during captures) and for LAN
// devices (gateway mode): a sender is a key and a display name.
//
// Bounded: per pair, a baseline and the current episode (its first
// kMaxSecondsKept per-second rates, then running totals); pairs beyond
// max_pairs, the longest idle first, are forgotten. An episode longer than
// max_episode is reported and a new one begins, so a stream of days still
// yields reports and keeps its memory.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/flow_shape.h"
#include "model/session_events.h"
#include "model/verdict.h"

namespace earshot::model {

struct EpisodeRules {
  // Busy second: payload rate above max(baseline + min_excess_rate,
  // baseline x baseline_factor), in bytes/s. 750 B/s is 6 kbit/s, the low
  // end of speech codecs; a 40-byte keep-alive every 5 s is 8 B/s.
  double min_excess_rate = 750;
  double baseline_factor = 3;
  // The baseline follows quiet seconds with this time constant, and busy
  // ones with the slower busy_baseline_seconds, each counted at most
  // busy_baseline_clip x the threshold: a stream that never stops still
  // becomes its sender's normal within minutes (the baseline grows by a
  // factor each second), while a few seconds of bulk transfer barely move
  // it, so a voice upload soon after one still stands out.
  double baseline_seconds = 30;
  double busy_baseline_seconds = 600;
  double busy_baseline_clip = 4;
  // Quiet seconds that end an episode. Inside one, of a sender whose
  // threshold is the absolute floor, a second whose upload is above
  // baseline + min_excess_rate x continue_fraction is not quiet: the tail
  // of a talk spurt.
  std::uint32_t end_gap_seconds = 2;
  double continue_fraction = 0.25;
  // Less payload than this in an episode is noise, not reported.
  std::uint64_t min_episode_bytes = 2048;
  // Audio: excess rate 6-256 kbit/s (bytes/s), 2-60 s long, steady (at
  // least steady_fraction of its inner seconds, the first and last being
  // partial, within [1/steady_ratio, steady_ratio] x their median: speech's
  // spurts and pauses vary), and shaped like codec frames: on average at
  // most audio_max_packet_payload bytes a packet (an Opus frame and its
  // framing are tens to a few hundred, 60 ms at 64 kbit/s about 500, 20 ms
  // of 16 kHz PCM 640; a bulk sender's are full-size datagrams or TCP
  // segments, or whole writes at once), and at least
  // audio_min_voiced_seconds seconds each carrying audio_min_packets
  // packets (a frame every 20-120 ms) and half audio_min_rate. A reply of a
  // second, one burst of large packets, has no such shape.
  double audio_min_rate = 6'000.0 / 8;
  double audio_max_rate = 256'000.0 / 8;
  double audio_min_seconds = 2;
  double audio_max_seconds = 60;
  double steady_ratio = 5;
  double steady_fraction = 0.6;
  double audio_max_packet_payload = 700;
  std::uint64_t audio_min_packets = 5;
  std::uint32_t audio_min_voiced_seconds = 2;
  // Video (a camera's stream): excess rate 100 kbit/s to 50 Mbit/s, at
  // least video_min_seconds long (a file upload is shorter), steadier than
  // speech (a camera's frame rate is constant; its key frames vary a
  // second by tens of percent, not the several times a sync of files
  // does): video_steady_fraction of the inner seconds within
  // [1/video_steady_ratio, video_steady_ratio] x their median; and far
  // more sent than received (video_min_out_in x the payload that came
  // back: a video call's downstream half is its own).
  double video_min_rate = 100'000.0 / 8;
  double video_max_rate = 50'000'000.0 / 8;
  double video_min_seconds = 5;
  double video_steady_ratio = 2;
  double video_steady_fraction = 0.7;
  double video_min_out_in = 4;
  // A camera sends every frame, 15-30 a second: every inner second carries
  // at least this many packets (a sync sends a chunk, then nothing).
  double video_min_packets = 15;
  // Longer episodes are reported in parts.
  std::uint32_t max_episode_seconds = 600;
  std::size_t max_pairs = 4096;
};

struct EpisodeSender {
  std::string key;   // identity (a process's tgid and start time, a device's MAC)
  std::string name;  // display name (process or device name)
  std::uint32_t pid = 0;  // 0 for a device
  auto operator<=>(const EpisodeSender&) const = default;
};

struct UploadEpisode {
  EpisodeSender sender;
  std::string destination;
  MonotonicNs start = 0;
  MonotonicNs end = 0;  // end of its last busy second
  std::uint64_t bytes = 0;         // payload sent in it
  std::uint64_t excess_bytes = 0;  // beyond the baseline
  double baseline_bytes_per_second = 0;
  Verdict verdict = Verdict::upload;
  bool ongoing = false;  // not ended yet (ongoing() only)

  double seconds() const { return static_cast<double>(end - start) / 1e9; }
  double bytes_per_second() const;
};

class EpisodeDetector {
 public:
  static constexpr std::size_t kMaxSecondsKept = 128;

  explicit EpisodeDetector(EpisodeRules rules = {});

  // What a sender sent a destination (and received from it) by ts (a
  // harvest time): it counts in the second that ends at or after ts.
  void add(const EpisodeSender& sender, const std::string& destination, MonotonicNs ts,
           const FlowShape& shape);
  // Closes every whole second before now (a second nothing was added to
  // counts as silent) and returns the episodes that ended, oldest first.
  std::vector<UploadEpisode> tick(MonotonicNs now);
  // Episodes under way, as they stand.
  std::vector<UploadEpisode> ongoing() const;

  std::size_t pairs() const { return pairs_.size(); }
  const EpisodeRules& rules() const { return rules_; }

 private:
  using Pair = std::pair<EpisodeSender, std::string>;
  struct Current {
    std::uint64_t first_second = 0;
    std::uint64_t last_busy_second = 0;
    std::uint32_t quiet_run = 0;
    std::uint64_t bytes = 0;
    double excess = 0;
    double baseline = 0;
    std::vector<double> excess_rates;  // per second, the first kMaxSecondsKept
    std::vector<double> packet_counts;  // upload packets per second, likewise
    double upload_packets = 0;         // not explained as acknowledgements
    double upload_payload = 0;
    std::uint64_t ingress_payload = 0;
    std::uint32_t voiced_seconds = 0;  // audio_min_packets and half audio_min_rate
    std::uint64_t last_active_second = 0;  // busy or continuing: the episode's end
  };
  struct State {
    double baseline = 0;
    bool baseline_seeded = false;
    std::uint64_t next_second = 0;  // the first second not closed yet
    std::map<std::uint64_t, FlowShape> pending;  // second -> what it saw, not closed yet
    std::optional<Current> current;
    MonotonicNs last_active = 0;
  };

  void close_second(const Pair& pair, State& state, std::uint64_t second, const FlowShape& shape,
                    std::vector<UploadEpisode>& ended);
  std::optional<UploadEpisode> finish(const Pair& pair, const Current& current,
                                      std::uint64_t end_second, bool ongoing) const;
  Verdict classify(const Current& current, double seconds) const;
  bool steady(const Current& current, double ratio, double fraction) const;
  bool every_frame_sent(const Current& current) const;
  void forget_idle_pairs();

  EpisodeRules rules_;
  std::map<Pair, State> pairs_;
  bool ticked_ = false;  // tick() has run: pairs added from now on are new
};

}  // namespace earshot::model
