#include "model/egress_harvest.h"

#include <gtest/gtest.h>

#include <map>

namespace earshot::model::egress_harvest_test {
namespace {

constexpr ProcessKey kOwner{42, 1000};

FlowId flow(std::uint64_t cookie, std::uint16_t port = 443) {
  FlowId id;
  id.cookie = cookie;
  id.family = 2;
  id.protocol = 6;
  id.dport = port;
  return id;
}

// Payload and bytes alike: the window split is the arithmetic under test.
Counters sent(std::uint64_t bytes, std::uint64_t self = 0, std::uint64_t grace = 0) {
  Counters c;
  c.packets = 1;
  c.bytes = bytes;
  c.payload_bytes = bytes;
  c.window_bytes[static_cast<int>(Window::self)] = self;
  c.window_bytes[static_cast<int>(Window::grace)] = grace;
  return c;
}

// Owners the kernel still holds; counts how often each is looked up.
struct Owners {
  std::map<std::uint64_t, ProcessKey> table;
  std::map<std::uint64_t, int> lookups;
  EgressHarvest::OwnerLookup lookup() {
    return [this](std::uint64_t cookie) -> std::optional<ProcessKey> {
      ++lookups[cookie];
      auto it = table.find(cookie);
      return it == table.end() ? std::nullopt : std::optional(it->second);
    };
  }
};

std::vector<NamedGrowth> named(const std::vector<FlowGrowth>& growth) {
  std::vector<NamedGrowth> out;
  for (const auto& g : growth)
    out.push_back({g, g.owner ? "assistant" : "", "", g.owner ? "voice.example" : "10.0.0.9"});
  return out;
}

TEST(EgressHarvest, JoinsEachFlowToItsOwnerAndRemembersItWhileTheCookieHasCounts) {
  EgressHarvest harvest;
  Owners owners;
  owners.table[1] = kOwner;
  EgressReading reading;
  reading.flows = {{flow(1), sent(100)}, {flow(2), sent(50)}};
  auto growth = harvest.growth(reading, owners.lookup());
  ASSERT_EQ(growth.size(), 2u);
  EXPECT_EQ(growth[0].owner, kOwner);
  EXPECT_EQ(growth[1].owner, std::nullopt);

  // The kernel evicted the owner record; the flow's next bytes keep their owner.
  owners.table.clear();
  reading.flows = {{flow(1), sent(160)}};
  growth = harvest.growth(reading, owners.lookup());
  ASSERT_EQ(growth.size(), 1u);
  EXPECT_EQ(growth[0].growth.bytes, 60u);
  EXPECT_EQ(growth[0].owner, kOwner);
  EXPECT_EQ(owners.lookups[1], 1);
}

TEST(EgressHarvest, ASocketInASlotAndInTheFlowsMapGrowsInBoth) {
  EgressHarvest harvest;
  Owners owners;
  owners.table[1] = kOwner;
  EgressReading reading;
  reading.slots = {{7, flow(1), sent(300)}};
  reading.flows = {{flow(1), sent(20)}};
  auto growth = harvest.growth(reading, owners.lookup());
  std::uint64_t total = 0;
  for (const auto& g : growth) {
    EXPECT_EQ(g.owner, kOwner);
    total += g.growth.bytes;
  }
  EXPECT_EQ(total, 320u);
}

TEST(EgressHarvest, EveryByteSeenReachesASeriesTheUnattributedBucketOrUnaccounted) {
  EgressHarvest harvest;
  EgressLedger ledger(10, 10);
  Owners owners;
  owners.table[1] = kOwner;
  EgressReading reading;
  reading.flows = {{flow(1), sent(1000)}, {flow(2), sent(200)}};
  reading.no_socket_bytes = 40;
  reading.bytes_seen = 1000 + 200 + 40 + 5;  // 5 bytes of an evicted flow
  harvest.account(named(harvest.growth(reading, owners.lookup())), reading, ledger);
  ASSERT_EQ(ledger.series().size(), 1u);
  EXPECT_EQ(ledger.series().begin()->second.bytes, 1000u);
  EXPECT_EQ(ledger.unattributed().bytes, 240u);
  EXPECT_EQ(ledger.unaccounted_bytes(), 5u);

  // Nothing new: nothing added anywhere, and the loss is not counted twice.
  harvest.account(named(harvest.growth(reading, owners.lookup())), reading, ledger);
  EXPECT_EQ(ledger.series().begin()->second.bytes, 1000u);
  EXPECT_EQ(ledger.unattributed().bytes, 240u);
  EXPECT_EQ(ledger.unaccounted_bytes(), 5u);

  // More packets without a socket: only their growth is added.
  reading.no_socket_bytes = 100;
  reading.bytes_seen += 60;
  harvest.account(named(harvest.growth(reading, owners.lookup())), reading, ledger);
  EXPECT_EQ(ledger.unattributed().bytes, 300u);
  EXPECT_EQ(ledger.unaccounted_bytes(), 5u);
}

TEST(WindowSamples, SplitEachOwnedFlowByWindowAndSumPerProcessAndDestination) {
  FlowGrowth a{flow(1), sent(1000, 600, 100), kOwner};
  FlowGrowth b{flow(3), sent(500, 500), kOwner};  // a second socket, same destination
  FlowGrowth unowned{flow(2), sent(700, 700), std::nullopt};
  auto samples = window_samples(named({a, b, unowned}), 99);
  std::map<Window, std::uint64_t> by_window;
  for (const auto& s : samples) {
    EXPECT_EQ(s.ts, 99u);
    EXPECT_EQ(s.process.key(), kOwner);
    EXPECT_EQ(s.process.name, "assistant");
    EXPECT_EQ(s.destination, "voice.example");
    by_window[s.window] += s.bytes;
  }
  EXPECT_EQ(samples.size(), 3u);  // one per window, the two sockets summed
  EXPECT_EQ(by_window[Window::self], 1100u);
  EXPECT_EQ(by_window[Window::grace], 100u);
  EXPECT_EQ(by_window[Window::none], 300u);
  EXPECT_EQ(by_window.count(Window::other), 0u);
}

TEST(WindowSamples, CountPayloadAndAnAcknowledgementStreamHasNone) {
  FlowGrowth acks{flow(1), sent(5200, 5200), kOwner};
  acks.growth.payload_bytes = 0;  // 100 pure ACKs
  EXPECT_TRUE(window_samples(named({acks}), 1).empty());

  // 10 packets with 52 bytes of headers each: the payload share of each window.
  FlowGrowth voice{flow(1), sent(4520, 2260), kOwner};
  voice.growth.payload_bytes = 4000;
  std::map<Window, std::uint64_t> by_window;
  for (const auto& s : window_samples(named({voice}), 1)) by_window[s.window] += s.bytes;
  EXPECT_EQ(by_window[Window::self], 2000u);
  EXPECT_EQ(by_window[Window::none], 2000u);
}

}  // namespace
}  // namespace earshot::model::egress_harvest_test
