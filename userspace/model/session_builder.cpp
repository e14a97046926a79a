#include "model/session_builder.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace earshot::model {
namespace {

constexpr MonotonicNs kNanosPerSecond = 1'000'000'000;
// A session's per-second series is cut at a day; longer sessions are judged
// on their first day, which is plenty to tell a stream.
constexpr std::uint64_t kMaxSeriesSeconds = 24 * 3600;

MonotonicNs ns(std::chrono::nanoseconds duration) {
  return duration.count() > 0 ? static_cast<MonotonicNs>(duration.count()) : 0;
}

// Spreads a part's bytes over the session's seconds [start + i, start + i + 1),
// in proportion to how much of its interval (begin, end] falls in each.
void spread(MonotonicNs begin, MonotonicNs end, std::uint64_t bytes, MonotonicNs start,
            std::vector<double>& series) {
  MonotonicNs series_end = start + series.size() * kNanosPerSecond;
  if (end <= begin) {  // a point: all in the second that holds it
    if (end > start && end <= series_end) series[(end - 1 - start) / kNanosPerSecond] += bytes;
    return;
  }
  MonotonicNs from = std::max(begin, start);
  MonotonicNs to = std::min(end, series_end);
  double per_ns = static_cast<double>(bytes) / static_cast<double>(end - begin);
  for (MonotonicNs t = from; t < to;) {
    std::size_t index = (t - start) / kNanosPerSecond;
    MonotonicNs second_end = start + (index + 1) * kNanosPerSecond;
    MonotonicNs piece_end = std::min(second_end, to);
    series[index] += per_ns * static_cast<double>(piece_end - t);
    t = piece_end;
  }
}

// Halves a stream's parts by merging neighbours: totals stay exact, only the
// timing gets coarser.
template <class Part>
void coalesce(std::vector<Part>& parts) {
  std::vector<Part> merged;
  merged.reserve(parts.size() / 2 + 1);
  for (std::size_t i = 0; i < parts.size(); i += 2) {
    if (i + 1 < parts.size()) {
      merged.push_back({parts[i].begin, parts[i + 1].end, parts[i].bytes + parts[i + 1].bytes});
    } else {
      merged.push_back(parts[i]);
    }
  }
  parts = std::move(merged);
}

}  // namespace

SessionBuilder::SessionBuilder(SessionConfig config)
    : config_(config), history_(ns(config.baseline), config.max_history_pairs) {
  if (config_.max_parts_per_stream < 2) {
    throw Error("session builder: max_parts_per_stream must be at least 2");
  }
}

MonotonicNs SessionBuilder::advance(MonotonicNs ts) {
  if (!first_ts_) first_ts_ = ts;
  if (ts <= now_) return now_;  // out of order: treated as now
  // The harvest at now_ is complete: settle it as tick() would have.
  flush_samples();
  applied_through_ = now_;
  end_idle_sessions();
  finish_sessions();
  previous_ts_ = now_;
  now_ = ts;
  history_.prune(now_);
  return now_;
}

void SessionBuilder::tick(MonotonicNs now) {
  advance(now);
  flush_samples();
  applied_through_ = now_;
  end_idle_sessions();
  finish_sessions();
}

void SessionBuilder::on(const CaptureOpened& event) {
  MonotonicNs ts = advance(event.ts);
  auto existing = handles_.find(event.handle_id);
  if (existing != handles_.end()) on(CaptureClosed{ts, event.handle_id});
  Handle& handle = handles_[event.handle_id];
  handle.process = event.process;
  handle.device = event.device;
  handle.kind = event.kind;
  handle.frames_visible = event.frames_visible;
  handle.last_seen = ts;
  handle.via = event.via;
  start_session(event.handle_id, handle, ts);
  if (event.frames_visible) sessions_.at(*handle.session_id).awaiting_frames = true;
}

void SessionBuilder::on(const CaptureFrames& event) {
  MonotonicNs ts = advance(event.ts);
  auto it = handles_.find(event.handle_id);
  if (it == handles_.end()) {
    ++unknown_handle_events_;
    return;
  }
  Handle& handle = it->second;
  // A counter that went backwards was reset: count from zero.
  std::uint64_t frames = event.frames_total >= handle.frames_total
                             ? event.frames_total - handle.frames_total
                             : event.frames_total;
  std::uint64_t bytes = event.bytes_total >= handle.bytes_total
                            ? event.bytes_total - handle.bytes_total
                            : event.bytes_total;
  handle.frames_total = event.frames_total;
  handle.bytes_total = event.bytes_total;
  if (frames > 0 || bytes > 0) {
    if (!handle.session_id) {
      // Frames flowed somewhere in the interval that ends now: start at the
      // handle's previous observation (its open or the previous harvest).
      start_session(event.handle_id, handle,
                    std::min(ts, std::max(handle.last_seen, previous_ts_)));
    }
    Live& live = sessions_.at(*handle.session_id);
    if (live.awaiting_frames) {
      // Frames started: the session starts now, not at the open.
      MonotonicNs start = std::min(ts, std::max(handle.last_seen, previous_ts_));
      live.awaiting_frames = false;
      live.head.start = live.head.end = start;
      for (auto& [pair, stream] : live.streams)
        std::erase_if(stream.parts, [&](const Part& part) { return part.end <= start; });
      std::erase_if(live.streams, [](const auto& entry) { return entry.second.parts.empty(); });
      live.baseline = history_.rates_before(start, first_ts_.value_or(start));
    }
    live.last_frames_ts = ts;
    live.head.frames += frames;
    live.head.audio_bytes += bytes;
  }
  handle.last_seen = ts;
}

void SessionBuilder::on(const CaptureClosed& event) {
  MonotonicNs ts = advance(event.ts);
  auto it = handles_.find(event.handle_id);
  if (it == handles_.end()) {
    ++unknown_handle_events_;
    return;
  }
  if (it->second.session_id) {
    Live& live = sessions_.at(*it->second.session_id);
    if (!live.end) end_session(live, ts, SessionEnd::close);
  }
  handles_.erase(it);
}

void SessionBuilder::on(const CaptureVia& event) {
  advance(event.ts);
  auto it = handles_.find(event.handle_id);
  if (it == handles_.end()) {
    ++unknown_handle_events_;
    return;
  }
  Handle& handle = it->second;
  handle.via = event.via;
  if (handle.session_id) {
    sessions_.at(*handle.session_id).head.via = event.via;
    link_server(handle);
  }
}

void SessionBuilder::link_server(const Handle& client) {
  if (!client.via || client.via->tgid == 0) return;
  for (auto& [id, live] : sessions_)
    if (!live.end && live.head.process.tgid == client.via->tgid &&
        live.head.process.tgid != client.process.tgid)
      live.clients.try_emplace(client.process.tgid, client.process);
}

void SessionBuilder::link_clients(Live& server) {
  for (const auto& [id, handle] : handles_)
    if (handle.via && handle.via->tgid == server.head.process.tgid && handle.session_id &&
        handle.process.tgid != server.head.process.tgid)
      server.clients.try_emplace(handle.process.tgid, handle.process);
}

void SessionBuilder::on(const EgressSample& sample) {
  MonotonicNs ts = advance(sample.ts);
  pending_.push_back(sample);
  pending_.back().ts = ts;
}

void SessionBuilder::flush_samples() {
  for (const auto& sample : pending_) {
    MonotonicNs span_begin = previous_ts_;
    if (span_begin == 0 || span_begin >= sample.ts) {
      span_begin = sample.ts > kNanosPerSecond ? sample.ts - kNanosPerSecond : 0;
    }
    MonotonicNs max_span = ns(config_.max_sample_span);
    if (sample.ts - span_begin > max_span) span_begin = sample.ts - max_span;
    history_.add({sample.process.key(), sample.destination}, sample.ts, sample.bytes);
    if (sample.window != Window::none && sample.bytes > 0) apply(sample, span_begin);
  }
  pending_.clear();
}

void SessionBuilder::apply(const EgressSample& sample, MonotonicNs span_begin) {
  MonotonicNs grace = ns(config_.grace);
  SenderDestination pair{sample.process.key(), sample.destination};
  for (auto& [id, live] : sessions_) {
    if (sample.ts <= live.head.start) continue;
    if (live.end && span_begin >= *live.end + grace) continue;
    auto [it, created] = live.streams.try_emplace(pair);
    Stream& stream = it->second;
    if (created) {
      stream.sender = sample.process;
      stream.destination = sample.destination;
      auto baseline = live.baseline.find(pair);
      stream.baseline_bytes_per_second = baseline == live.baseline.end() ? 0 : baseline->second;
    }
    // Several windows of one harvest (self, then grace) land in one part.
    if (!stream.parts.empty() && stream.parts.back().begin == span_begin &&
        stream.parts.back().end == sample.ts) {
      stream.parts.back().bytes += sample.bytes;
    } else {
      stream.parts.push_back({span_begin, sample.ts, sample.bytes});
      if (stream.parts.size() > config_.max_parts_per_stream) coalesce(stream.parts);
    }
  }
}

void SessionBuilder::start_session(std::uint64_t handle_id, Handle& handle, MonotonicNs start) {
  Live live;
  live.head.id = next_session_id_++;
  live.head.process = handle.process;
  live.head.device = handle.device;
  live.head.kind = handle.kind;
  live.head.handle_id = handle_id;
  live.head.frames_visible = handle.frames_visible;
  live.head.start = start;
  live.head.end = start;
  live.last_frames_ts = start;
  live.baseline = history_.rates_before(start, first_ts_.value_or(start));
  live.head.via = handle.via;
  handle.session_id = live.head.id;
  link_clients(live);
  sessions_.emplace(live.head.id, std::move(live));
  link_server(handle);
}

void SessionBuilder::end_session(Live& live, MonotonicNs end, SessionEnd reason) {
  live.end = end;
  live.head.end = end;
  live.head.ended_by = reason;
  // Parts harvested after an idle session's grace ran out were counted while
  // it might still have continued: they are not part of it.
  MonotonicNs limit = end + ns(config_.grace);
  for (auto& [pair, stream] : live.streams) {
    std::erase_if(stream.parts, [&](const Part& part) { return part.begin >= limit; });
  }
  std::erase_if(live.streams, [](const auto& entry) { return entry.second.parts.empty(); });
  auto handle = handles_.find(live.head.handle_id);
  if (handle != handles_.end() && handle->second.session_id == live.head.id) {
    handle->second.session_id.reset();
  }
}

// Judged at a complete harvest (after its frame events), so frames that
// resume in the harvest that would have crossed idle_gap keep the session.
void SessionBuilder::end_idle_sessions() {
  MonotonicNs idle_gap = ns(config_.idle_gap);
  for (auto& [id, live] : sessions_) {
    if (!live.end && live.head.frames_visible && !live.awaiting_frames &&
        now_ - live.last_frames_ts > idle_gap) {
      end_session(live, live.last_frames_ts, SessionEnd::idle);
    }
  }
}

void SessionBuilder::finish_sessions() {
  MonotonicNs grace = ns(config_.grace);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Live& live = it->second;
    if (!live.end || applied_through_ < *live.end + grace) {
      ++it;
      continue;
    }
    Session session = summarize(live, true);
    ++finished_counts_[{session.process.name, session.verdict}];
    recent_.push_back(session);
    while (recent_.size() > config_.sessions_kept) recent_.pop_front();
    finished_.push_back(std::move(session));
    it = sessions_.erase(it);
  }
}

Session SessionBuilder::summarize(const Live& live, bool finished) const {
  Session session = live.head;
  session.finished = finished;
  MonotonicNs start = session.start;
  MonotonicNs end = live.end ? *live.end : std::max(now_, start);
  session.end = end;
  // Bytes were counted from start to end + grace, or, while open, as far as
  // samples have been applied.
  MonotonicNs counted_end = live.end ? *live.end + ns(config_.grace) : end;
  if (!finished) counted_end = std::min(counted_end, std::max(applied_through_, start));
  double counted_seconds = static_cast<double>(counted_end - start) / kNanosPerSecond;

  std::uint64_t seconds = (end - start + kNanosPerSecond - 1) / kNanosPerSecond;
  seconds = std::clamp<std::uint64_t>(seconds, 1, kMaxSeriesSeconds);

  // A server with known clients: its clients' sessions judge their
  // traffic, this one judges the server's own.
  const bool serving = !live.clients.empty();
  for (const auto& [tgid, client] : live.clients) session.clients.push_back(client);
  std::vector<std::vector<double>> series;
  std::vector<StreamEvidence> evidence;
  series.reserve(live.streams.size());
  evidence.reserve(live.streams.size());
  std::map<std::string, SessionDestination> by_destination;
  for (const auto& [pair, stream] : live.streams) {
    auto& per_second = series.emplace_back(seconds, 0.0);
    std::uint64_t bytes = 0;
    for (const auto& part : stream.parts) {
      bytes += part.bytes;
      spread(part.begin, part.end, part.bytes, start, per_second);
    }
    for (double& value : per_second) value -= stream.baseline_bytes_per_second;
    StreamEvidence ev;
    ev.bytes = bytes;
    ev.expected_bytes = stream.baseline_bytes_per_second * counted_seconds;
    ev.excess_per_second = per_second;

    SessionSender sender;
    sender.process = stream.sender;
    sender.bytes = bytes;
    sender.baseline_bytes_per_second = stream.baseline_bytes_per_second;
    sender.excess_bytes = excess_bytes(ev);
    sender.above_baseline = is_above_baseline(ev, config_.rules);
    bool camera = session.kind == DeviceKind::camera;
    sender.audio_like = !camera && sender.above_baseline && looks_like_audio(ev, config_.rules);
    sender.video_like = camera && sender.above_baseline && looks_like_video(ev, config_.rules);
    if (!serving || pair.first == session.process.key()) evidence.push_back(ev);

    auto [entry, created] = by_destination.try_emplace(stream.destination);
    SessionDestination& destination = entry->second;
    if (created) {
      destination.destination = stream.destination;
      destination.self.process = session.process;
      auto own = live.baseline.find({session.process.key(), stream.destination});
      if (own != live.baseline.end()) destination.self.baseline_bytes_per_second = own->second;
    }
    destination.baseline_bytes_per_second += sender.baseline_bytes_per_second;
    destination.excess_bytes += sender.excess_bytes;
    if (pair.first == session.process.key()) {
      destination.self = sender;
    } else {
      destination.others.push_back(sender);
    }
  }
  for (auto& [name, destination] : by_destination) {
    std::sort(destination.others.begin(), destination.others.end(),
              [](const SessionSender& a, const SessionSender& b) { return a.bytes > b.bytes; });
    session.destinations.push_back(std::move(destination));
  }
  auto total = [](const SessionDestination& d) {
    std::uint64_t sum = d.self.bytes;
    for (const auto& other : d.others) sum += other.bytes;
    return sum;
  };
  std::stable_sort(session.destinations.begin(), session.destinations.end(),
                   [&](const SessionDestination& a, const SessionDestination& b) {
                     return total(a) > total(b);
                   });
  session.verdict = classify(evidence, config_.rules, session.kind);
  return session;
}

std::vector<Session> SessionBuilder::take_finished() {
  return std::exchange(finished_, {});
}

std::vector<Session> SessionBuilder::open_sessions() const {
  std::vector<Session> open;
  open.reserve(sessions_.size());
  for (const auto& [id, live] : sessions_) open.push_back(summarize(live, false));
  return open;
}

}  // namespace earshot::model
