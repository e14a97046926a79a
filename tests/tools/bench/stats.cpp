#include "stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace earshot::bench::stats {

std::optional<double> mean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::optional<double> median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  std::size_t half = values.size() / 2;
  if (values.size() % 2 == 1) return values[half];
  return (values[half - 1] + values[half]) / 2;
}

std::optional<Summary> summarize(const std::vector<double>& values) {
  auto middle = median(values);
  if (!middle) return std::nullopt;
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  return Summary{*middle, *low, *high, values.size()};
}

std::vector<double> neighbour_ratios(const std::map<int, double>& measured,
                                     const std::map<int, double>& unmonitored) {
  std::vector<double> ratios;
  for (const auto& [round, value] : measured) {
    for (int neighbour : {round, round - 1}) {
      auto it = unmonitored.find(neighbour);
      if (it != unmonitored.end() && it->second != 0) ratios.push_back(value / it->second);
    }
  }
  return ratios;
}

std::optional<double> paired_ratio(const std::vector<double>& a, const std::vector<double>& c) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < std::min(a.size(), c.size()); ++i)
    if (c[i] != 0) ratios.push_back(a[i] / c[i]);
  return median(std::move(ratios));
}

bool meets(double median, const Target& target) {
  return target.op == Target::Op::at_least ? median >= target.value : median <= target.value;
}

std::string describe(const Target& target) {
  return fmt::format("{} {:g}", target.op == Target::Op::at_least ? ">=" : "<=", target.value);
}

}  // namespace earshot::bench::stats
