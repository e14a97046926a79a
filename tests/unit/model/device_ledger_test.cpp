#include "model/device_ledger.h"

#include <gtest/gtest.h>

namespace earshot::model::device_ledger_test {
namespace {

DeviceFlowId pair(std::uint8_t device, std::uint8_t destination) {
  DeviceFlowId id;
  id.mac = {2, 0, 0, 0, 0, device};
  id.family = 2;
  id.daddr[0] = 93;
  id.daddr[3] = destination;
  return id;
}

Counters bytes(std::uint64_t n, std::uint64_t packets = 1) {
  Counters c;
  c.bytes = n;
  c.packets = packets;
  return c;
}

TEST(DeviceDeltas, GrowthSinceTheLastReadingAndRestartsFromZero) {
  DeviceDeltas deltas;
  auto g = deltas.update({{pair(1, 1), bytes(100)}});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].second.bytes, 100u);
  g = deltas.update({{pair(1, 1), bytes(250, 3)}, {pair(2, 1), bytes(10)}});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].second.bytes, 150u);
  EXPECT_EQ(g[0].second.packets, 2u);
  EXPECT_TRUE(deltas.update({{pair(1, 1), bytes(250, 3)}}).empty());  // no growth, pair 2 gone
  g = deltas.update({{pair(2, 1), bytes(5)}});                        // made again: from zero
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].second.bytes, 5u);
}

TEST(DeviceLedger, LabelsBeyondTheLimitsBecomeOther) {
  DeviceLedger ledger(2, 2);
  ledger.add("echo", "a.example", bytes(1));
  ledger.add("echo", "b.example", bytes(2));
  ledger.add("echo", "c.example", bytes(4));  // third destination of echo
  ledger.add("nest", "a.example", bytes(8));
  ledger.add("phone", "a.example", bytes(16));  // third device
  ledger.add("echo", "a.example", bytes(32));   // kept its series
  const auto& s = ledger.series();
  EXPECT_EQ(s.at({"echo", "a.example"}).bytes, 33u);
  EXPECT_EQ(s.at({"echo", "other"}).bytes, 4u);
  EXPECT_EQ(s.at({"nest", "a.example"}).bytes, 8u);
  EXPECT_EQ(s.at({"other", "a.example"}).bytes, 16u);
  EXPECT_EQ(s.size(), 5u);
}

TEST(GatewayAccounting, KeepsTheLastHarvestsGrowthAndTheRefusedCount) {
  GatewayAccounting accounting(10, 10);
  auto growth = accounting.growth({{pair(1, 1), bytes(1000, 4)}}, 1);
  ASSERT_EQ(growth.size(), 1u);
  accounting.account({{growth[0].first, "echo", "avs.example", growth[0].second}}, bytes(60, 1));
  EXPECT_EQ(accounting.ledger().series().at({"echo", "avs.example"}).bytes, 1000u);
  EXPECT_EQ(accounting.refused().bytes, 60u);
  ASSERT_EQ(accounting.last_growth().size(), 1u);
  EXPECT_EQ(accounting.last_growth()[0].device, "echo");
  growth = accounting.growth({{pair(1, 1), bytes(1500, 5)}}, 2);
  accounting.account({{growth[0].first, "echo", "avs.example", growth[0].second}}, bytes(60, 1));
  EXPECT_EQ(accounting.last_growth()[0].growth.bytes, 500u);
  EXPECT_EQ(accounting.ledger().series().at({"echo", "avs.example"}).bytes, 1500u);
}

// Pairs idle for the given time are taken out of the kernel's table; what
// they counted since the last reading is still growth, and a pair made
// again afterwards counts from zero: nothing twice, nothing lost.
TEST(GatewayAccounting, IdlePairsRetireWithTheirLastCountsAndComeBackFromZero) {
  GatewayAccounting accounting(10, 10);
  constexpr std::uint64_t s = 1'000'000'000;
  accounting.growth({{pair(1, 1), bytes(1000)}, {pair(1, 2), bytes(50)}}, 0 * s);
  accounting.growth({{pair(1, 1), bytes(1000)}, {pair(1, 2), bytes(80)}}, 5 * s);
  EXPECT_EQ(accounting.pairs(), 2u);
  EXPECT_TRUE(accounting.idle(9 * s, 10 * s).empty());
  EXPECT_EQ(accounting.idle(10 * s, 10 * s), std::vector<DeviceFlowId>{pair(1, 1)});

  // Taken out with 30 bytes more than the last reading (sent in between).
  Counters last = accounting.retire(pair(1, 1), bytes(1030, 2));
  EXPECT_EQ(last.bytes, 30u);
  EXPECT_EQ(last.packets, 1u);
  EXPECT_EQ(accounting.pairs(), 1u);

  // Made again by the kernel: all of it is new.
  auto growth = accounting.growth({{pair(1, 1), bytes(7)}, {pair(1, 2), bytes(80)}}, 11 * s);
  ASSERT_EQ(growth.size(), 1u);
  EXPECT_EQ(growth[0].second.bytes, 7u);
  // At 20 s only pair 2 (last grew at 5 s) is idle; pair 1 came back at 11 s.
  EXPECT_EQ(accounting.idle(20 * s, 10 * s), std::vector<DeviceFlowId>{pair(1, 2)});
}

// A pair that only received (a download's data while the device sent
// nothing) still grew: its ingress goes into the series and the detector.
TEST(GatewayAccounting, IngressAloneIsGrowthAndUnmatchedIngressIsKept) {
  GatewayAccounting accounting(10, 10);
  Counters first = bytes(100, 2);
  first.ingress_packets = 10;
  first.ingress_payload = 13'000;
  accounting.growth({{pair(1, 1), first}}, 1);
  Counters later = first;
  later.ingress_packets = 30;
  later.ingress_payload = 39'000;
  auto growth = accounting.growth({{pair(1, 1), later}}, 2);
  ASSERT_EQ(growth.size(), 1u);
  EXPECT_EQ(growth[0].second.packets, 0u);
  EXPECT_EQ(growth[0].second.ingress_packets, 20u);
  EXPECT_EQ(growth[0].second.ingress_payload, 26'000u);
  Counters unmatched;
  unmatched.ingress_packets = 3;
  unmatched.ingress_payload = 180;
  accounting.account({{growth[0].first, "tv", "video.example", growth[0].second}}, {}, unmatched);
  EXPECT_EQ(accounting.ledger().series().at({"tv", "video.example"}).ingress_payload, 26'000u);
  EXPECT_EQ(accounting.ingress_unmatched().ingress_packets, 3u);
  EXPECT_EQ(accounting.ingress_unmatched().ingress_payload, 180u);
  EXPECT_TRUE(accounting.idle(2, 1).empty());  // it grew at 2
}

TEST(DeviceDeltas, RetiringAPairNeverSeenIsAllGrowth) {
  DeviceDeltas deltas;
  EXPECT_EQ(deltas.retire(pair(3, 3), bytes(12)).bytes, 12u);
}

}  // namespace
}  // namespace earshot::model::device_ledger_test
