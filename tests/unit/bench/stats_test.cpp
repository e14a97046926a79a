#include "stats.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace earshot::bench::stats::stats_test {
namespace {

TEST(BenchStats, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(median({3, 1, 2}), 2);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(median({7}), 7);
  EXPECT_FALSE(median({}));
}

TEST(BenchStats, MeanAndSummary) {
  EXPECT_EQ(mean({1, 2, 6}), 3);
  EXPECT_FALSE(mean({}));
  auto s = summarize({5, 1, 9, 3});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->median, 4);
  EXPECT_EQ(s->min, 1);
  EXPECT_EQ(s->max, 9);
  EXPECT_EQ(s->n, 4u);
  EXPECT_FALSE(summarize({}));
}

TEST(BenchStats, EachRoundAgainstTheUnmonitoredRoundsOnBothSides) {
  // Pair r: the measured round, then the unmonitored one. Round 2 sits
  // between unmonitored rounds 1 and 2.
  std::map<int, double> measured{{1, 90}, {2, 100}, {3, 110}};
  std::map<int, double> unmonitored{{1, 100}, {2, 100}, {3, 110}};
  auto ratios = neighbour_ratios(measured, unmonitored);
  std::sort(ratios.begin(), ratios.end());
  // 90/100; 100/100, 100/100; 110/110, 110/100.
  EXPECT_EQ(ratios, (std::vector<double>{0.9, 1.0, 1.0, 1.0, 1.1}));
}

TEST(BenchStats, NeighbourRatiosSplitALinearDrift) {
  // The host gets 2 % faster each pair; the measured kind costs 3 %. Against
  // the unmonitored round after it each ratio is low, against the one
  // before it high; the median lies within half a pair's drift.
  std::map<int, double> measured, unmonitored;
  for (int pair = 1; pair <= 5; ++pair) {
    double speed = 1 + 0.02 * pair;
    measured[pair] = 0.97 * (speed - 0.01);
    unmonitored[pair] = speed;
  }
  auto ratios = neighbour_ratios(measured, unmonitored);
  ASSERT_EQ(ratios.size(), 9u);
  EXPECT_EQ(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r > 0.97; }), 4);
  EXPECT_EQ(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r < 0.97; }), 5);
  EXPECT_NEAR(*median(ratios), 0.97, 0.01);
}

TEST(BenchStats, NeighbourRatiosSkipMissingAndZeroRounds) {
  std::map<int, double> measured{{1, 50}, {2, 50}, {4, 50}};
  std::map<int, double> unmonitored{{1, 100}, {2, 0}};
  // 1: 50/100; 2: 50/0 skipped, 50/100; 4: neither 4 nor 3 measured.
  EXPECT_EQ(neighbour_ratios(measured, unmonitored), (std::vector<double>{0.5, 0.5}));
  EXPECT_TRUE(neighbour_ratios({}, unmonitored).empty());
}

TEST(BenchStats, PairedRatioIsTheMedianOfTheSlices) {
  EXPECT_EQ(paired_ratio({90, 100, 200}, {100, 100, 100}), 1.0);
  // A slice of C that measured nothing is left out; an unpaired A too.
  EXPECT_EQ(paired_ratio({90, 100, 80}, {100, 0}), 0.9);
  EXPECT_FALSE(paired_ratio({90}, {}));
}

TEST(BenchStats, TargetsAtLeastAndAtMost) {
  Target ratio{Target::Op::at_least, 0.95};
  EXPECT_TRUE(meets(0.95, ratio));
  EXPECT_TRUE(meets(1.2, ratio));
  EXPECT_FALSE(meets(0.949, ratio));
  Target ns{Target::Op::at_most, 100};
  EXPECT_TRUE(meets(100, ns));
  EXPECT_FALSE(meets(100.1, ns));
  EXPECT_EQ(describe(ratio), ">= 0.95");
  EXPECT_EQ(describe(ns), "<= 100");
  EXPECT_EQ(describe(Target{Target::Op::at_least, 100000}), ">= 100000");
}

}  // namespace
}  // namespace earshot::bench::stats::stats_test
