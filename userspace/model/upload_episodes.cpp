#include "model/upload_episodes.h"

#include <algorithm>
#include <cmath>

namespace earshot::model {

namespace {

constexpr MonotonicNs kSecondNs = 1'000'000'000ULL;

// The second a harvest's bytes count in: (s, s + 1] holds ts.
std::uint64_t second_of(MonotonicNs ts) {
  return ts == 0 ? 0 : (ts - 1) / kSecondNs;
}

}  // namespace

double UploadEpisode::bytes_per_second() const {
  double s = seconds();
  return s > 0 ? static_cast<double>(bytes) / s : 0;
}

EpisodeDetector::EpisodeDetector(EpisodeRules rules) : rules_(rules) {}

void EpisodeDetector::add(const EpisodeSender& sender, const std::string& destination,
                          MonotonicNs ts, const FlowShape& shape) {
  auto [it, inserted] = pairs_.try_emplace({sender, destination});
  State& state = it->second;
  std::uint64_t second = second_of(ts);
  if (inserted) {
    state.next_second = second;
    // A pair that first sends after the detector's first tick is new: it
    // sent nothing before, so its baseline is nothing. Seeding it from its
    // first second (partial, often the start of the upload itself) would
    // hide a voice upload that begins its life. Pairs seen before the first
    // tick were already sending when earshot started: they learn from
    // their first quiet second.
    state.baseline_seeded = ticked_;
  }
  // A late harvest's bytes for a second already closed count in the next one.
  state.pending[std::max(second, state.next_second)] += shape;
  state.last_active = ts;
  if (inserted && pairs_.size() > rules_.max_pairs) forget_idle_pairs();
}

std::vector<UploadEpisode> EpisodeDetector::tick(MonotonicNs now) {
  ticked_ = true;
  std::vector<UploadEpisode> ended;
  std::uint64_t open_second = second_of(now);  // still filling
  for (auto& [pair, state] : pairs_) {
    while (state.next_second < open_second) {
      if (!state.current) {
        // Outside an episode, silent seconds only decay the baseline: skip
        // to the next second that has bytes (a pair idle for days costs one step).
        std::uint64_t next_bytes =
            state.pending.empty() ? open_second
                                  : std::min(open_second, state.pending.begin()->first);
        if (next_bytes > state.next_second) {
          std::uint64_t silent = next_bytes - state.next_second;
          state.baseline *= std::pow(1 - 1 / rules_.baseline_seconds, static_cast<double>(silent));
          state.baseline_seeded = true;
          state.next_second = next_bytes;
          continue;
        }
      }
      FlowShape shape;
      if (auto p = state.pending.find(state.next_second); p != state.pending.end()) {
        shape = p->second;
        state.pending.erase(p);
      }
      close_second(pair, state, state.next_second, shape, ended);
      ++state.next_second;
    }
  }
  std::sort(ended.begin(), ended.end(),
            [](const UploadEpisode& a, const UploadEpisode& b) { return a.start < b.start; });
  return ended;
}

void EpisodeDetector::close_second(const Pair& pair, State& state, std::uint64_t second,
                                   const FlowShape& shape, std::vector<UploadEpisode>& ended) {
  double rate = shape.upload_payload();
  double threshold =
      std::max(state.baseline + rules_.min_excess_rate, state.baseline * rules_.baseline_factor);
  bool busy = rate > threshold;
  if (!state.current) {
    if (!busy) {
      // Quiet seconds teach the baseline; the first one seeds it.
      if (!state.baseline_seeded) {
        state.baseline = rate;
        state.baseline_seeded = true;
      } else {
        state.baseline += (rate - state.baseline) / rules_.baseline_seconds;
      }
      return;
    }
    state.current.emplace();
    state.current->first_second = state.current->last_busy_second = second;
    state.current->last_active_second = second;
    state.current->baseline = state.baseline;
  }
  // Busy seconds teach it too, slowly, so a sender that now always sends
  // this much stops standing out (one long episode, then its new normal);
  // clipped, or one second of a bulk transfer would raise the threshold
  // above voice rates for minutes.
  if (busy)
    state.baseline += (std::min(rate, threshold * rules_.busy_baseline_clip) - state.baseline) /
                      rules_.busy_baseline_seconds;
  Current& c = *state.current;
  c.bytes += shape.payload_bytes;
  double excess = std::max(0.0, rate - c.baseline);
  c.excess += excess;
  if (c.excess_rates.size() < kMaxSecondsKept) {
    c.excess_rates.push_back(excess);
    c.packet_counts.push_back(shape.upload_packets());
  }
  c.upload_packets += shape.upload_packets();
  c.upload_payload += rate;
  c.ingress_payload += shape.ingress_payload;
  if (shape.upload_packets() >= static_cast<double>(rules_.audio_min_packets) &&
      excess >= rules_.audio_min_rate / 2)
    ++c.voiced_seconds;
  // Only where the absolute floor sets the threshold (a quiet sender): one
  // whose baseline has grown ends as its threshold says.
  bool continues = state.baseline * rules_.baseline_factor <=
                       state.baseline + rules_.min_excess_rate &&
                   rate > c.baseline + rules_.min_excess_rate * rules_.continue_fraction;
  if (busy || continues) c.last_active_second = second;
  if (busy) {
    c.last_busy_second = second;
    c.quiet_run = 0;
  } else if (continues) {
    c.quiet_run = 0;
  } else {
    ++c.quiet_run;
  }
  bool over = c.quiet_run >= rules_.end_gap_seconds;
  bool too_long = second + 1 - c.first_second >= rules_.max_episode_seconds;
  if (!over && !too_long) return;
  if (auto episode = finish(pair, c, over ? c.last_active_second + 1 : second + 1, false))
    ended.push_back(std::move(*episode));
  state.current.reset();
}

std::optional<UploadEpisode> EpisodeDetector::finish(const Pair& pair, const Current& c,
                                                     std::uint64_t end_second,
                                                     bool ongoing) const {
  // The quiet seconds at the end are not part of it.
  std::size_t busy_seconds = static_cast<std::size_t>(end_second - c.first_second);
  Current trimmed = c;
  if (trimmed.excess_rates.size() > busy_seconds) {
    trimmed.excess_rates.resize(busy_seconds);
    trimmed.packet_counts.resize(busy_seconds);
  }
  if (c.bytes < rules_.min_episode_bytes) return std::nullopt;
  UploadEpisode e;
  e.sender = pair.first;
  e.destination = pair.second;
  e.start = c.first_second * kSecondNs;
  e.end = end_second * kSecondNs;
  e.bytes = c.bytes;
  e.excess_bytes = static_cast<std::uint64_t>(std::llround(c.excess));
  e.baseline_bytes_per_second = c.baseline;
  e.verdict = classify(trimmed, static_cast<double>(busy_seconds));
  e.ongoing = ongoing;
  return e;
}

// Steady: the inner seconds near their median. The first and last are
// partial; with fewer than three inner seconds there is too little to
// judge: a short utterance straddles second boundaries, and one pause of
// a second would be half of it.
bool EpisodeDetector::steady(const Current& c, double ratio, double fraction) const {
  std::vector<double> inner = c.excess_rates;
  if (inner.size() >= 2) inner = std::vector<double>(inner.begin() + 1, inner.end() - 1);
  if (inner.size() < 3) return true;
  std::vector<double> sorted = inner;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  double median = sorted[sorted.size() / 2];
  if (median <= 0) return false;
  auto near = std::count_if(inner.begin(), inner.end(),
                            [&](double r) { return r >= median / ratio && r <= median * ratio; });
  return static_cast<double>(near) / static_cast<double>(inner.size()) >= fraction;
}

bool EpisodeDetector::every_frame_sent(const Current& c) const {
  if (c.packet_counts.size() < 3) return false;
  return std::all_of(c.packet_counts.begin() + 1, c.packet_counts.end() - 1,
                     [&](double packets) { return packets >= rules_.video_min_packets; });
}

Verdict EpisodeDetector::classify(const Current& c, double seconds) const {
  double mean = c.excess / std::max(seconds, 1.0);
  // Video first: its band is above most of speech's, and a camera's
  // stream of full datagrams is no codec's voice.
  if (seconds >= rules_.video_min_seconds && mean >= rules_.video_min_rate &&
      steady(c, rules_.video_steady_ratio, rules_.video_steady_fraction) && every_frame_sent(c) &&
      mean <= rules_.video_max_rate &&
      c.upload_payload >= rules_.video_min_out_in * static_cast<double>(c.ingress_payload) &&
      (c.upload_packets <= 0 || c.upload_payload / c.upload_packets > rules_.audio_max_packet_payload ||
       mean > rules_.audio_max_rate))
    return Verdict::video_upload;
  if (seconds < rules_.audio_min_seconds || seconds > rules_.audio_max_seconds)
    return Verdict::upload;
  if (!steady(c, rules_.steady_ratio, rules_.steady_fraction)) return Verdict::upload;
  if (mean < rules_.audio_min_rate || mean > rules_.audio_max_rate) return Verdict::upload;
  if (c.voiced_seconds < rules_.audio_min_voiced_seconds) return Verdict::upload;
  if (c.upload_packets <= 0 || c.upload_payload / c.upload_packets > rules_.audio_max_packet_payload)
    return Verdict::upload;
  return Verdict::audio_upload;
}

std::vector<UploadEpisode> EpisodeDetector::ongoing() const {
  std::vector<UploadEpisode> out;
  for (const auto& [pair, state] : pairs_) {
    if (!state.current) continue;
    if (auto e = finish(pair, *state.current, state.current->last_active_second + 1, true))
      out.push_back(std::move(*e));
  }
  return out;
}

void EpisodeDetector::forget_idle_pairs() {
  while (pairs_.size() > rules_.max_pairs) {
    auto oldest = pairs_.end();
    for (auto it = pairs_.begin(); it != pairs_.end(); ++it)
      if (!it->second.current && (oldest == pairs_.end() ||
                                  it->second.last_active < oldest->second.last_active))
        oldest = it;
    if (oldest == pairs_.end()) return;  // all in an episode: keep them
    pairs_.erase(oldest);
  }
}

}  // namespace earshot::model
