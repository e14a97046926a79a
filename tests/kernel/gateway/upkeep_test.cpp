// What keeps gateway mode counting on a router that runs for months, within
// 1% of nftables on the gateway:
// - it follows its LAN interfaces: one configured but absent at start (an
//   access point that comes up after earshot) is counted once it appears,
//   and again after it is deleted and made anew (a new index), under both
//   tiers, what its device sends and what it receives;
// - a (device, destination) pair idle for gateway.forget_idle_after leaves
//   the kernel's fixed-size table with its counts kept, and counts on from
//   zero when the device sends there again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <ostream>
#include <string>

#include "daemon.h"
#include "gateway_lab.h"
#include "gateway_tiers.h"
#include "in_netns.h"
#include "netns.h"
#include "nft_counter.h"
#include "poll_until.h"
#include "process.h"

namespace earshot::test::upkeep_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kLateLan = "lan3";
constexpr const char* kLateMac = "02:00:00:aa:bb:03";
constexpr const char* kLateName = "porch-speaker";
constexpr int kLateSubnet = 73;

std::string daemon_config(GatewayTier tier, const std::string& extra = "") {
  std::string config =
      "harvest:\n  interval: 200ms\n"
      "destinations: []\n"
      "capture:\n  sysfs: false\n"
      "gateway:\n"
      "  enabled: true\n"
      "  lan_interfaces: [lan1, lan2, lan3]\n"
      "  devices:\n"
      "    - {mac: \"" +
      std::string(kLateMac) + "\", name: " + kLateName + "}\n" + extra;
  return config + tier_config(tier);
}

class GatewayUpkeepTest : public ::testing::TestWithParam<GatewayTier> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF and makes network namespaces";
    if (auto reason = NetnsPair::unavailable_reason()) GTEST_SKIP() << *reason;
  }
};

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// `bytes` over TCP from the device (on `lan`, with `mac`) to the internet host, and what nft on
// the gateway counted for it (the rule's counter since it was made).
NftCount upload(GatewayLab& lab, const LabHost& device, const std::string& lan,
                const std::string& mac, int port, int bytes) {
  NftCounter nft(lab.gateway.path, "", "forward");
  const std::string key = nft.count_matching(
      "device_v4", {"iifname", lan, "ether", "saddr", mac, "ip", "daddr", GatewayLab::kServer4});
  ChildProcess sink({kTool, "tcp-sink", std::to_string(port)}, {.netns_path = lab.internet.path});
  EXPECT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  ChildProcess sender(
      {kTool, "tcp-send", GatewayLab::kServer4, std::to_string(port), std::to_string(bytes)},
      {.netns_path = device.path});
  EXPECT_EQ(sender.wait(60s), 0) << sender.stderr_text();
  EXPECT_EQ(sink.wait(30s), 0) << sink.stderr_text();
  return nft.read(key);
}

TEST_P(GatewayUpkeepTest, AnInterfaceThatComesLaterOrIsMadeAgainIsCounted) {
  GatewayLab lab;
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam()),
                        .netns_path = lab.gateway.path});
  MetricsScrape scrape = scrape_in(daemon, lab.gateway);
  if (auto missing = tier_missing(scrape, GetParam()); !missing.empty()) {
    if (GetParam() == GatewayTier::netfilter_forward) GTEST_SKIP() << missing;
    FAIL() << missing << daemon.log();
  }
  ASSERT_NE(daemon.log().find("LAN interface not found"), std::string::npos) << daemon.log();

  const std::map<std::string, std::string> series{{"device", kLateName},
                                                  {"destination", GatewayLab::kServer4}};
  auto counted = [&] {
    return scrape_in(daemon, lab.gateway).sum("earshot_device_egress_bytes_total", series);
  };
  auto received = [&] {
    return scrape_in(daemon, lab.gateway).sum("earshot_device_ingress_packets_total", series);
  };
  double expected = 0;
  double received_before = 0;
  for (int round = 0; round < 2; ++round) {
    LabHost device = lab.add_device('n', kLateLan, kLateMac, kLateSubnet);
    // The daemon looks for its interfaces between harvests.
    const std::size_t rounds = static_cast<std::size_t>(round) + 1;
    ASSERT_TRUE(poll_until(
        [&] { return occurrences(daemon.log(), "LAN interface followed") == rounds; }, 5s))
        << daemon.log();
    const NftCount truth = upload(lab, device, kLateLan, kLateMac, 5301 + round, 400'000);
    ASSERT_GT(truth.bytes, 400'000u);
    expected += static_cast<double>(truth.bytes);
    double now = 0;
    poll_until([&] { return (now = counted()) >= expected; }, 5s);
    EXPECT_NEAR(now, expected, 0.01 * expected) << "round " << round << "\n" << daemon.log();
    std::printf("[ accuracy ] %s round %d: earshot %.0f B, nft %.0f B (%+.3f%%)\n",
                tier_name(GetParam()).c_str(), round, now, expected,
                100.0 * (now - expected) / expected);
    // The sink's SYN-ACK and acknowledgements came back through it too.
    double received_now = 0;
    EXPECT_TRUE(poll_until([&] { return (received_now = received()) > received_before; }, 5s))
        << "round " << round << ": nothing received counted\n"
        << daemon.log();
    received_before = received_now;
    lab.remove_device(device, kLateLan);
    ASSERT_TRUE(
        poll_until([&] { return occurrences(daemon.log(), "LAN interface gone") == rounds; }, 5s))
        << daemon.log();
  }
}

TEST_P(GatewayUpkeepTest, AnIdlePairLeavesTheKernelTableAndItsCountsStay) {
  GatewayLab lab;
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam(), "  forget_idle_after: 1s\n"),
                        .netns_path = lab.gateway.path});
  MetricsScrape scrape = scrape_in(daemon, lab.gateway);
  if (auto missing = tier_missing(scrape, GetParam()); !missing.empty()) {
    if (GetParam() == GatewayTier::netfilter_forward) GTEST_SKIP() << missing;
    FAIL() << missing << daemon.log();
  }
  // The speaker is named by its MAC: no leases file, not in the config.
  const std::map<std::string, std::string> series{{"device", GatewayLab::kSpeakerMac},
                                                  {"destination", GatewayLab::kServer4}};
  double expected = 0;
  for (int round = 0; round < 2; ++round) {
    const NftCount truth = upload(lab, lab.speaker, GatewayLab::kSpeakerLan,
                                  GatewayLab::kSpeakerMac, 5311 + round, 200'000);
    ASSERT_GT(truth.bytes, 200'000u);
    expected += static_cast<double>(truth.bytes);
    // Idle for a second: out of the table, with every byte counted.
    ASSERT_TRUE(poll_until(
        [&] {
          scrape = scrape_in(daemon, lab.gateway);
          return scrape.sum("earshot_device_flow_pairs") == 0 &&
                 scrape.sum("earshot_device_egress_bytes_total", series) >= expected;
        },
        10s))
        << "round " << round << "\n"
        << scrape.text("earshot_device_flow_pairs")
        << scrape.text("earshot_device_egress_bytes_total") << daemon.log();
    const double counted = scrape.sum("earshot_device_egress_bytes_total", series);
    EXPECT_NEAR(counted, expected, 0.01 * expected) << "round " << round;
    std::printf("[ accuracy ] %s idle round %d: earshot %.0f B, nft %.0f B (%+.3f%%)\n",
                tier_name(GetParam()).c_str(), round, counted, expected,
                100.0 * (counted - expected) / expected);
  }
  EXPECT_EQ(scrape.sum("earshot_device_egress_unaccounted_bytes_total"), 0);
}

INSTANTIATE_TEST_SUITE_P(Tiers, GatewayUpkeepTest,
                         ::testing::Values(GatewayTier::netfilter_forward, GatewayTier::tc),
                         tier_test_name);

}  // namespace
}  // namespace earshot::test::upkeep_test
