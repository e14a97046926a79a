// Kernel lane: what each process receives, the other direction the
// verdicts need (a download's acknowledgements from an upload). A process
// in A downloads from B over TCP and over UDP (a connected socket, as QUIC
// clients use), IPv4 and IPv6; nftables at LOCAL_IN in A is the ground
// truth for packets (it sees what earshot's LOCAL_IN program sees), and
// the payload is what the server sent. Under both counting tiers.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <thread>

#include "counting_tier.h"
#include "daemon.h"
#include "netns.h"
#include "nft_counter.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::ingress_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kSpeaker = EARSHOT_SPEAKER_BINARY;
constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kIngressPayload = "earshot_ingress_payload_bytes_total";
constexpr const char* kIngressPackets = "earshot_ingress_packets_total";
constexpr std::uint64_t kReplyBytes = 1 << 20;

struct Case {
  CountingTier tier;
  bool ipv6;
};
void PrintTo(const Case& c, std::ostream* out) {
  *out << tier_name(c.tier) << (c.ipv6 ? " ipv6" : " ipv4");
}

class IngressTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::needed)) GTEST_SKIP() << *reason;
    pair_ = std::make_unique<NetnsPair>();
    nft_ = std::make_unique<NftCounter>(pair_->a().path, "", "input");
    daemon_ = std::make_unique<DaemonProcess>(DaemonOptions{
        .binary = kDaemon,
        .config_yaml = "harvest:\n  interval: 200ms\ndestinations: []\n"
                       "network:\n  namespaces: [\"" +
                       pair_->a().path + "\"]\ncapture:\n  sysfs: false\n" +
                       tier_config(GetParam().tier)});
    expect_counting_tier(*daemon_, GetParam().tier);
  }
  std::string peer() const { return GetParam().ipv6 ? pair_->b().ipv6 : pair_->b().ipv4; }
  IpFamily family() const { return GetParam().ipv6 ? IpFamily::ipv6 : IpFamily::ipv4; }

  // The scrape once the process's ingress counters stop moving.
  MetricsScrape settled(const std::string& process) {
    double last = -1;
    for (int i = 0; i < 100; ++i) {
      MetricsScrape scrape = daemon_->scrape();
      double now = scrape.sum(kIngressPackets, {{"process", process}});
      if (now > 0 && now == last) return scrape;
      last = now;
      std::this_thread::sleep_for(500ms);
    }
    ADD_FAILURE() << "ingress of " << process << " did not settle:\n" << daemon_->log();
    return daemon_->scrape();
  }

  std::unique_ptr<NetnsPair> pair_;
  std::unique_ptr<NftCounter> nft_;
  std::unique_ptr<DaemonProcess> daemon_;
  TempDir dir_{"earshot-ingress"};
};

TEST_P(IngressTest, ATcpDownloadIsTheReceiversIngress) {
  constexpr std::uint16_t kPort = 5301;
  nft_->count_source_port(L4Protocol::tcp, kPort, family());
  const std::string name = "es-tcp-downloader";
  ChildProcess sink({kTool, "tcp-sink", std::to_string(kPort), "--family",
                     GetParam().ipv6 ? "6" : "4", "--reply", std::to_string(kReplyBytes)},
                    {.netns_path = pair_->b().path});
  ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  ChildProcess downloader(
      {dir_.copy_executable(kTool, name), "--linger-ms", "1500", "tcp-send", peer(),
       std::to_string(kPort), "1000"},
      {.netns_path = pair_->a().path});
  ASSERT_EQ(downloader.wait(40s), 0) << downloader.stderr_text();
  ASSERT_EQ(sink.wait(40s), 0) << sink.stderr_text();
  MetricsScrape scrape = settled(name);
  const NftCount nft = nft_->source_port(L4Protocol::tcp, kPort, family());
  const double packets = scrape.sum(kIngressPackets, {{"process", name}});
  const double payload = scrape.sum(kIngressPayload, {{"process", name}});
  std::cout << "tcp: nft packets " << nft.packets << ", earshot " << packets << "; payload "
            << payload << " of " << kReplyBytes << " sent back" << std::endl;
  EXPECT_EQ(packets, static_cast<double>(nft.packets)) << scrape.text(kIngressPackets);
  // What was sent back, and what TCP sent again (none on a veth pair, as a rule).
  EXPECT_GE(payload, static_cast<double>(kReplyBytes));
  EXPECT_LE(payload, 1.02 * static_cast<double>(kReplyBytes));
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
}

TEST_P(IngressTest, AUdpDownloadOnAConnectedSocketIsTheReceiversIngress) {
  constexpr std::uint16_t kPort = 5302;
  nft_->count_source_port(L4Protocol::udp, kPort, family());
  const std::string name = "es-udp-downloader";
  ChildProcess peer_process(
      {dir_.copy_executable(kSpeaker, "peer-udp"), "peer", std::to_string(kPort), "--proto", "udp"},
      {.netns_path = pair_->b().path});
  ASSERT_TRUE(peer_process.wait_for_output("ready", 10s)) << peer_process.stderr_text();
  // 200 KB/s for 2 s, paced by the peer in 1200-byte datagrams.
  ChildProcess downloader({dir_.copy_executable(kSpeaker, name), "listen", "--peer", peer(),
                           "--port", std::to_string(kPort), "--proto", "udp", "--seconds", "4",
                           "--keepalive-ms", "0", "--download", "0.5:2:200000"},
                          {.netns_path = pair_->a().path});
  ASSERT_EQ(downloader.wait(30s), 0) << downloader.stderr_text();
  MetricsScrape scrape = settled(name);
  const NftCount nft = nft_->source_port(L4Protocol::udp, kPort, family());
  const double packets = scrape.sum(kIngressPackets, {{"process", name}});
  const double payload = scrape.sum(kIngressPayload, {{"process", name}});
  const double headers = GetParam().ipv6 ? 48 : 28;  // IP and UDP
  std::cout << "udp: nft packets " << nft.packets << " bytes " << nft.bytes << ", earshot "
            << packets << " packets, " << payload << " payload" << std::endl;
  ASSERT_GT(nft.packets, 100u);
  EXPECT_EQ(packets, static_cast<double>(nft.packets)) << scrape.text(kIngressPackets);
  EXPECT_EQ(payload, static_cast<double>(nft.bytes) - headers * static_cast<double>(nft.packets));
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return tier_name(info.param.tier) + (info.param.ipv6 ? "_ipv6" : "_ipv4");
}

INSTANTIATE_TEST_SUITE_P(Tiers, IngressTest,
                         ::testing::Values(Case{CountingTier::netfilter, false},
                                           Case{CountingTier::netfilter, true},
                                           Case{CountingTier::cgroup_skb, false},
                                           Case{CountingTier::cgroup_skb, true}),
                         case_name);

}  // namespace
}  // namespace earshot::test::ingress_test
