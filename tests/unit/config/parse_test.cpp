#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "common/error.h"
#include "config/config.h"

namespace earshot::config::parse_test {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_of(std::string_view yaml) {
  try {
    parse(yaml, "earshot.yaml");
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return "";
}

TEST(Parse, Cameras) {
  const Config config = parse(R"(capture:
  cameras: false
  extra_cameras: [/dev/full]
)",
                              "t.yaml");
  EXPECT_FALSE(config.capture.cameras);
  EXPECT_EQ(config.capture.extra_cameras, (std::vector<SourcePath>{{"/dev/full", 3, 19}}));
  EXPECT_TRUE(config.capture.extra_devices.empty());
}

TEST(Parse, EmptyInputGivesDefaults) {
  const Config config = parse("", "earshot.yaml");
  EXPECT_EQ(config.web.listen_address.host, "127.0.0.1");
  EXPECT_EQ(config.web.listen_address.port, 9737);
  EXPECT_EQ(config.log.level, LogLevel::info);
  EXPECT_EQ(config.log.format, LogFormat::logfmt);
  EXPECT_EQ(config.harvest.interval, milliseconds(1000));
  EXPECT_TRUE(config.network.namespaces.empty());
  EXPECT_EQ(config.network.dns_hook, DnsHook::automatic);
  EXPECT_TRUE(config.capture.sysfs);
  EXPECT_TRUE(config.capture.extra_devices.empty());
  EXPECT_TRUE(config.capture.cameras);
  EXPECT_TRUE(config.capture.extra_cameras.empty());
  EXPECT_EQ(config.capture.tiers,
            (std::vector<Tier>{Tier::fentry, Tier::lsm, Tier::syscalls, Tier::libasound,
                               Tier::procfs, Tier::libpulse, Tier::libpipewire}));
  EXPECT_EQ(config.capture.libasound.path, "");
  EXPECT_EQ(config.capture.libpulse.path, "");
  EXPECT_EQ(config.capture.libpipewire.path, "");
  EXPECT_EQ(config.capture.procfs_interval, milliseconds(1000));
  EXPECT_EQ(config.correlation.grace, milliseconds(5000));
  EXPECT_EQ(config.correlation.idle_gap, milliseconds(2000));
  EXPECT_EQ(config.correlation.baseline, milliseconds(120000));
  EXPECT_EQ(config.events.file, "-");
  EXPECT_EQ(config.events.sessions_kept, 100u);
  EXPECT_EQ(config.limits.destinations_per_process, 20u);
  EXPECT_EQ(config.limits.processes, 256u);
  EXPECT_TRUE(config.policy.capture_allowed.empty());
  EXPECT_TRUE(config.policy.upload_allowed.empty());
  ASSERT_FALSE(config.destinations.empty());
  EXPECT_EQ(config.destinations, default_destinations());
}

// The defaults default-initialized (the same values: every member has an
// initializer or a constructor), not `Config{}`: GCC 12 at -O3 (Release)
// warns falsely that the aggregate-initialized Config's strings may be used
// uninitialized (-Wmaybe-uninitialized).
TEST(Parse, CommentsOnlyAndEmptySectionsGiveDefaults) {
  const Config defaults;
  EXPECT_EQ(parse("# nothing here\n\n", "x"), defaults);
  EXPECT_EQ(parse("web:\nlog:\ncapture:\n  tiers:\ndestinations:\n", "x"), defaults);
  EXPECT_EQ(parse("{}", "x"), defaults);
}

TEST(Parse, ShippedConfigIsTheDefaults) {
  const Config shipped = load_file(EARSHOT_SOURCE_DIR "/config/earshot.yaml");
  const Config defaults;
  EXPECT_EQ(shipped, defaults);
}

TEST(Parse, ReadsEveryKey) {
  const Config config = parse(R"(web:
  listen_address: "[::1]:0"
log: {level: debug, format: json}
harvest: {interval: 250ms}
network:
  namespaces: [/var/run/netns/speaker]
  dns_hook: cgroup
capture:
  sysfs: false
  extra_devices:
    - /dev/full
  tiers: [procfs, syscalls]
  libasound: /usr/lib/x86_64-linux-gnu/libasound.so.2
  procfs_interval: 500ms
correlation: {grace: 1m30s, idle_gap: 3s, baseline: 1h}
events: {file: /var/log/earshot.jsonl, sessions_kept: 0}
destinations:
  - cidr: 2001:db8::/32
    name: cloud
limits: {destinations_per_process: 5, processes: 10}
policy:
  capture_allowed: [voiced]
  upload_allowed: [cloud, 10.0.0.1]
)",
                              "t.yaml");
  EXPECT_EQ(config.web.listen_address, (ListenAddress{"::1", 0}));
  EXPECT_EQ(config.log.level, LogLevel::debug);
  EXPECT_EQ(config.log.format, LogFormat::json);
  EXPECT_EQ(config.harvest.interval, milliseconds(250));
  EXPECT_EQ(config.network.namespaces,
            (std::vector<SourcePath>{{"/var/run/netns/speaker", 6, 16}}));
  EXPECT_EQ(config.network.dns_hook, DnsHook::cgroup);
  EXPECT_FALSE(config.capture.sysfs);
  EXPECT_EQ(config.capture.extra_devices, (std::vector<SourcePath>{{"/dev/full", 11, 7}}));
  EXPECT_EQ(config.capture.tiers, (std::vector<Tier>{Tier::procfs, Tier::syscalls}));
  EXPECT_EQ(config.capture.libasound,
            (SourcePath{"/usr/lib/x86_64-linux-gnu/libasound.so.2", 13, 14}));
  EXPECT_EQ(config.capture.procfs_interval, milliseconds(500));
  EXPECT_EQ(config.correlation.grace, milliseconds(90'000));
  EXPECT_EQ(config.correlation.idle_gap, milliseconds(3'000));
  EXPECT_EQ(config.correlation.baseline, milliseconds(3'600'000));
  EXPECT_EQ(config.events.file, "/var/log/earshot.jsonl");
  EXPECT_EQ(config.events.sessions_kept, 0u);
  ASSERT_EQ(config.destinations.size(), 1u);
  EXPECT_EQ(config.destinations[0].name, "cloud");
  EXPECT_EQ(config.destinations[0].cidr.family, AF_INET6);
  EXPECT_EQ(config.destinations[0].cidr.prefix_length, 32);
  EXPECT_EQ(config.limits.destinations_per_process, 5u);
  EXPECT_EQ(config.limits.processes, 10u);
  EXPECT_EQ(config.policy.capture_allowed, (std::vector<std::string>{"voiced"}));
  EXPECT_EQ(config.policy.upload_allowed, (std::vector<std::string>{"cloud", "10.0.0.1"}));
}

TEST(Parse, EmptyListsClearDefaults) {
  const Config config = parse("destinations: []\ncapture:\n  tiers: []\n", "x");
  EXPECT_TRUE(config.destinations.empty());
  EXPECT_TRUE(config.capture.tiers.empty());
}

TEST(ParseErrors, UnknownNestedKeySuggestsTheClosest) {
  EXPECT_EQ(error_of(R"(web:
  listen_address: "127.0.0.1:9737"
log:
  level: info
capture:
  sysfs: true
  extra_device: [/dev/null]
)"),
            "earshot.yaml:7:3: unknown key 'capture.extra_device' (did you mean 'extra_devices'?)");
}

TEST(ParseErrors, UnknownTopLevelKey) {
  EXPECT_EQ(error_of("log: {}\ncaptur:\n  sysfs: true\n"),
            "earshot.yaml:2:1: unknown key 'captur' (did you mean 'capture'?)");
  EXPECT_EQ(error_of("log: {}\nzzzzzz: 1\n"), "earshot.yaml:2:1: unknown key 'zzzzzz'");
}

TEST(ParseErrors, UnknownKeyInAListEntry) {
  EXPECT_EQ(error_of("destinations:\n  - cidr: 10.0.0.0/8\n    nmae: lan\n"),
            "earshot.yaml:3:5: unknown key 'destinations[0].nmae' (did you mean 'name'?)");
}

TEST(ParseErrors, BadDuration) {
  EXPECT_EQ(error_of(R"(# earshot
web:
  listen_address: ":9737"
log:
  level: info
harvest:
  interval: 1s
capture:
  sysfs: true
correlation:
  idle_gap: 2s
  grace:   soon
)"),
            "earshot.yaml:12:12: 'correlation.grace' must be a duration like 500ms, 5s, 2m "
            "(got 'soon')");
  EXPECT_EQ(error_of("correlation:\n  grace: 500\n"),
            "earshot.yaml:2:10: 'correlation.grace' must be a duration like 500ms, 5s, 2m "
            "(got '500')");
  EXPECT_EQ(error_of("correlation:\n  grace: [5s]\n"),
            "earshot.yaml:2:10: 'correlation.grace' must be a duration like 500ms, 5s, 2m "
            "(got a list)");
}

TEST(ParseErrors, DurationBelowMinimum) {
  EXPECT_EQ(error_of("harvest:\n  interval: 50ms\n"),
            "earshot.yaml:2:13: 'harvest.interval' must be at least 100ms (got '50ms')");
  EXPECT_EQ(error_of("correlation:\n  idle_gap: 0s\n"),
            "earshot.yaml:2:13: 'correlation.idle_gap' must be at least 1ms (got '0s')");
}

TEST(ParseErrors, BadListenAddress) {
  EXPECT_EQ(error_of("# listen\nweb:\n  listen_address: 127.0.0.1:99999\n"),
            "earshot.yaml:3:19: 'web.listen_address': bad address '127.0.0.1:99999' "
            "(port must be 0-65535)");
  EXPECT_EQ(error_of("web:\n  listen_address: \"127.0.0.1\"\n"),
            "earshot.yaml:2:19: 'web.listen_address': bad address '127.0.0.1' "
            "(missing port, expected host:port)");
}

TEST(ParseErrors, SyntaxErrorHasItsLine) {
  const std::string unclosed = error_of("web:\n  listen_address: \":9737\"\nlog: [info\n");
  EXPECT_THAT(unclosed, StartsWith("earshot.yaml:4:"));
  EXPECT_THAT(unclosed, HasSubstr("YAML syntax error"));
  const std::string bad_indent = error_of("log:\n  level: info\n   format: json\n");
  EXPECT_THAT(bad_indent, StartsWith("earshot.yaml:3:"));
  EXPECT_THAT(bad_indent, HasSubstr("YAML syntax error"));
}

TEST(ParseErrors, WrongTypes) {
  EXPECT_EQ(error_of("log:\n  level: [info]\n"),
            "earshot.yaml:2:10: 'log.level' must be a string (got a list)");
  EXPECT_EQ(error_of("log:\n  level: {a: b}\n"),
            "earshot.yaml:2:10: 'log.level' must be a string (got a mapping)");
  EXPECT_EQ(error_of("capture:\n  tiers: fentry\n"),
            "earshot.yaml:2:10: 'capture.tiers' must be a list (got 'fentry')");
  EXPECT_EQ(error_of("web: yes\n"), "earshot.yaml:1:6: 'web' must be a mapping (got 'yes')");
  EXPECT_EQ(error_of("- web\n"),
            "earshot.yaml:1:1: the config must be a mapping of sections (got a list)");
  EXPECT_EQ(error_of("capture:\n  sysfs: maybe\n"),
            "earshot.yaml:2:10: 'capture.sysfs' must be true or false (got 'maybe')");
  EXPECT_EQ(error_of("events:\n  sessions_kept: many\n"),
            "earshot.yaml:2:18: 'events.sessions_kept' must be a whole number (got 'many')");
  EXPECT_EQ(error_of("events:\n  sessions_kept: -1\n"),
            "earshot.yaml:2:18: 'events.sessions_kept' must be a whole number (got '-1')");
  EXPECT_EQ(error_of("limits:\n  processes: 0\n"),
            "earshot.yaml:2:14: 'limits.processes' must be at least 1 (got '0')");
  EXPECT_EQ(error_of("log:\n  level:\n"),
            "earshot.yaml:2:3: 'log.level' must be a string (got nothing)");
  EXPECT_EQ(error_of("events:\n  file: \"\"\n"),
            "earshot.yaml:2:9: 'events.file' must not be empty");
}

TEST(Parse, GatewaySection) {
  const Config config = parse(R"(
gateway:
  enabled: true
  lan_interfaces: [br-lan, wlan0]
  leases_file: /tmp/dhcp.leases
  forget_idle_after: 2h
  devices:
    - {mac: "02:00:00:AA:bb:01", name: kitchen-echo}
    - {mac: "02-00-00-aa-bb-02", name: nest}
limits: {devices: 3, destinations_per_device: 4}
)",
                              "earshot.yaml");
  EXPECT_TRUE(config.gateway.enabled);
  EXPECT_EQ(config.gateway.lan_interfaces, (std::vector<std::string>{"br-lan", "wlan0"}));
  EXPECT_EQ(config.gateway.leases_file.path, "/tmp/dhcp.leases");
  ASSERT_EQ(config.gateway.devices.size(), 2u);
  EXPECT_EQ(format_mac(config.gateway.devices[0].mac), "02:00:00:aa:bb:01");
  EXPECT_EQ(config.gateway.devices[0].name, "kitchen-echo");
  EXPECT_EQ(format_mac(config.gateway.devices[1].mac), "02:00:00:aa:bb:02");
  EXPECT_EQ(config.limits.devices, 3u);
  EXPECT_EQ(config.limits.destinations_per_device, 4u);
  EXPECT_EQ(config.gateway.forget_idle_after, std::chrono::hours(2));
  EXPECT_FALSE(parse("", "earshot.yaml").gateway.enabled);
  EXPECT_EQ(parse("", "earshot.yaml").gateway.forget_idle_after, std::chrono::minutes(30));
}

TEST(ParseErrors, GatewayErrorsNameKeyAndLine) {
  EXPECT_EQ(error_of("gateway:\n  forget_idle_after: 10ms\n"),
            "earshot.yaml:2:22: 'gateway.forget_idle_after' must be at least 1s (got '10ms')");
  EXPECT_EQ(error_of("gateway:\n  enabled: true\n"),
            "earshot.yaml:2:3: 'gateway.lan_interfaces' must list the LAN interfaces when "
            "'gateway.enabled' is true");
  EXPECT_EQ(error_of("gateway:\n  devices:\n    - {mac: 02:00:00:aa:bb, name: x}\n"),
            "earshot.yaml:3:13: 'gateway.devices[0].mac' must be a MAC address like "
            "02:00:00:aa:bb:cc (got '02:00:00:aa:bb')");
  EXPECT_EQ(error_of("gateway:\n  devices:\n    - {mac: \"02:00:00:aa:bb:cc\"}\n"),
            "earshot.yaml:3:7: 'gateway.devices[0]' needs a 'name'");
  EXPECT_EQ(error_of("gateway:\n  devices:\n    - {mac: \"02:00:00:aa:bb:cc\", name: a}\n"
                     "    - {mac: \"02:00:00:AA:BB:CC\", name: b}\n"),
            "earshot.yaml:4:13: 'gateway.devices[1].mac': '02:00:00:aa:bb:cc' is listed twice");
  EXPECT_EQ(error_of("gateway:\n  lan_interfaces: [eth0, eth0]\n"),
            "earshot.yaml:2:26: 'gateway.lan_interfaces[1]': 'eth0' is listed twice");
  EXPECT_EQ(error_of("gateway:\n  lan_interfaces: [a-name-far-too-long]\n"),
            "earshot.yaml:2:20: 'gateway.lan_interfaces[0]' must be a network interface name "
            "(got 'a-name-far-too-long')");
  EXPECT_EQ(error_of("gateway:\n  enable: true\n"),
            "earshot.yaml:2:3: unknown key 'gateway.enable' (did you mean 'enabled'?)");
  EXPECT_EQ(error_of("gateway:\n  leases_file: dhcp.leases\n"),
            "earshot.yaml:2:16: 'gateway.leases_file' must be an absolute path (got "
            "'dhcp.leases')");
}

TEST(ParseErrors, BadChoices) {
  EXPECT_EQ(error_of("log:\n  format: text\n"),
            "earshot.yaml:2:11: 'log.format' must be one of logfmt|json (got 'text')");
  EXPECT_EQ(error_of("capture:\n  tiers: [fentry, kprobe]\n"),
            "earshot.yaml:2:19: 'capture.tiers[1]' must be one of "
            "fentry|lsm|syscalls|libasound|procfs|libpulse|libpipewire (got 'kprobe')");
  EXPECT_EQ(error_of("capture:\n  tiers:\n    - lsm\n    - procfs\n    - lsm\n"),
            "earshot.yaml:5:7: 'capture.tiers[2]': 'lsm' is listed twice");
  EXPECT_EQ(error_of("network:\n  dns_hook: tc\n"),
            "earshot.yaml:2:13: 'network.dns_hook' must be one of auto|tcx|cgroup (got 'tc')");
}

TEST(ParseErrors, DuplicateKey) {
  EXPECT_EQ(error_of("log:\n  level: info\n  level: debug\n"),
            "earshot.yaml:3:3: duplicate key 'log.level'");
}

TEST(ParseErrors, BadDestinations) {
  EXPECT_EQ(error_of("destinations:\n  - cidr: 10.0.0.0/8\n"),
            "earshot.yaml:2:5: 'destinations[0]' needs a 'name'");
  EXPECT_EQ(error_of("destinations:\n  - name: lan\n"),
            "earshot.yaml:2:5: 'destinations[0]' needs a 'cidr'");
  EXPECT_EQ(
      error_of("destinations:\n  - {cidr: 10.0.0.0/8, name: a}\n  - {cidr: 10.1.0.0/8, name: b}\n"),
      "earshot.yaml:3:12: 'destinations[1].cidr': bad CIDR '10.1.0.0/8' "
      "(host bits are set; did you mean 10.0.0.0/8?)");
  EXPECT_EQ(error_of("destinations:\n  - lan\n"),
            "earshot.yaml:2:5: 'destinations[0]' must be a mapping (got 'lan')");
}

TEST(ParseErrors, PathsMustBeAbsolute) {
  EXPECT_EQ(error_of("capture:\n  extra_devices: [/dev/null, dev/zero]\n"),
            "earshot.yaml:2:30: 'capture.extra_devices[1]' must be an absolute path "
            "(got 'dev/zero')");
  EXPECT_EQ(error_of("network:\n  namespaces: [\"\"]\n"),
            "earshot.yaml:2:16: 'network.namespaces[0]' must be an absolute path (got '')");
}

TEST(ParseErrors, OneDocumentOnly) {
  EXPECT_THAT(error_of("log: {}\n---\nweb: {}\n"), HasSubstr("only one YAML document is allowed"));
}

TEST(ParseErrors, SourceNameIsTheOneGiven) {
  try {
    parse("log: {level: loud}", "/etc/earshot/earshot.yaml");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), StartsWith("/etc/earshot/earshot.yaml:1:14: 'log.level'"));
  }
}

TEST(Parse, KernelSection) {
  const Config config = parse(
      "kernel:\n  btf_file: /boot/vmlinux.btf\n  disabled_hooks: [netfilter_ipv4, "
      "netfilter_ipv6]\n",
      "earshot.yaml");
  EXPECT_EQ(config.kernel.btf_file.path, "/boot/vmlinux.btf");
  EXPECT_EQ(config.kernel.btf_file.line, 2);
  EXPECT_EQ(config.kernel.disabled_hooks,
            (std::vector<std::string>{"netfilter_ipv4", "netfilter_ipv6"}));
  EXPECT_TRUE(parse("kernel:\n  btf_file: \"\"\n", "e.yaml").kernel.btf_file.path.empty());
}

TEST(ParseErrors, UnknownHookNameSuggestsTheClosest) {
  EXPECT_EQ(error_of("kernel:\n  disabled_hooks: [netfilter_ipv4, netfiltr_ipv6]\n"),
            "earshot.yaml:2:36: 'kernel.disabled_hooks[1]' must be a hook earshot has (got "
            "'netfiltr_ipv6'); did you mean 'netfilter_ipv6'?");
}

TEST(ParseErrors, HookListedTwice) {
  EXPECT_EQ(error_of("kernel:\n  disabled_hooks:\n    - socket_iterator\n    - "
                     "socket_iterator\n"),
            "earshot.yaml:4:7: 'kernel.disabled_hooks[1]': 'socket_iterator' is listed twice");
}

TEST(ParseErrors, BtfFileMustBeAbsolute) {
  EXPECT_EQ(error_of("kernel:\n  btf_file: vmlinux.btf\n"),
            "earshot.yaml:2:13: 'kernel.btf_file' must be an absolute path (got 'vmlinux.btf')");
}

}  // namespace
}  // namespace earshot::config::parse_test
