#include "model/capture_tracker.h"

namespace earshot::model {

CaptureTracker::Opened CaptureTracker::opened(MonotonicNs ts, const HandleId& id, std::uint32_t dev,
                                              const std::function<CaptureNames()>& name) {
  // The library tiers name a PCM or a stream, not a device node: their dev
  // means nothing to dedup.
  bool library = id.tier == Tier::libasound || sound_server_tier(id.tier);
  if (auto counted = dedup_.opened(id, library ? 0 : dev)) {
    // An ALSA application on a sound server's plugin: the server is named.
    if (sound_server_tier(id.tier))
      if (std::uint64_t sid = session_id(*counted, false))
        if (auto via = name().via) sessions_.on(CaptureVia{ts, sid, *via});
    return {counted, std::nullopt};
  }
  CaptureNames names = name();
  if (names.via) via_[id] = *names.via;
  if (ledger_.opened(id, {names.process.name, names.unit, names.device, names.kind}))
    sessions_.on(CaptureOpened{ts, session_id(id, true), names.process, names.device, true,
                               names.via, names.kind});
  return {std::nullopt,
          CaptureRecord{CaptureRecord::Kind::open, ts, names.process.name, names.unit, names.device,
                        id.tgid, id.tier, false, names.via, names.kind}};
}

std::optional<CaptureRecord> CaptureTracker::closed(MonotonicNs ts,
                                                    const HandleCount& final_count) {
  const HandleId& id = final_count.id;
  if (!dedup_.closed(id)) return std::nullopt;  // a duplicate's close
  credit_final(final_count, ts);
  auto series = ledger_.closed(id);
  if (series) sessions_.on(CaptureClosed{ts, session_id(id, false)});
  std::optional<ProcessRef> via = via_of(id);
  forget(id);
  if (!series) return std::nullopt;
  return CaptureRecord{CaptureRecord::Kind::close,
                       ts,
                       series->process,
                       series->unit,
                       series->device,
                       id.tgid,
                       id.tier,
                       false,
                       via,
                       series->kind};
}

CaptureTracker::Exited CaptureTracker::process_exited(
    MonotonicNs ts, std::uint32_t tgid,
    const std::function<std::optional<HandleCount>(const HandleId&)>& final_count) {
  dedup_.process_exited(tgid);
  // The handles are still in the maps: their last frames are there.
  for (auto it = session_ids_.lower_bound({tgid, Tier{}, 0});
       it != session_ids_.end() && it->first.tgid == tgid; ++it) {
    if (auto count = final_count(it->first)) credit_final(*count, ts);
  }
  Exited out;
  for (const auto& [id, series] : ledger_.process_exited(tgid)) {
    sessions_.on(CaptureClosed{ts, session_id(id, false)});
    std::optional<ProcessRef> via = via_of(id);
    forget(id);
    out.closed.push_back(id);
    out.records.push_back({CaptureRecord::Kind::close, ts, series.process, series.unit,
                           series.device, tgid, id.tier, true, via, series.kind});
  }
  return out;
}

void CaptureTracker::harvest(MonotonicNs now, std::vector<HandleCount> handles) {
  double interval_s = last_harvest_ ? static_cast<double>(now - last_harvest_) / 1e9 : 0;
  for (const auto& [id, frames] : polled_) handles.push_back({id, frames, 0});
  for (const auto& h : handles) credit(h.id, now, h.frames, h.bytes, interval_s);
  last_harvest_ = now;
}

std::uint64_t CaptureTracker::session_id(const HandleId& id, bool create) {
  auto it = session_ids_.find(id);
  if (it != session_ids_.end()) return it->second;
  if (!create) return 0;
  return session_ids_[id] = next_session_id_++;
}

void CaptureTracker::credit(const HandleId& id, MonotonicNs ts, std::uint64_t frames,
                            std::uint64_t bytes, double seconds) {
  auto sid = session_ids_.find(id);
  if (sid == session_ids_.end()) return;  // its open is not drained yet
  sessions_.on(CaptureFrames{ts, sid->second, frames, bytes});
  auto& seen = frames_seen_[id];
  if (frames > seen) {
    if (auto series = ledger_.series_of(id)) {
      auto& t = time_[*series];
      t.frames += frames - seen;
      t.seconds += seconds;
    }
    seen = frames;
  }
}

// Frames read since the last harvest, up to the close that removed the handle.
void CaptureTracker::credit_final(const HandleCount& count, MonotonicNs ts) {
  double since =
      last_harvest_ && ts > last_harvest_ ? static_cast<double>(ts - last_harvest_) / 1e9 : 0;
  credit(count.id, ts, count.frames, count.bytes, since);
}

std::optional<ProcessRef> CaptureTracker::via_of(const HandleId& id) const {
  auto it = via_.find(id);
  return it == via_.end() ? std::nullopt : std::optional(it->second);
}

void CaptureTracker::forget(const HandleId& id) {
  via_.erase(id);
  session_ids_.erase(id);
  frames_seen_.erase(id);
  polled_.erase(id);
}

}  // namespace earshot::model
