#include "model/monitor.h"

#include "model/event_lines.h"
#include "model/flow_shape.h"

#include <algorithm>
#include <set>

namespace earshot::model {

namespace {

std::string fmt_key(const ProcessKey& key) {
  return std::to_string(key.tgid) + ":" + std::to_string(key.start_ns);
}

}  // namespace

Monitor::Monitor(const MonitorConfig& config)
    : config_(config),
      egress_(config.max_processes, config.max_destinations_per_process),
      sessions_(config.sessions),
      policy_(config.policy),
      captures_(sessions_),
      episodes_(config.episodes) {}

EventLines Monitor::capture_lines(const std::vector<CaptureRecord>& records) const {
  EventLines lines;
  for (const auto& r : records) lines.push_back(event_line(r, config_.realtime_minus_monotonic_ns));
  return lines;
}

Monitor::Opened Monitor::capture_opened(MonotonicNs ts, const HandleId& id, std::uint32_t dev,
                                        const std::function<CaptureNames()>& name) {
  auto opened = captures_.opened(ts, id, dev, name);
  Opened out{opened.counted_as, {}};
  if (opened.record) out.lines = capture_lines({*opened.record});
  return out;
}

EventLines Monitor::capture_closed(MonotonicNs ts, const HandleCount& final_count) {
  auto record = captures_.closed(ts, final_count);
  return record ? capture_lines({*record}) : EventLines{};
}

Monitor::Exited Monitor::process_exited(
    MonotonicNs ts, std::uint32_t tgid,
    const std::function<std::optional<HandleCount>(const HandleId&)>& final_count) {
  auto exited = captures_.process_exited(ts, tgid, final_count);
  return {std::move(exited.closed), capture_lines(exited.records)};
}

std::vector<FlowGrowth> Monitor::egress_growth(const EgressReading& reading,
                                               const EgressHarvest::OwnerLookup& lookup) {
  return harvest_.growth(reading, lookup);
}

EventLines Monitor::harvested(MonotonicNs now, const std::vector<NamedGrowth>& named,
                              const EgressReading& reading, std::vector<HandleCount> handles,
                              const LostCounts& lost) {
  harvest_.account(named, reading, egress_);
  lost_ = lost;
  for (const auto& sample : window_samples(named, now))
    if (!is_self(sample.process.tgid)) sessions_.on(sample);
  for (const auto& n : named) {
    if (!n.flow.owner || is_self(n.flow.owner->tgid)) continue;
    const ProcessKey& owner = *n.flow.owner;
    episodes_.add({fmt_key(owner), n.process, owner.tgid}, n.destination, now,
                  shape_of(n.flow.growth));
  }
  captures_.harvest(now, std::move(handles));

  EventLines lines;
  std::int64_t offset = config_.realtime_minus_monotonic_ns;
  sessions_.tick(now);
  // An episode that ended in a session's grace period joins it, even when
  // that period ended with this harvest: episodes first, then the sessions.
  std::vector<Session> finished = sessions_.take_finished();
  report_episodes(episodes_.tick(now), finished, lines);
  for (const auto& built : finished) {
    Session session = judged(built);
    ++session_counts_[{session.process.name, session.verdict}];
    lines.push_back(session_line(session));
    for (const auto& alert : policy_.check(session)) lines.push_back(event_line(alert, offset));
  }
  for (const auto& session : sessions_.open_sessions())
    for (const auto& alert : policy_.check(judged(session)))
      lines.push_back(event_line(alert, offset));
  ++harvests_;
  return lines;
}

void Monitor::report_episodes(const std::vector<UploadEpisode>& ended,
                              const std::vector<Session>& finished, EventLines& lines) {
  if (ended.empty()) return;
  std::vector<Session> sessions = sessions_.open_sessions();
  sessions.insert(sessions.end(), finished.begin(), finished.end());
  sessions.insert(sessions.end(), sessions_.recent().begin(), sessions_.recent().end());
  MonotonicNs grace = static_cast<MonotonicNs>(config_.sessions.grace.count());
  for (const auto& episode : ended) {
    // The session of the sending process if it is capturing, else any.
    const Session* joined = nullptr;
    for (const auto& session : sessions) {
      if (episode.end <= session.start || episode.start >= session.end + grace) continue;
      if (!joined || session.process.tgid == episode.sender.pid) joined = &session;
    }
    if (!joined) continue;  // not during a capture
    auto& kept = session_episodes_[joined->id];
    kept.kept.push_back(episode);
    if (kept.kept.size() > config_.episodes_kept_per_session) kept.kept.pop_front();
    ++kept.total;
    const auto& allowed = config_.policy.upload_allowed;
    bool is_allowed = allowed.empty() || std::find(allowed.begin(), allowed.end(),
                                                   episode.destination) != allowed.end();
    ++episode_counts_[{episode.sender.name, episode.destination, episode.verdict, is_allowed}];
    last_episodes_[{episode.sender.name, episode.destination}] = {episode.seconds(), episode.bytes};
    lines.push_back(event_line(episode, joined->id, config_.realtime_minus_monotonic_ns));
  }
}

std::vector<UploadEpisode> Monitor::episodes_of(const Session& session,
                                               std::uint64_t& total) const {
  std::vector<UploadEpisode> list;
  total = 0;
  if (auto it = session_episodes_.find(session.id); it != session_episodes_.end()) {
    list.assign(it->second.kept.begin(), it->second.kept.end());
    total = it->second.total;
  }
  if (!session.finished)  // under way now, by the capturing process
    for (auto& e : episodes_.ongoing())
      if (e.sender.pid == session.process.tgid) list.push_back(std::move(e));
  return list;
}

Session Monitor::judged(const Session& session) const {
  Session out = session;
  std::vector<UploadEpisode> joined;
  if (auto it = session_episodes_.find(session.id); it != session_episodes_.end())
    joined.assign(it->second.kept.begin(), it->second.kept.end());
  // Under way, by the capturing process, since the session began (a
  // session that finishes now may still have one going).
  const auto grace = static_cast<MonotonicNs>(config_.sessions.grace.count());
  for (auto& e : episodes_.ongoing())
    if (e.sender.pid == session.process.tgid && e.end > session.start &&
        e.start < session.end + grace)
      joined.push_back(e);
  const bool camera = session.kind == DeviceKind::camera;
  const Verdict shaped = camera ? Verdict::video_upload : Verdict::audio_upload;
  bool any = false;
  for (const auto& e : joined) {
    if (e.verdict == shaped) {
      out.verdict = shaped;
      return out;
    }
    any = true;
  }
  if (!camera && out.verdict == Verdict::audio_upload) out.verdict = Verdict::upload;
  if (any && out.verdict == Verdict::quiet) out.verdict = Verdict::upload;
  return out;
}

nlohmann::json Monitor::session_line(const Session& session) const {
  std::uint64_t total = 0;
  auto list = episodes_of(session, total);
  return event_line(session, list, total, config_.realtime_minus_monotonic_ns);
}

nlohmann::json Monitor::with_episodes(const Session& session) const {
  std::uint64_t total = 0;
  auto list = episodes_of(session, total);
  return session_json(session, list, total, config_.realtime_minus_monotonic_ns);
}

nlohmann::json Monitor::sessions_json() const {
  nlohmann::json open = nlohmann::json::array(), recent = nlohmann::json::array();
  for (const auto& session : sessions_.open_sessions())
    open.push_back(with_episodes(judged(session)));
  const auto& finished = sessions_.recent();
  for (auto it = finished.rbegin(); it != finished.rend(); ++it)
    recent.push_back(with_episodes(judged(*it)));
  return {{"open", open}, {"recent", recent}};
}

}  // namespace earshot::model
