#include "common/vocabulary.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace earshot::vocabulary_test {
namespace {

TEST(Vocabulary, TiersAreTheAbisValuesStrongestFirstAndNamedOnce) {
  EXPECT_EQ(static_cast<std::uint32_t>(Tier::fentry), EARSHOT_TIER_FENTRY);
  EXPECT_EQ(static_cast<std::uint32_t>(Tier::procfs), EARSHOT_TIER_PROCFS);
  std::set<std::string_view> words;
  std::uint32_t last = 0;
  for (Tier tier : kTiers) {
    EXPECT_GT(static_cast<std::uint32_t>(tier), last);
    last = static_cast<std::uint32_t>(tier);
    words.insert(to_string(tier));
    EXPECT_EQ(tier_named(to_string(tier)), tier);
    EXPECT_EQ(tier_from_abi(static_cast<std::uint32_t>(tier)), tier);
  }
  EXPECT_EQ(words.size(), kTiers.size());
  EXPECT_EQ(to_string(Tier::syscalls), "syscalls");
  EXPECT_EQ(tier_named("kprobe"), std::nullopt);
  EXPECT_EQ(tier_from_abi(0), std::nullopt);
  EXPECT_EQ(tier_from_abi(99), std::nullopt);
}

TEST(Vocabulary, TheSoundServerTiersAreTheClientLibraries) {
  EXPECT_EQ(to_string(Tier::libpulse), "libpulse");
  EXPECT_EQ(to_string(Tier::libpipewire), "libpipewire");
  for (Tier tier : kTiers)
    EXPECT_EQ(sound_server_tier(tier), tier == Tier::libpulse || tier == Tier::libpipewire)
        << to_string(tier);
}

TEST(Vocabulary, WindowsIndexTheKernelsCountersAndNoneIsNotOne) {
  EXPECT_EQ(static_cast<int>(Window::self), EARSHOT_WINDOW_SELF);
  EXPECT_EQ(static_cast<int>(Window::grace), EARSHOT_WINDOW_GRACE);
  EXPECT_GE(static_cast<int>(Window::none), kWindowCount);
  std::set<std::string_view> labels;
  for (Window w : kWindows) labels.insert(to_string(w));
  EXPECT_EQ(labels, (std::set<std::string_view>{"self", "other", "grace"}));
}

TEST(Vocabulary, LostReasonsIndexTheKernelsLostMap) {
  std::set<int> indexes;
  for (LostReason r : kLostReasons) {
    indexes.insert(static_cast<int>(r));
    EXPECT_NE(to_string(r), "unknown");
  }
  EXPECT_EQ(indexes.size(), static_cast<std::size_t>(kLostReasonCount));
  EXPECT_EQ(*indexes.rbegin(), kLostReasonCount - 1);
  EXPECT_EQ(to_string(LostReason::socket_owner_table_full), "socket_owner_table_full");
}

}  // namespace
}  // namespace earshot::vocabulary_test
