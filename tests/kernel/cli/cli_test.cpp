// Kernel lane: earshot's command line as a user meets it. --check-config must
// attach and detach every hook on this kernel and say which work; the same
// hooks must be the ones a running daemon reports in earshot_hook_attached.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>

#include "common/error.h"
#include "daemon.h"
#include "hook_report.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::cli_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kConfig = "harvest:\n  interval: 200ms\ncapture:\n  sysfs: false\n";

TEST(CliTest, VersionPrintsTheVersion) {
  auto result = run_command({kDaemon, "--version"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::regex_search(result.out, std::regex(R"(^earshot \d+\.\d+\.\d+)"))) << result.out;
}

TEST(CliTest, HelpNamesTheFlags) {
  auto result = run_command({kDaemon, "--help"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const char* flag : {"--config.file", "--web.listen-address", "--log.format", "--log.level",
                           "--check-config", "--version"}) {
    EXPECT_THAT(result.out, HasSubstr(flag));
  }
}

TEST(CliTest, UnknownKeyIsAnErrorNamingTheKeyAndLine) {
  TempDir dir("earshot-cli");
  const std::string config = dir.write_file(
      "bad.yaml", "harvest:\n  interval: 200ms\n  intervall: 1s\nlog:\n  level: info\n");
  // Both as a check and as the daemon: neither may start on a bad file.
  for (std::vector<std::string> argv :
       {std::vector<std::string>{kDaemon, "--config.file", config, "--check-config"},
        std::vector<std::string>{kDaemon, "--config.file", config, "--web.listen-address",
                                 "127.0.0.1:0"}}) {
    auto result = run_command(argv, {}, 20s);
    SCOPED_TRACE(argv.back());
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_THAT(result.err, HasSubstr("intervall"));
    EXPECT_THAT(result.err, HasSubstr(config + ":3:"));
    EXPECT_THAT(result.out, Not(HasSubstr("listening")));
  }
}

TEST(CliTest, CheckConfigAttachesEveryHookAndTheDaemonReportsTheSameOnes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: attaches BPF programs";
  TempDir dir("earshot-cli");
  const std::string config = dir.write_file("earshot.yaml", kConfig);
  auto result = run_command({kDaemon, "--config.file", config, "--check-config"}, {}, 60s);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::cout << result.out;
  auto hooks = printed_hooks(result.out);
  ASSERT_FALSE(hooks.empty()) << result.out;
  std::size_t attached = 0;
  for (const auto& [hook, line] : hooks) attached += line.attached;
  EXPECT_THAT(result.out, HasSubstr(std::to_string(attached) + " of " +
                                    std::to_string(hooks.size()) + " hooks attached"));
  // Counting works on every kernel: netfilter at LOCAL_OUT for both
  // families (6.4+), or the cgroup_skb tier.
  const bool netfilter = hooks["netfilter_ipv4"].attached && hooks["netfilter_ipv6"].attached;
  EXPECT_TRUE(netfilter || hooks["cgroup_skb_egress"].attached) << "nothing counts:\n"
                                                                << result.out;

  DaemonProcess daemon({.binary = kDaemon, .config_yaml = kConfig});
  MetricsScrape scrape = daemon.scrape();
  std::map<std::string, bool> reported;
  for (const auto& sample : scrape.select("earshot_hook_attached")) {
    reported[sample.labels.at("hook")] = sample.value == 1;
  }
  std::map<std::string, bool> printed;
  for (const auto& [hook, line] : hooks) printed[hook] = line.attached;
  EXPECT_EQ(reported, printed) << "--check-config and earshot_hook_attached disagree";
}

// README: `--web.listen-address=:9737` is every interface. civetweb takes no
// ":PORT", so this failed at start before the address was translated.
TEST(CliTest, ListenAddressWithoutHostServesEveryInterface) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: attaches BPF programs";
  DaemonProcess daemon({.binary = kDaemon, .config_yaml = kConfig, .listen_address = ":0"});
  EXPECT_THAT(daemon.address(), ::testing::StartsWith("0.0.0.0:"));
  HttpResponse page = daemon.get("/-/healthy");  // over 127.0.0.1
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// A build whose civetweb has no IPv6 (Debian 12's) must say so at start; one
// with IPv6 must listen there.
TEST(CliTest, Ipv6ListenAddressListensOrSaysWhyNot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: attaches BPF programs";
  try {
    DaemonProcess daemon({.binary = kDaemon, .config_yaml = kConfig, .listen_address = "[::1]:0"});
    EXPECT_THAT(daemon.address(), ::testing::StartsWith("[::1]:"));
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot listen on [::1]:0: this build's civetweb has no IPv6"));
  }
}

}  // namespace
}  // namespace earshot::test::cli_test
