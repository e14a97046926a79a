#pragma once
// "Did you mean" for misspelt keys.
#include <string>
#include <string_view>
#include <vector>

namespace earshot::config {

// The candidate closest to word by edit distance, or "" when none is close
// enough to be a likely typo.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace earshot::config
