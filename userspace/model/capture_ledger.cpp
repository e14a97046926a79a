#include "model/capture_ledger.h"

namespace earshot::model {

bool CaptureLedger::opened(const HandleId& id, const CaptureSeriesKey& key) {
  if (!open_.emplace(id, key).second) return false;
  auto& s = series_[key];
  ++s.opens;
  ++s.active;
  return true;
}

std::optional<CaptureSeriesKey> CaptureLedger::closed(const HandleId& id) {
  auto it = open_.find(id);
  if (it == open_.end()) return std::nullopt;
  CaptureSeriesKey key = it->second;
  auto& s = series_[key];
  if (s.active > 0) --s.active;
  open_.erase(it);
  return key;
}

std::vector<std::pair<HandleId, CaptureSeriesKey>> CaptureLedger::process_exited(
    std::uint32_t tgid) {
  std::vector<std::pair<HandleId, CaptureSeriesKey>> gone;
  for (auto it = open_.lower_bound(HandleId{tgid, Tier{}, 0});
       it != open_.end() && it->first.tgid == tgid; ++it)
    gone.emplace_back(it->first, it->second);
  for (const auto& [id, key] : gone) closed(id);
  return gone;
}

}  // namespace earshot::model
