#include "model/tier_dedup.h"

namespace earshot::model {

std::optional<HandleId> TierDedup::opened(const HandleId& id, std::uint32_t dev) {
  if (auto it = members_.find(id); it != members_.end())
    return it->second->primary == id ? std::nullopt : std::optional(it->second->primary);
  bool libasound = id.tier == Tier::libasound;
  bool sound_server = sound_server_tier(id.tier);
  std::shared_ptr<Group> best;
  int best_rank = 0;  // 2: same device; 1: a group whose device is unknown
  for (auto it = members_.lower_bound(HandleId{id.tgid, Tier{}, 0});
       it != members_.end() && it->first.tgid == id.tgid; ++it) {
    const auto& g = it->second;
    if (g->ended || g->tiers.count(id.tier)) continue;
    int rank = libasound ? 1 : (g->dev == dev && dev ? 2 : (g->dev == 0 ? 1 : 0));
    // A sound server's client stream joins only an ALSA application's
    // libasound open (its PCM is the server's plugin); no other tier joins
    // a client stream, whose process never opened a device.
    if (sound_server) rank = g->dev == 0 && g->tiers.count(Tier::libasound) ? 1 : 0;
    if (!sound_server && sound_server_tier(g->primary.tier)) rank = 0;
    if (rank == 0) continue;
    if (!best || rank > best_rank || (rank == best_rank && g->order > best->order)) {
      best = g;
      best_rank = rank;
    }
  }
  if (!best) {
    auto g = std::make_shared<Group>();
    g->primary = id;
    g->dev = dev;
    g->tiers.insert(id.tier);
    g->order = next_order_++;
    members_.emplace(id, std::move(g));
    return std::nullopt;
  }
  best->tiers.insert(id.tier);
  if (!best->dev) best->dev = dev;
  members_.emplace(id, best);
  return best->primary;
}

bool TierDedup::closed(const HandleId& id) {
  auto it = members_.find(id);
  if (it == members_.end()) return true;
  bool primary = it->second->primary == id;
  if (primary) it->second->ended = true;
  members_.erase(it);
  return primary;
}

void TierDedup::process_exited(std::uint32_t tgid) {
  auto it = members_.lower_bound(HandleId{tgid, Tier{}, 0});
  while (it != members_.end() && it->first.tgid == tgid) it = members_.erase(it);
}

}  // namespace earshot::model
