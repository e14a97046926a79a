#include "model/egress_ledger.h"

#include <gtest/gtest.h>

namespace earshot::model::egress_ledger_test {
namespace {

Counters bytes(std::uint64_t b, std::uint64_t packets = 1) {
  Counters c;
  c.bytes = b;
  c.packets = packets;
  return c;
}

// A TCP packet count: each packet's headers are 52 bytes (IPv4, TCP with
// timestamps), the rest is payload.
Counters tcp(std::uint64_t payload, std::uint64_t packets) {
  Counters c;
  c.packets = packets;
  c.payload_bytes = payload;
  c.bytes = payload + 52 * packets;
  return c;
}

FlowId flow(std::uint64_t cookie, std::uint16_t port) {
  FlowId id;
  id.cookie = cookie;
  id.dport = port;
  return id;
}

TEST(FlowDeltas, FirstReadingIsAllGrowthThenOnlyTheIncrease) {
  FlowDeltas deltas;
  auto first = deltas.update({{flow(1, 80), bytes(100)}});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].second.bytes, 100u);
  auto second = deltas.update({{flow(1, 80), bytes(250, 3)}});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].second.bytes, 150u);
  EXPECT_EQ(second[0].second.packets, 2u);
  EXPECT_TRUE(deltas.update({{flow(1, 80), bytes(250, 3)}}).empty());
}

TEST(Counters, PayloadGrowsAndSumsLikeTheOtherCounters) {
  Counters before = tcp(1000, 2);
  Counters now = tcp(1500, 5);
  now.window_bytes[static_cast<int>(Window::self)] = 70;
  Counters d = delta(now, before);
  EXPECT_EQ(d.payload_bytes, 500u);
  EXPECT_EQ(d.bytes, 500u + 3 * 52);
  EXPECT_EQ(d.packets, 3u);
  EXPECT_EQ(d.window_bytes[static_cast<int>(Window::self)], 70u);
  Counters sum = before;
  sum += d;
  EXPECT_EQ(sum, now);
}

TEST(Counters, AcknowledgementsAreBytesWithoutPayload) {
  // A download's pure ACKs: 52-byte packets that carry nothing.
  Counters d = delta(tcp(0, 400), tcp(0, 100));
  EXPECT_EQ(d.bytes, 300u * 52);
  EXPECT_EQ(d.payload_bytes, 0u);
}

TEST(Counters, PayloadThatWentBackwardsCountsFromZero) {
  // The kernel entry was evicted and created again: every field restarts,
  // payload included, each on its own.
  Counters d = delta(tcp(300, 2), tcp(5000, 1));
  EXPECT_EQ(d.payload_bytes, 300u);
  EXPECT_EQ(d.packets, 1u);
}

TEST(FlowDeltas, AnEntryEvictedAndCreatedAgainCountsFromZero) {
  FlowDeltas deltas;
  deltas.update({{flow(1, 80), bytes(1000)}});
  auto again = deltas.update({{flow(1, 80), bytes(40)}});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].second.bytes, 40u);
}

TEST(FlowDeltas, FlowsThatDisappearAreForgotten) {
  FlowDeltas deltas;
  deltas.update({{flow(1, 80), bytes(10)}, {flow(2, 80), bytes(20)}});
  deltas.update({{flow(2, 80), bytes(20)}});
  auto back = deltas.update({{flow(1, 80), bytes(5)}});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].second.bytes, 5u);
}

TEST(SlotDeltas, OneSocketOnTwoCpusSumsTheGrowthOfBothSlots) {
  SlotDeltas deltas;
  auto first = deltas.update({{7, flow(1, 80), bytes(100)}, {4096 + 7, flow(1, 80), bytes(30)}});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].first, flow(1, 80));
  EXPECT_EQ(first[0].second.bytes, 130u);
  EXPECT_EQ(first[0].second.packets, 2u);
  auto next = deltas.update({{7, flow(1, 80), bytes(150)}, {4096 + 7, flow(1, 80), bytes(30)}});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].second.bytes, 50u);
  EXPECT_TRUE(
      deltas.update({{7, flow(1, 80), bytes(150)}, {4096 + 7, flow(1, 80), bytes(30)}}).empty());
}

TEST(SlotDeltas, AReclaimedSlotCountsTheNewSocketFromZero) {
  SlotDeltas deltas;
  deltas.update({{7, flow(1, 80), bytes(1000)}});
  // Another socket took slot 7: its 400 bytes are all new, even though the
  // old socket's reading was larger.
  auto reclaimed = deltas.update({{7, flow(2, 443), bytes(400)}});
  ASSERT_EQ(reclaimed.size(), 1u);
  EXPECT_EQ(reclaimed[0].first, flow(2, 443));
  EXPECT_EQ(reclaimed[0].second.bytes, 400u);
  // And so is a reclaimed slot whose new counters exceed the old ones.
  auto again = deltas.update({{7, flow(3, 443), bytes(5000)}});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, flow(3, 443));
  EXPECT_EQ(again[0].second.bytes, 5000u);
}

TEST(SlotDeltas, PayloadOfBothCpusSlotsIsSummedAndAReclaimStartsItFromZero) {
  SlotDeltas deltas;
  deltas.update({{7, flow(1, 80), tcp(1000, 4)}, {4096 + 7, flow(1, 80), tcp(200, 1)}});
  auto next = deltas.update({{7, flow(1, 80), tcp(1500, 6)}, {4096 + 7, flow(1, 80), tcp(0, 0)}});
  // Slot 4096 + 7 went backwards (counts from zero: nothing new); slot 7 grew.
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].second.payload_bytes, 500u);
  auto reclaimed = deltas.update({{7, flow(2, 443), tcp(100, 1)}});
  ASSERT_EQ(reclaimed.size(), 1u);
  EXPECT_EQ(reclaimed[0].first, flow(2, 443));
  EXPECT_EQ(reclaimed[0].second.payload_bytes, 100u);
}

TEST(SlotDeltas, TheSameSocketInAnotherSlotIsNotAReclaim) {
  SlotDeltas deltas;
  deltas.update({{7, flow(1, 80), bytes(100)}});
  // Slot 9 newly holds flow 1 (another CPU): from zero; slot 7 grows as usual.
  auto next = deltas.update({{7, flow(1, 80), bytes(110)}, {9, flow(1, 80), bytes(5)}});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].second.bytes, 15u);
}

TEST(EgressLedger, SumsGrowthPerProcessAndDestination) {
  EgressLedger ledger(10, 10);
  ledger.add("curl", "", "example.org", bytes(100));
  ledger.add("curl", "", "example.org", bytes(50));
  ledger.add("curl", "", "10.0.0.1", bytes(7));
  ASSERT_EQ(ledger.series().size(), 2u);
  EXPECT_EQ(ledger.series().at({"curl", "", "example.org"}).bytes, 150u);
}

TEST(EgressLedger, SumsPayloadPerSeriesBesideBytes) {
  EgressLedger ledger(10, 1);
  ledger.add("curl", "", "example.org", tcp(1000, 2));
  ledger.add("curl", "", "example.org", tcp(0, 10));  // acknowledgements only
  ledger.add("curl", "", "cdn.example", tcp(40, 1));  // past the limit: other
  EXPECT_EQ(ledger.series().at({"curl", "", "example.org"}).payload_bytes, 1000u);
  EXPECT_EQ(ledger.series().at({"curl", "", "example.org"}).bytes, 1000u + 12 * 52);
  EXPECT_EQ(ledger.series().at({"curl", "", kOtherLabel}).payload_bytes, 40u);
}

TEST(EgressLedger, DestinationsPastTheLimitGoToOtherAndShownOnesKeepTheirName) {
  EgressLedger ledger(10, 2);
  ledger.add("p", "", "a", bytes(1));
  ledger.add("p", "", "b", bytes(1));
  ledger.add("p", "", "c", bytes(5));
  ledger.add("p", "", "d", bytes(6));
  ledger.add("p", "", "a", bytes(1));
  EXPECT_EQ(ledger.series().at({"p", "", "a"}).bytes, 2u);
  EXPECT_EQ(ledger.series().at({"p", "", kOtherLabel}).bytes, 11u);
  EXPECT_FALSE(ledger.series().count({"p", "", "c"}));
}

TEST(EgressLedger, ProcessesPastTheLimitGoToOther) {
  EgressLedger ledger(1, 5);
  ledger.add("first", "", "x", bytes(1));
  ledger.add("second", "a.service", "x", bytes(2));
  EXPECT_EQ(ledger.series().at({kOtherLabel, "", "x"}).bytes, 2u);
  EXPECT_EQ(ledger.series().size(), 2u);
}

TEST(EgressLedger, UnattributedAndUnaccountedAreSeparate) {
  EgressLedger ledger(1, 1);
  ledger.add_unattributed(bytes(30));
  ledger.add_unaccounted(12);
  EXPECT_EQ(ledger.unattributed().bytes, 30u);
  EXPECT_EQ(ledger.unaccounted_bytes(), 12u);
  EXPECT_TRUE(ledger.series().empty());
}

}  // namespace
}  // namespace earshot::model::egress_ledger_test
