// The ground truth of the egress reconciliation: packets counted outside the
// socket slots, in claimed slots, and in slots since taken over, each once.
#include "kernel/map_reader.h"

#include <gtest/gtest.h>

namespace earshot::kernel::map_reader_test {
namespace {

SlotReading slot(std::uint32_t index, std::uint64_t bytes) {
  SlotReading s{};
  s.slot = index;
  s.key.cookie = 100 + index;
  s.counters.bytes = bytes;
  s.counters.packets = 1;
  return s;
}

TEST(BytesSeen, AddsOutsideSlotsClaimedSlotsAndRetiredSlots) {
  TotalsReading totals;
  totals.slots[EARSHOT_TOTAL_ALL].bytes = 1000;
  totals.slots[EARSHOT_TOTAL_SLOT_RETIRED].bytes = 300;
  // Parts of ALL, not added again.
  totals.slots[EARSHOT_TOTAL_NO_SOCKET].bytes = 40;
  totals.slots[EARSHOT_TOTAL_FLOW_FULL].bytes = 60;
  EXPECT_EQ(bytes_seen(totals, {slot(1, 20), slot(7, 5)}), 1325u);
}

TEST(BytesSeen, NoSlotsIsTheTotalsAlone) {
  TotalsReading totals;
  totals.slots[EARSHOT_TOTAL_ALL].bytes = 64;
  EXPECT_EQ(bytes_seen(totals, {}), 64u);
  EXPECT_EQ(bytes_seen(TotalsReading{}, {}), 0u);
}

}  // namespace
}  // namespace earshot::kernel::map_reader_test
