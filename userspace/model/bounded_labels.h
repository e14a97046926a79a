#pragma once
// Bounded label values for (owner, destination) series: past the limits the
// owner or the destination becomes "other". First come, first kept: a series
// once shown keeps its name, since a counter cannot move. One rule for
// processes and gateway devices.
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace earshot::model {

inline constexpr const char* kOtherLabel = "other";

template <typename Owner>
class BoundedLabels {
 public:
  // `other_owner`: what owners past `max_owners` are counted as.
  BoundedLabels(std::size_t max_owners, std::size_t max_destinations_per_owner, Owner other_owner)
      : max_owners_(max_owners),
        max_destinations_(max_destinations_per_owner),
        other_owner_(std::move(other_owner)) {}

  // The owner and destination a growth is counted under. An owner's
  // "other" destination is one more series, past its limit.
  std::pair<Owner, std::string> place(const Owner& owner, const std::string& destination) {
    auto known = destinations_.find(owner);
    if (known == destinations_.end()) {
      const Owner& who = destinations_.size() >= max_owners_ ? other_owner_ : owner;
      known = destinations_.try_emplace(who).first;
    }
    auto& shown = known->second;
    std::string where = destination;
    if (!shown.contains(where) && shown.size() >= max_destinations_) where = kOtherLabel;
    shown.insert(where);
    return {known->first, where};
  }

 private:
  std::size_t max_owners_;
  std::size_t max_destinations_;
  Owner other_owner_;
  std::map<Owner, std::set<std::string>> destinations_;
};

}  // namespace earshot::model
