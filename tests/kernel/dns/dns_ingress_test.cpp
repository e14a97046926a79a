// earshot reads DNS answers at tcx ingress of the interfaces of the
// namespaces it monitors: packets another namespace receives run none of its
// programs, and an interface added while it runs is read from then on; or,
// when the config says so, at the root cgroup's ingress.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "daemon.h"
#include "in_netns.h"
#include "netns.h"
#include "poll_until.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::dns_ingress_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kResponder = EARSHOT_DNS_RESPONDER_BINARY;
constexpr int kDatagrams = 2000;
constexpr const char* kPort = "9410";

std::string daemon_config(const std::string& netns_path, const std::string& dns_hook = "auto") {
  std::string config =
      "harvest:\n  interval: 200ms\n"
      "destinations: []\n"
      "capture:\n  sysfs: false\n"
      "network:\n  dns_hook: " +
      dns_hook + "\n";
  if (!netns_path.empty()) config += "  namespaces: [\"" + netns_path + "\"]\n";
  return config;
}

// Asks a responder in `server`'s namespace for `name` from `client`'s, then
// sends to the answer: true when earshot counts those bytes under the name.
bool answer_names_the_destination(DaemonProcess& daemon, const std::string& scrape_netns,
                                  const NetnsEnd& client, const NetnsEnd& server,
                                  const std::string& server_address, const std::string& name) {
  ChildProcess responder({kResponder, "serve", "--name", name, "--ipv4", server_address},
                         {.netns_path = server.path});
  EXPECT_TRUE(responder.wait_for_output("ready", 10s)) << responder.stderr_text();
  const std::string answer =
      check_command({kResponder, "query", server_address, name}, {.netns_path = client.path});
  EXPECT_NE(answer.find(server_address), std::string::npos) << answer;
  ChildProcess sender({kTool, "udp-send", server_address, kPort, "20", "100", "10"},
                      {.netns_path = client.path});
  EXPECT_EQ(sender.wait(30s), 0) << sender.stderr_text();
  MetricsScrape scrape;
  return poll_until(
      [&] {
        if (scrape_netns.empty())
          scrape = daemon.scrape();
        else
          run_in_netns(scrape_netns, [&] { scrape = daemon.scrape(); });
        return scrape.sum("earshot_egress_bytes_total", {{"destination", name}}) >= 20 * 100;
      },
      10s);
}

class DnsIngressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::not_needed)) GTEST_SKIP() << *reason;
  }
};

// Runs of earshot's DNS programs, from the kernel's own counters (kept only
// while run-time statistics are enabled: the test holds them on).
double dns_program_runs(const MetricsScrape& scrape) {
  double runs = 0;
  for (const char* program : {"earshot_dns_tcx_eth", "earshot_dns_tcx_l3", "earshot_dns_ingress"})
    runs += scrape.sum("earshot_bpf_runs_total", {{"program", program}});
  return runs;
}

// kDatagrams of 64 bytes from `from` to `to`, received by a sink in `to`.
void send_datagrams(const NetnsEnd& from, const NetnsEnd& to) {
  ChildProcess sink({kTool, "udp-sink", kPort, std::to_string(kDatagrams), "--timeout-ms", "20000"},
                    {.netns_path = to.path});
  ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  ChildProcess sender({kTool, "udp-send", to.ipv4, kPort, std::to_string(kDatagrams), "64", "0"},
                      {.netns_path = from.path});
  ASSERT_EQ(sender.wait(30s), 0) << sender.stderr_text();
  ASSERT_EQ(sink.wait(30s), 0) << "the sink did not get every datagram (veth drops?): "
                               << sink.stderr_text();
}

TEST_F(DnsIngressTest, OnlyPacketsReceivedInMonitoredNamespacesRunTheProgram) {
  NetnsPair pair;
  UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
  ASSERT_TRUE(stats) << "cannot enable BPF run-time statistics: " << std::strerror(errno);
  // Monitors its own namespace and A; B is the far end, a namespace it was
  // not asked to watch.
  DaemonProcess daemon({.binary = kDaemon, .config_yaml = daemon_config(pair.a().path)});
  MetricsScrape scrape = daemon.scrape();
  if (scrape.sum("earshot_hook_attached", {{"hook", "tcx_dns_ingress"}}) != 1)
    GTEST_SKIP() << "tcx_dns_ingress did not attach (a kernel before 6.6 has no tcx; then the "
                    "root cgroup's ingress reads every namespace's packets)";
  ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "tcx_dns_ingress@" + pair.a().name}}), 1);

  const double before = dns_program_runs(scrape);
  send_datagrams(pair.a(), pair.b());
  const double after_b_received = dns_program_runs(daemon.scrape());
  // A itself receives only the odd ARP or neighbour packet.
  EXPECT_LT(after_b_received - before, kDatagrams / 10)
      << "earshot's DNS program ran for packets the unmonitored namespace received";

  send_datagrams(pair.b(), pair.a());
  const double after_a_received = dns_program_runs(daemon.scrape());
  EXPECT_GE(after_a_received - after_b_received, kDatagrams)
      << "the DNS program did not run for each packet the monitored namespace received";
}

TEST_F(DnsIngressTest, AnswersOnAnInterfaceAddedWhileRunningNameTheDestination) {
  NetnsPair pair;
  const NetnsEnd& a = pair.a();
  const NetnsEnd& b = pair.b();
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(""),
                        .extra_arguments = {"--log.level=debug"},
                        .netns_path = a.path});
  MetricsScrape scrape;
  run_in_netns(a.path, [&] { scrape = daemon.scrape(); });
  if (scrape.sum("earshot_hook_attached", {{"hook", "tcx_dns_ingress"}}) != 1)
    GTEST_SKIP() << "tcx_dns_ingress did not attach (a kernel before 6.6 has no tcx)";

  // A second link between A and B, made after the daemon started. Removed
  // with the namespaces, whatever happens here.
  const std::string suffix = std::to_string(::getpid() % 100000);
  const std::string in_a = "edn" + suffix + "a", in_b = "edn" + suffix + "b";
  const std::string subnet = "10.198." + std::to_string(::getpid() % 250) + ".";
  const std::string a_address = subnet + "1", b_address = subnet + "2";
  check_command({"ip", "link", "add", in_a, "netns", a.name, "type", "veth", "peer", "name", in_b,
                 "netns", b.name});
  check_command({"ip", "-n", a.name, "addr", "add", a_address + "/24", "dev", in_a});
  check_command({"ip", "-n", b.name, "addr", "add", b_address + "/24", "dev", in_b});
  check_command({"ip", "-n", a.name, "link", "set", in_a, "up"});
  check_command({"ip", "-n", b.name, "link", "set", in_b, "up"});
  ASSERT_TRUE(poll_until(
      [&] { return daemon.log().find("\"interface\":\"" + in_a + "\"") != std::string::npos; },
      10s))
      << "the daemon did not attach to " << in_a << "; log:\n"
      << daemon.log();

  EXPECT_TRUE(answer_names_the_destination(daemon, a.path, a, b, b_address, "later.earshot.test"))
      << "no bytes counted under the answered name; log:\n"
      << daemon.log();
}

// network.dns_hook: cgroup, for a router whose forwarded packets should not
// pass an earshot program: the root cgroup's ingress reads the answers.
TEST_F(DnsIngressTest, CgroupHookChosenInConfigReadsTheAnswers) {
  NetnsPair pair;
  DaemonProcess daemon({.binary = kDaemon, .config_yaml = daemon_config(pair.a().path, "cgroup")});
  MetricsScrape scrape = daemon.scrape();
  ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "cgroup_dns_ingress"}}), 1)
      << daemon.log();
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "tcx_dns_ingress"}}), 0);
  EXPECT_TRUE(answer_names_the_destination(daemon, "", pair.a(), pair.b(), pair.b().ipv4,
                                           "cgroup.earshot.test"))
      << "no bytes counted under the answered name; log:\n"
      << daemon.log();
}

}  // namespace
}  // namespace earshot::test::dns_ingress_test
