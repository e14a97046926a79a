#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "netns.h"
#include "nft_counter.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::netns_selftest {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr std::uint64_t kTcpBytes = 1 << 20;
constexpr std::uint64_t kDatagrams = 100;
constexpr std::uint64_t kDatagramSize = 1024;

class NetnsSelfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = NetnsPair::unavailable_reason()) GTEST_SKIP() << *reason;
    if (run_command({"nft", "--version"}).exit_code != 0) GTEST_SKIP() << "nft does not run";
  }
};

TEST_F(NetnsSelfTest, ProgramsInANamespaceSeeOnlyItsAddressesAndKeepSys) {
  NetnsPair pair;
  auto inside = check_command({"ip", "-o", "addr", "show"}, {.netns_path = pair.a().path});
  EXPECT_NE(inside.find(pair.a().ipv4 + "/24"), std::string::npos) << inside;
  EXPECT_NE(inside.find(pair.a().ipv6 + "/64"), std::string::npos) << inside;
  auto outside = check_command({"ip", "-o", "addr", "show"});
  EXPECT_EQ(outside.find(pair.a().ipv4 + "/24"), std::string::npos) << outside;
  // setns, unlike `ip netns exec`, leaves /sys (and the cgroup2 mount under it) alone.
  EXPECT_EQ(run_command({"ls", "/sys/fs/cgroup/unified/cgroup.controllers"},
                        {.netns_path = pair.a().path})
                .exit_code,
            0);
}

TEST_F(NetnsSelfTest, NftCountsAtLeastThePayloadOfEachFlow) {
  NetnsPair pair;
  NftCounter nft(pair.a().path);
  struct Flow {
    L4Protocol protocol;
    IpFamily family;
    std::string port;
    std::string destination;
    std::uint64_t payload;
    std::uint64_t header_floor;  // IP + transport header of one packet
  };
  const std::vector<Flow> flows = {
      {L4Protocol::tcp, IpFamily::ipv4, "5001", pair.b().ipv4, kTcpBytes, 20 + 20},
      {L4Protocol::tcp, IpFamily::ipv6, "5002", pair.b().ipv6, kTcpBytes, 40 + 20},
      {L4Protocol::udp, IpFamily::ipv4, "5003", pair.b().ipv4, kDatagrams * kDatagramSize, 20 + 8},
      {L4Protocol::udp, IpFamily::ipv6, "5004", pair.b().ipv6, kDatagrams * kDatagramSize, 40 + 8},
  };
  for (const auto& flow : flows) {
    nft.count_destination_port(flow.protocol, static_cast<std::uint16_t>(std::stoi(flow.port)),
                               flow.family);
  }

  TempDir dir;
  const std::string go = dir.file("go");
  std::vector<ChildProcess> sinks;
  std::vector<ChildProcess> senders;
  for (const auto& flow : flows) {
    std::string family = flow.family == IpFamily::ipv4 ? "4" : "6";
    if (flow.protocol == L4Protocol::tcp) {
      sinks.emplace_back(std::vector<std::string>{kTool, "tcp-sink", flow.port, "--family", family},
                         ChildOptions{.netns_path = pair.b().path});
    } else {
      sinks.emplace_back(
          std::vector<std::string>{kTool, "udp-sink", flow.port, std::to_string(kDatagrams),
                                   "--family", family, "--timeout-ms", "20000"},
          ChildOptions{.netns_path = pair.b().path});
    }
  }
  for (auto& sink : sinks) ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  for (const auto& flow : flows) {
    std::vector<std::string> argv{kTool, "--wait-file", go};
    if (flow.protocol == L4Protocol::tcp) {
      argv.insert(argv.end(), {"tcp-send", flow.destination, flow.port, std::to_string(kTcpBytes)});
    } else {
      argv.insert(argv.end(), {"udp-send", flow.destination, flow.port, std::to_string(kDatagrams),
                               std::to_string(kDatagramSize), "1"});
    }
    senders.emplace_back(argv, ChildOptions{.netns_path = pair.a().path});
  }
  for (auto& sender : senders) {
    ASSERT_TRUE(sender.wait_for_output("ready", 10s)) << sender.stderr_text();
  }
  dir.write_file("go", "");  // all four start together
  for (auto& sender : senders) {
    EXPECT_EQ(sender.wait(30s), 0) << sender.command() << ": " << sender.stderr_text();
  }
  for (auto& sink : sinks) {
    EXPECT_EQ(sink.wait(30s), 0) << sink.command() << ": " << sink.stderr_text();
  }

  for (std::size_t i = 0; i < flows.size(); ++i) {
    const auto& flow = flows[i];
    NftCount count = nft.destination_port(
        flow.protocol, static_cast<std::uint16_t>(std::stoi(flow.port)), flow.family);
    SCOPED_TRACE(sinks[i].command() + " / " + senders[i].command());
    std::cout << senders[i].command() << ": nft packets=" << count.packets
              << " bytes=" << count.bytes << " payload=" << flow.payload << "\n";
    EXPECT_GE(count.bytes, flow.payload + count.packets * flow.header_floor);
    // Headers and TCP control segments, not a second copy of the payload.
    EXPECT_LT(count.bytes, flow.payload + flow.payload / 10 + 4096);
    EXPECT_NE(sinks[i].stdout_text().find("received_bytes=" + std::to_string(flow.payload)),
              std::string::npos)
        << sinks[i].stdout_text();
    if (flow.protocol == L4Protocol::udp) {
      EXPECT_EQ(count.packets, kDatagrams);
    }
  }
}

TEST_F(NetnsSelfTest, DestructorRemovesNamespacesAndNftTable) {
  std::string a_name;
  std::string b_name;
  {
    NetnsPair pair;
    a_name = pair.a().name;
    b_name = pair.b().name;
    ASSERT_TRUE(netns_exists(a_name));
    ASSERT_TRUE(std::filesystem::exists(pair.b().path));
    NftCounter nft(pair.a().path, "es_selftest");
    EXPECT_EQ(
        run_command({"nft", "list", "table", "inet", "es_selftest"}, {.netns_path = pair.a().path})
            .exit_code,
        0);
  }
  EXPECT_FALSE(netns_exists(a_name));
  EXPECT_FALSE(netns_exists(b_name));
  EXPECT_FALSE(std::filesystem::exists("/var/run/netns/" + a_name));
  auto listing = check_command({"ip", "netns", "list"});
  EXPECT_EQ(listing.find(a_name), std::string::npos) << listing;
}

TEST_F(NetnsSelfTest, NftCounterDeletesItsTable) {
  NetnsPair pair;
  { NftCounter nft(pair.a().path, "es_selftest_table"); }
  EXPECT_NE(run_command({"nft", "list", "table", "inet", "es_selftest_table"},
                        {.netns_path = pair.a().path})
                .exit_code,
            0);
}

TEST_F(NetnsSelfTest, LeftoversOfDeadTestProcessesAreRemoved) {
  ChildProcess finished({"true"});
  ASSERT_EQ(finished.wait(5s), 0);
  std::string leftover = "es" + std::to_string(finished.pid()) + "a";
  check_command({"ip", "netns", "add", leftover});
  NetnsPair pair;
  EXPECT_FALSE(netns_exists(leftover));
  run_command({"ip", "netns", "delete", leftover});  // in case the assertion failed
}

}  // namespace
}  // namespace earshot::test::netns_selftest
