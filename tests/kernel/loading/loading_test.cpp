// Kernel lane: each BPF program fails alone. The verifier is made to refuse
// chosen programs (EARSHOT_TEST_REFUSE_PROGRAMS: the loader offers them as
// socket filters, whose context they misread, so the refusal is real and
// the same on every kernel); the hook reports the verifier's words and the
// daemon still counts every byte. And kernel.btf_file: a BTF file copied
// from this kernel is used for CO-RE; a broken one fails loudly; a missing
// one is refused by name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "daemon.h"
#include "hook_report.h"
#include "in_netns.h"
#include "netns.h"
#include "process.h"
#include "socket_address.h"
#include "temp_dir.h"

namespace earshot::test::loading_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kBytes = "earshot_egress_bytes_total";
constexpr std::uint16_t kPort = 5401;
constexpr int kDatagrams = 25;
constexpr std::size_t kPayload = 700;
constexpr double kIpv4UdpBytes = kDatagrams * (kPayload + 28.0);  // UDP and IPv4 headers

std::string counting_a(const NetnsPair& pair, const std::string& extra = {}) {
  return "harvest:\n  interval: 200ms\n"
         "destinations: []\n"
         "network:\n  namespaces: [\"" +
         pair.a().path +
         "\"]\n"
         "capture:\n  sysfs: false\n" +
         extra;
}

std::string refusing(const std::string& programs) {
  return "EARSHOT_TEST_REFUSE_PROGRAMS=" + programs;
}

class LoadingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::not_needed)) GTEST_SKIP() << *reason;
  }

  // --check-config with the config and environment; its printed hooks.
  std::map<std::string, HookLine> check_config(const std::string& yaml,
                                               const std::vector<std::string>& environment,
                                               CommandResult* result_out = nullptr) {
    const std::string config = dir_.write_file("check.yaml", yaml);
    CommandResult result = run_command({kDaemon, "--config.file", config, "--check-config"},
                                       {.environment = environment}, 60s);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    if (result_out) *result_out = result;
    return printed_hooks(result.out);
  }

  // kDatagrams UDP datagrams from the test, in A, to B; the daemon must
  // count every byte of them under B's address.
  void expect_udp_counted(DaemonProcess& daemon, const NetnsPair& pair) {
    UniqueFd sink;
    run_in_netns(pair.b().path,
                 [&] { sink = traffic::bind_wildcard(SOCK_DGRAM, kPort, traffic::Family::ipv4); });
    run_in_netns(pair.a().path, [&] {
      const traffic::SocketAddress to = traffic::parse_socket_address(pair.b().ipv4, kPort);
      UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      ASSERT_TRUE(fd);
      std::vector<char> payload(kPayload, 'l');
      for (int i = 0; i < kDatagrams; ++i)
        ASSERT_EQ(::sendto(fd.get(), payload.data(), payload.size(), 0, to.get(), to.length),
                  static_cast<ssize_t>(kPayload));
    });
    const Labels to_b{{"destination", pair.b().ipv4}};
    bool counted = daemon.wait_for(
        [&](const MetricsScrape& scrape) { return scrape.sum(kBytes, to_b) >= kIpv4UdpBytes; },
        10s);
    EXPECT_TRUE(counted) << daemon.last_scrape().text(kBytes) << daemon.log();
    EXPECT_EQ(daemon.last_scrape().sum(kBytes, to_b), kIpv4UdpBytes)
        << daemon.last_scrape().text(kBytes);
  }

  double attached(DaemonProcess& daemon, const std::string& hook) {
    return daemon.scrape().sum("earshot_hook_attached", {{"hook", hook}});
  }

  TempDir dir_{"earshot-loading"};
};

TEST_F(LoadingTest, RefusedOptionalProgramsLeaveTheRestCounting) {
  NetnsPair pair;
  const std::vector<std::string> env{refusing("earshot_iter_sockets,earshot_sockops")};
  auto hooks = check_config(counting_a(pair), env);
  for (const char* hook : {"socket_iterator", "cgroup_sockops"}) {
    SCOPED_TRACE(hook);
    EXPECT_FALSE(hooks[hook].attached);
    // The reason carries the verifier's own last lines.
    EXPECT_THAT(hooks[hook].detail, HasSubstr("refused by the kernel"));
    EXPECT_THAT(hooks[hook].detail, HasSubstr("verifier:"));
    EXPECT_THAT(hooks[hook].detail, ::testing::AnyOf(HasSubstr("invalid bpf_context access"),
                                                     HasSubstr("cannot use helper")));
  }
  for (const char* hook : {"cgroup_sock_create", "cgroup_sock_release"})
    EXPECT_TRUE(hooks[hook].attached) << hook << ": " << hooks[hook].detail;
  const bool netfilter = hooks["netfilter_ipv4"].attached && hooks["netfilter_ipv6"].attached;
  EXPECT_TRUE(netfilter || hooks["cgroup_skb_egress"].attached);

  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = counting_a(pair),
                        .extra_arguments = {"--log.level=debug"},
                        .environment = env});
  EXPECT_EQ(attached(daemon, "socket_iterator"), 0);
  expect_udp_counted(daemon, pair);
  // At debug level the log holds the verifier's whole log.
  EXPECT_THAT(daemon.log(), HasSubstr("\"msg\":\"verifier log\""));
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(LoadingTest, RefusedNetfilterProgramHandsCountingToCgroupSkb) {
  NetnsPair pair;
  const std::vector<std::string> env{refusing("earshot_nf_local_out4")};
  auto hooks = check_config(counting_a(pair), env);
  EXPECT_FALSE(hooks["netfilter_ipv4"].attached);
  EXPECT_THAT(hooks["netfilter_ipv4"].detail, HasSubstr("verifier:"));
  // Half a tier is given back: cgroup_skb counts both families.
  EXPECT_FALSE(hooks["netfilter_ipv6"].attached) << hooks["netfilter_ipv6"].detail;
  EXPECT_TRUE(hooks["cgroup_skb_egress"].attached) << hooks["cgroup_skb_egress"].detail;

  DaemonProcess daemon({.binary = kDaemon, .config_yaml = counting_a(pair), .environment = env});
  EXPECT_EQ(attached(daemon, "cgroup_skb_egress"), 1);
  expect_udp_counted(daemon, pair);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(LoadingTest, RefusedCgroupSkbBuildGivesWayToTheBasicOne) {
  NetnsPair pair;
  const std::string yaml =
      counting_a(pair, "kernel:\n  disabled_hooks: [netfilter_ipv4, netfilter_ipv6]\n");
  const std::vector<std::string> env{refusing("earshot_cgroup_egress")};
  auto hooks = check_config(yaml, env);
  EXPECT_TRUE(hooks["cgroup_skb_egress"].attached) << hooks["cgroup_skb_egress"].detail;
  EXPECT_THAT(hooks["cgroup_skb_egress"].detail, HasSubstr("earshot_cgroup_egress_basic"));
  EXPECT_THAT(hooks["cgroup_skb_egress"].detail, HasSubstr("verifier:"));

  DaemonProcess daemon({.binary = kDaemon, .config_yaml = yaml, .environment = env});
  expect_udp_counted(daemon, pair);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(LoadingTest, ExternalBtfFileIsUsedForRelocations) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux"))
    GTEST_SKIP() << "this kernel has no BTF of its own to copy";
  NetnsPair pair;
  const std::string btf = dir_.file("vmlinux.btf");
  std::filesystem::copy_file("/sys/kernel/btf/vmlinux", btf);
  const std::string yaml = counting_a(pair, "kernel:\n  btf_file: \"" + btf + "\"\n");
  CommandResult result;
  auto hooks = check_config(yaml, {}, &result);
  EXPECT_THAT(result.out, HasSubstr("btf: kernel.btf_file " + btf));
  EXPECT_TRUE(hooks["netfilter_ipv4"].attached) << result.out;

  DaemonProcess daemon({.binary = kDaemon, .config_yaml = yaml});
  expect_udp_counted(daemon, pair);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// The key is really what CO-RE reads: a BTF file cut short makes the
// objects fail, each hook saying so, instead of silently using the kernel's.
TEST_F(LoadingTest, BrokenBtfFileFailsLoudly) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux"))
    GTEST_SKIP() << "this kernel has no BTF of its own to copy";
  const std::string btf = dir_.file("cut.btf");
  {
    std::ifstream in("/sys/kernel/btf/vmlinux", std::ios::binary);
    std::vector<char> head(4096);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(btf, std::ios::binary).write(head.data(), in.gcount());
  }
  const std::string config = dir_.write_file(
      "cut.yaml", "capture:\n  sysfs: false\nkernel:\n  btf_file: \"" + btf + "\"\n");
  CommandResult result = run_command({kDaemon, "--config.file", config, "--check-config"}, {}, 60s);
  auto hooks = printed_hooks(result.out);
  EXPECT_FALSE(hooks["netfilter_ipv4"].attached) << result.out;
  EXPECT_THAT(hooks["netfilter_ipv4"].detail, HasSubstr("network BPF object did not load"));
}

TEST_F(LoadingTest, MissingBtfFileIsRefusedByName) {
  const std::string config =
      dir_.write_file("missing.yaml", "kernel:\n  btf_file: /nonexistent/earshot/vmlinux.btf\n");
  CommandResult result = run_command({kDaemon, "--config.file", config, "--check-config"}, {}, 60s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("missing.yaml:2:13: 'kernel.btf_file': "
                                    "/nonexistent/earshot/vmlinux.btf does not exist"));
}

}  // namespace
}  // namespace earshot::test::loading_test
