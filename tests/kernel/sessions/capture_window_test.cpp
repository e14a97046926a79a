// Kernel lane: the capture windows of connected sockets. A speaker uploads
// a recording over TCP, and a connected socket's packets take the netfilter
// hook's hot path (its per-CPU slot), not the flows map the UDP scenario
// goes through; this is that path's test. In namespace A, while a capture
// node is open:
//   self4, self6  TCP uploads (IPv4, IPv6) from processes holding the node
//                 open from before they connect until after they close:
//                 every byte in window "self";
//   other         a TCP upload from a process that captures nothing, sent
//                 while self4 holds the node: every byte in window "other".
// Ground truth is nftables at LOCAL_OUT in A, per TCP destination port.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "counting_tier.h"
#include "daemon.h"
#include "in_netns.h"
#include "metrics.h"
#include "netns.h"
#include "nft_counter.h"
#include "process.h"
#include "run_tag.h"
#include "temp_dir.h"

namespace earshot::test::capture_window_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kTraffic = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kCaptureBytes = "earshot_egress_capture_bytes_total";

constexpr std::uint16_t kSelf4Port = 6100;
constexpr std::uint16_t kSelf6Port = 6101;
constexpr std::uint16_t kOtherPort = 6102;
constexpr const char* kUploadBytes = "4000000";

std::string tagged(const std::string& name) {
  return name + "-" + run_tag();
}

class CaptureWindowTest : public ::testing::TestWithParam<CountingTier> {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::needed)) GTEST_SKIP() << *reason;
  }
};

TEST_P(CaptureWindowTest, ConnectedSocketsCountInTheirSendersWindow) {
  NetnsPair pair;
  const NetnsEnd& a = pair.a();
  const NetnsEnd& b = pair.b();
  TempDir dir("earshot-windows");
  // A capture node with the numbers of /dev/zero, watched by device number.
  const std::string microphone = dir.file("mic");
  ASSERT_EQ(::mknod(microphone.c_str(), S_IFCHR | 0600, makedev(1, 5)), 0)
      << "mknod " << microphone << ": " << std::strerror(errno);

  NftCounter nft(a.path);
  nft.count_destination_port(L4Protocol::tcp, kSelf4Port, IpFamily::ipv4);
  nft.count_destination_port(L4Protocol::tcp, kSelf6Port, IpFamily::ipv6);
  nft.count_destination_port(L4Protocol::tcp, kOtherPort, IpFamily::ipv4);

  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = "harvest:\n  interval: 200ms\n"
                                       "capture:\n  sysfs: false\n  extra_devices: [\"" +
                                       microphone + "\"]\n" + tier_config(GetParam()),
                        .netns_path = a.path});
  run_in_netns(a.path, [&] { expect_counting_tier(daemon, GetParam()); });

  std::vector<std::unique_ptr<ChildProcess>> sinks;
  for (auto [port, family] : {std::pair{kSelf4Port, "4"}, {kSelf6Port, "6"}, {kOtherPort, "4"}}) {
    sinks.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{kTraffic, "tcp-sink", std::to_string(port), "--family", family},
        ChildOptions{.netns_path = b.path}));
    ASSERT_TRUE(sinks.back()->wait_for_output("ready", 10s)) << sinks.back()->stderr_text();
  }

  const std::string self4 = tagged("self4"), self6 = tagged("self6"), other = tagged("other");
  const std::string go = dir.file("go");
  auto upload = [&](const std::string& name, const std::string& address, std::uint16_t port,
                    bool capturing) {
    std::vector<std::string> command = {dir.copy_executable(kTraffic, name),
                                        "tcp-send",
                                        address,
                                        std::to_string(port),
                                        kUploadBytes,
                                        "--wait-file",
                                        go};
    if (capturing) {
      // Lingers (capturing) well past other's upload, which starts with it.
      for (const char* argument : {"--device", microphone.c_str(), "--linger-ms", "3000"}) {
        command.emplace_back(argument);
      }
    }
    auto process = std::make_unique<ChildProcess>(command, ChildOptions{.netns_path = a.path});
    EXPECT_TRUE(process->wait_for_output("ready", 10s)) << process->stderr_text();
    return process;
  };
  auto self4_up = upload(self4, b.ipv4, kSelf4Port, true);
  auto self6_up = upload(self6, b.ipv6, kSelf6Port, true);
  auto other_up = upload(other, b.ipv4, kOtherPort, false);
  ASSERT_FALSE(HasFailure());
  dir.write_file("go", "");
  ASSERT_EQ(other_up->wait(30s), 0) << other_up->stderr_text();
  ASSERT_TRUE(self4_up->running())
      << "self4's capture ended before other's upload did (machine too loaded?)";
  ASSERT_EQ(self4_up->wait(30s), 0) << self4_up->stderr_text();
  ASSERT_EQ(self6_up->wait(30s), 0) << self6_up->stderr_text();

  const double self4_nft = nft.destination_port(L4Protocol::tcp, kSelf4Port, IpFamily::ipv4).bytes;
  const double self6_nft = nft.destination_port(L4Protocol::tcp, kSelf6Port, IpFamily::ipv6).bytes;
  const double other_nft = nft.destination_port(L4Protocol::tcp, kOtherPort, IpFamily::ipv4).bytes;
  ASSERT_GT(self4_nft, 4e6);
  ASSERT_GT(self6_nft, 4e6);
  ASSERT_GT(other_nft, 4e6);

  auto window_bytes = [](const MetricsScrape& scrape, const std::string& process,
                         const char* window) {
    return scrape.sum(kCaptureBytes, {{"process", process}, {"window", window}});
  };
  bool harvested = false;
  run_in_netns(a.path, [&] {
    harvested = daemon.wait_for(
        [&](const MetricsScrape& scrape) {
          return window_bytes(scrape, self4, "self") >= 0.99 * self4_nft &&
                 window_bytes(scrape, self6, "self") >= 0.99 * self6_nft &&
                 window_bytes(scrape, other, "other") >= 0.99 * other_nft;
        },
        10s);
  });
  const MetricsScrape& scrape = daemon.last_scrape();
  const std::string samples = scrape.text(kCaptureBytes);
  EXPECT_TRUE(harvested) << "the windows did not reach the uploads' bytes within 10 s:\n"
                         << samples;
  // Every byte, once, in its sender's window; the 1 % is for the ACK a
  // socket sends from TIME_WAIT, which may have no owner left (as in the
  // attribution test).
  EXPECT_NEAR(window_bytes(scrape, self4, "self"), self4_nft, 0.01 * self4_nft) << samples;
  EXPECT_NEAR(window_bytes(scrape, self6, "self"), self6_nft, 0.01 * self6_nft) << samples;
  EXPECT_NEAR(window_bytes(scrape, other, "other"), other_nft, 0.01 * other_nft) << samples;
  EXPECT_EQ(window_bytes(scrape, other, "self"), 0) << samples;
  EXPECT_EQ(window_bytes(scrape, self4, "other"), 0) << samples;
}

INSTANTIATE_TEST_SUITE_P(Tiers, CaptureWindowTest,
                         ::testing::Values(CountingTier::netfilter, CountingTier::cgroup_skb),
                         [](const auto& info) { return tier_name(info.param); });

}  // namespace
}  // namespace earshot::test::capture_window_test
