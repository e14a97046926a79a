#pragma once
// The statistics of scripts/bench.sh's rounds: medians, the ratio of each
// measured round to the unmonitored rounds next to it, the paired A/C
// ratio, and the check of a median against its target. Pure functions.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace earshot::bench::stats {

std::optional<double> mean(const std::vector<double>& values);

// The middle value, or the mean of the two middle ones; none for no values.
std::optional<double> median(std::vector<double> values);

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
  std::size_t n = 0;
};
std::optional<Summary> summarize(const std::vector<double>& values);

// Each round of a pair runs before the pair's unmonitored round, so round r
// has unmonitored neighbours r - 1 (before it) and r (after it). The ratio of
// `measured`'s round r to each neighbour that was measured (and is not 0):
// with a drift over the run, one neighbour is above and the other below, and
// their median cancels it. With n pairs, 2n - 1 ratios.
std::vector<double> neighbour_ratios(const std::map<int, double>& measured,
                                     const std::map<int, double>& unmonitored);

// a[i] / c[i] for each slice (skipping c[i] == 0): A's rate over C's a second
// apart, where the host's drift cancels; the median of those ratios.
std::optional<double> paired_ratio(const std::vector<double>& a, const std::vector<double>& c);

struct Target {
  enum class Op { at_least, at_most };
  Op op = Op::at_least;
  double value = 0;
};
bool meets(double median, const Target& target);
// ">= 0.95", "<= 100".
std::string describe(const Target& target);

}  // namespace earshot::bench::stats
