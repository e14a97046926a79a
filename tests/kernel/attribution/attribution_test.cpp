// Kernel lane: the real daemon attributes each program's egress bytes
// (payload plus IP and transport headers) to that program. Ground truth is
// nftables at LOCAL_OUT in the sending namespace, which counts skb->len
// exactly where earshot does. Payload (what TCP or UDP carried) is held to
// what the programs wrote: TCP's written bytes and those it retransmitted
// (the sender reports them), UDP's datagrams. Every test runs under both
// counting tiers: netfilter, and cgroup_skb egress with the netfilter hooks
// turned off.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <thread>
#include <tuple>

#include "common/unique_fd.h"
#include "counting_tier.h"
#include "daemon.h"
#include "in_netns.h"
#include "netns.h"
#include "nft_counter.h"
#include "process.h"
#include "socket_address.h"
#include "temp_dir.h"

namespace earshot::test::attribution_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr std::uint64_t kTcpBytes = 1 << 20;
constexpr std::uint64_t kDatagrams = 100;
constexpr std::uint64_t kDatagramSize = 1024;
constexpr const char* kBytes = "earshot_egress_bytes_total";
constexpr const char* kPayload = "earshot_egress_payload_bytes_total";
constexpr const char* kPackets = "earshot_egress_packets_total";
constexpr const char* kUnattributed = "earshot_unattributed_egress_bytes_total";
constexpr const char* kUnaccounted = "earshot_unaccounted_egress_bytes_total";
// Long enough for several 200 ms harvests to see the process alive.
constexpr const char* kLingerMs = "1500";

// Raw addresses as destination labels (no CIDR names), only the namespace
// the test made counted besides the daemon's own, no sysfs devices.
std::string daemon_config(const std::string& netns_path, CountingTier tier) {
  return "harvest:\n  interval: 200ms\n"
         "destinations: []\n"
         "network:\n  namespaces: [\"" +
         netns_path +
         "\"]\n"
         "capture:\n  sysfs: false\n" +
         tier_config(tier);
}

// 10.199.3.2 -> 10.199.3.<last>; fd00:199:3::2 -> fd00:199:3::<last>.
std::string with_last_part(const std::string& address, const std::string& last) {
  std::size_t cut = address.find_last_of(".:");
  return address.substr(0, cut + 1) + last;
}

// A second address on B's interface beside `address` (B's own, of either
// family), ending in .3 or ::3; returned.
std::string add_second_address(const NetnsPair& pair, const std::string& address) {
  const bool ipv4 = address.find(':') == std::string::npos;
  const std::string second = with_last_part(address, "3");
  std::vector<std::string> add{
      "ip", "addr", "add", second + (ipv4 ? "/24" : "/64"), "dev", pair.b().interface};
  if (!ipv4) add.push_back("nodad");
  check_command(add, {.netns_path = pair.b().path});
  return second;
}

// Polls /metrics until the watched values are non-zero and have not moved
// for a second (five harvests). Returns the last scrape; fails the test on
// timeout.
MetricsScrape wait_until_settled(DaemonProcess& daemon,
                                 const std::vector<std::pair<std::string, Labels>>& watched) {
  std::vector<double> previous;
  auto unchanged_since = std::chrono::steady_clock::now();
  auto deadline = unchanged_since + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    MetricsScrape scrape = daemon.scrape();
    std::vector<double> now;
    bool all_nonzero = true;
    for (const auto& [name, matchers] : watched) {
      now.push_back(scrape.sum(name, matchers));
      all_nonzero = all_nonzero && now.back() > 0;
    }
    if (now != previous || !all_nonzero) {
      previous = now;
      unchanged_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - unchanged_since >= 1s) {
      return scrape;
    }
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "metrics did not settle within 30 s; daemon log:\n" << daemon.log();
  return daemon.scrape();
}

// What tcp-send reports it retransmitted ("retransmitted_bytes=N"), which
// left as payload a second time.
std::uint64_t retransmitted_bytes(const ChildProcess& sender) {
  const std::string out = sender.stdout_text();
  const std::string key = "retransmitted_bytes=";
  const std::size_t at = out.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << sender.command() << " reported no retransmitted bytes: " << out;
    return 0;
  }
  return std::stoull(out.substr(at + key.size()));
}

void report(const std::string& key, const std::string& value) {
  ::testing::Test::RecordProperty(key, value);
  std::cout << key << " = " << value << std::endl;
}

std::string ratio_text(double part, double whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.5f", whole > 0 ? part / whole : 0.0);
  return text;
}

class KernelLaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::needed)) GTEST_SKIP() << *reason;
  }
};

// The daemon counting namespace A of `pair` under `tier`, checked to count
// with that tier.
std::unique_ptr<DaemonProcess> start_daemon(const NetnsPair& pair, CountingTier tier) {
  auto daemon = std::make_unique<DaemonProcess>(
      DaemonOptions{.binary = kDaemon, .config_yaml = daemon_config(pair.a().path, tier)});
  expect_counting_tier(*daemon, tier);
  return daemon;
}

class AttributionTest : public KernelLaneTest, public ::testing::WithParamInterface<CountingTier> {
 protected:
  CountingTier tier() const { return GetParam(); }
};

std::string tier_test_name(const ::testing::TestParamInfo<CountingTier>& info) {
  return tier_name(info.param);
}

struct Flow {
  L4Protocol protocol;
  IpFamily family;
  std::uint16_t port;
  std::string destination;
};

struct Program {
  std::string name;
  std::vector<Flow> flows;
  std::vector<std::string> destinations() const {
    std::vector<std::string> all;
    for (const auto& flow : flows) all.push_back(flow.destination);
    return all;
  }
};

TEST_P(AttributionTest, TwoProgramsSendingAtOnceAreEachCreditedWithTheirOwnBytes) {
  NetnsPair pair;
  // A second address pair on B, so the two programs' destinations differ
  // and the destination label shows who was charged for which flow.
  const std::string b_ipv4_udp = add_second_address(pair, pair.b().ipv4);
  const std::string b_ipv6_udp = add_second_address(pair, pair.b().ipv6);

  const std::vector<Program> programs = {
      {"es-tcp-sender",
       {{L4Protocol::tcp, IpFamily::ipv4, 5101, pair.b().ipv4},
        {L4Protocol::tcp, IpFamily::ipv6, 5102, pair.b().ipv6}}},
      {"es-udp-sender",
       {{L4Protocol::udp, IpFamily::ipv4, 5103, b_ipv4_udp},
        {L4Protocol::udp, IpFamily::ipv6, 5104, b_ipv6_udp}}},
  };
  NftCounter nft(pair.a().path);
  for (const auto& program : programs) {
    for (const auto& flow : program.flows) {
      nft.count_destination_port(flow.protocol, flow.port, flow.family);
    }
  }

  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;
  const double unattributed_before = daemon.scrape().sum(kUnattributed);

  TempDir dir("earshot-attribution");
  const std::string go = dir.file("go");
  std::vector<ChildProcess> sinks;
  std::vector<ChildProcess> senders;
  for (const auto& program : programs) {
    const std::string executable = dir.copy_executable(kTool, program.name);
    for (const auto& flow : program.flows) {
      const std::string port = std::to_string(flow.port);
      const std::string family = flow.family == IpFamily::ipv4 ? "4" : "6";
      std::vector<std::string> sink{kTool};
      std::vector<std::string> sender{executable, "--wait-file", go, "--linger-ms", kLingerMs};
      if (flow.protocol == L4Protocol::tcp) {
        sink.insert(sink.end(), {"tcp-sink", port, "--family", family});
        sender.insert(sender.end(),
                      {"tcp-send", flow.destination, port, std::to_string(kTcpBytes)});
      } else {
        sink.insert(sink.end(), {"udp-sink", port, std::to_string(kDatagrams), "--family", family,
                                 "--timeout-ms", "20000"});
        sender.insert(sender.end(), {"udp-send", flow.destination, port, std::to_string(kDatagrams),
                                     std::to_string(kDatagramSize), "1"});
      }
      sinks.emplace_back(sink, ChildOptions{.netns_path = pair.b().path});
      ASSERT_TRUE(sinks.back().wait_for_output("ready", 10s)) << sinks.back().stderr_text();
      senders.emplace_back(sender, ChildOptions{.netns_path = pair.a().path});
    }
  }
  for (auto& sender : senders) {
    ASSERT_TRUE(sender.wait_for_output("ready", 10s)) << sender.stderr_text();
  }
  dir.write_file("go", "");  // all four flows start together
  for (auto& sender : senders) {
    EXPECT_EQ(sender.wait(40s), 0) << sender.command() << ": " << sender.stderr_text();
  }
  for (auto& sink : sinks) {
    EXPECT_EQ(sink.wait(40s), 0) << sink.command() << ": " << sink.stderr_text();
  }
  // The payload each flow's destination must be credited with, in the
  // senders' order: TCP's bytes written (and any sent again), UDP's datagrams.
  std::map<std::string, double> payload_to;
  {
    auto sender = senders.begin();
    for (const auto& program : programs) {
      for (const auto& flow : program.flows) {
        payload_to[flow.destination] =
            flow.protocol == L4Protocol::tcp
                ? static_cast<double>(kTcpBytes + retransmitted_bytes(*sender))
                : static_cast<double>(kDatagrams * kDatagramSize);
        ++sender;
      }
    }
  }

  std::vector<std::pair<std::string, Labels>> watched;
  for (const auto& program : programs) watched.push_back({kBytes, {{"process", program.name}}});
  MetricsScrape scrape = wait_until_settled(daemon, watched);

  double all_nft_bytes = 0;
  for (const auto& program : programs) {
    const Program& other = &program == &programs[0] ? programs[1] : programs[0];
    double nft_bytes = 0;
    for (const auto& flow : program.flows) {
      nft_bytes +=
          static_cast<double>(nft.destination_port(flow.protocol, flow.port, flow.family).bytes);
    }
    all_nft_bytes += nft_bytes;
    double earshot_bytes = scrape.sum(kBytes, {{"process", program.name}});
    double own_destinations = 0;
    double other_to_these = 0;
    for (const auto& destination : program.destinations()) {
      own_destinations +=
          scrape.sum(kBytes, {{"process", program.name}, {"destination", destination}});
      other_to_these += scrape.sum(kBytes, {{"process", other.name}, {"destination", destination}});
    }
    report(program.name + ".nft_bytes", std::to_string(static_cast<std::uint64_t>(nft_bytes)));
    report(program.name + ".earshot_bytes",
           std::to_string(static_cast<std::uint64_t>(earshot_bytes)));
    report(program.name + ".ratio", ratio_text(earshot_bytes, nft_bytes));
    report(program.name + ".charged_to_" + other.name,
           std::to_string(static_cast<std::uint64_t>(other_to_these)) + " (" +
               ratio_text(other_to_these, nft_bytes) + ")");
    SCOPED_TRACE(program.name);
    ASSERT_GT(nft_bytes, 0) << "nft saw none of this program's traffic";
    EXPECT_GE(own_destinations, 0.99 * nft_bytes) << daemon.log();
    EXPECT_GE(earshot_bytes, 0.99 * nft_bytes);
    EXPECT_LE(earshot_bytes, 1.01 * nft_bytes);
    EXPECT_LT(other_to_these, 0.01 * nft_bytes);
    // Payload, per destination (TCP and UDP over IPv4 and IPv6): exactly
    // what was written, none of it charged to the other program.
    for (const auto& destination : program.destinations()) {
      const double payload =
          scrape.sum(kPayload, {{"process", program.name}, {"destination", destination}});
      report(program.name + ".payload_to_" + destination,
             std::to_string(static_cast<std::uint64_t>(payload)) + " of " +
                 std::to_string(static_cast<std::uint64_t>(payload_to[destination])));
      EXPECT_EQ(payload, payload_to[destination]) << destination << "\n" << scrape.text(kPayload);
      EXPECT_EQ(scrape.sum(kPayload, {{"process", other.name}, {"destination", destination}}), 0)
          << destination;
    }
  }

  // Whatever had no owner while the flows ran (a TIME_WAIT ACK, neighbour
  // discovery, other work on this machine) stays a small fraction.
  const double unattributed = scrape.sum(kUnattributed) - unattributed_before;
  report("unattributed_bytes_during_flows",
         std::to_string(static_cast<std::uint64_t>(unattributed)) + " (" +
             ratio_text(unattributed, all_nft_bytes) + ")");
  EXPECT_TRUE(scrape.has(kUnattributed)) << "the unattributed bucket is not exported";
  EXPECT_LT(unattributed, 0.01 * all_nft_bytes);
  // Nothing was evicted, so every byte the kernel saw (totals, socket slots
  // and retired slots) is in a series: a double count would show up here.
  EXPECT_EQ(scrape.sum(kUnaccounted), 0) << daemon.log();
  // A clean stop (under the asan build: no sanitizer report either).
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_P(AttributionTest, SocketConnectedBeforeTheDaemonStartedIsStillAttributed) {
  NetnsPair pair;
  NftCounter nft(pair.a().path);
  constexpr std::uint16_t kPort = 5201;
  nft.count_destination_port(L4Protocol::tcp, kPort);

  TempDir dir("earshot-attribution");
  const std::string go = dir.file("go");
  const std::string executable = dir.copy_executable(kTool, "es-early-sender");
  ChildProcess sink({kTool, "tcp-sink", std::to_string(kPort), "--family", "4"},
                    {.netns_path = pair.b().path});
  ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  // Connects now (its "ready"), sends only once `go` exists.
  ChildProcess sender({executable, "--wait-file", go, "--linger-ms", kLingerMs, "tcp-send",
                       pair.b().ipv4, std::to_string(kPort), std::to_string(kTcpBytes)},
                      {.netns_path = pair.a().path});
  ASSERT_TRUE(sender.wait_for_output("ready", 10s)) << sender.stderr_text();

  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;
  // The handshake happened before earshot could see it: compare only what
  // left after the daemon was up.
  const std::uint64_t nft_before = nft.destination_port(L4Protocol::tcp, kPort).bytes;
  dir.write_file("go", "");
  EXPECT_EQ(sender.wait(40s), 0) << sender.stderr_text();
  EXPECT_EQ(sink.wait(40s), 0) << sink.stderr_text();

  MetricsScrape scrape = wait_until_settled(daemon, {{kBytes, {{"process", "es-early-sender"}}}});
  const double nft_bytes =
      static_cast<double>(nft.destination_port(L4Protocol::tcp, kPort).bytes - nft_before);
  const double earshot_bytes = scrape.sum(kBytes, {{"process", "es-early-sender"}});
  report("es-early-sender.nft_bytes_after_start",
         std::to_string(static_cast<std::uint64_t>(nft_bytes)));
  report("es-early-sender.earshot_bytes",
         std::to_string(static_cast<std::uint64_t>(earshot_bytes)));
  report("es-early-sender.ratio", ratio_text(earshot_bytes, nft_bytes));
  ASSERT_GE(nft_bytes, static_cast<double>(kTcpBytes));
  EXPECT_GE(earshot_bytes, 0.99 * nft_bytes) << daemon.log();
  EXPECT_LE(earshot_bytes, 1.01 * nft_bytes);
  // All of its payload left after the daemon started.
  EXPECT_EQ(scrape.sum(kPayload, {{"process", "es-early-sender"}}),
            static_cast<double>(kTcpBytes + retransmitted_bytes(sender)))
      << scrape.text(kPayload);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// A server's replies leave on the socket accept() returned, which no
// socket() call created: its owner comes from fexit_accept, or on kernels
// without BTF trampolines (as here) from the netfilter program, which names
// the process holding the socket when the first reply leaves.
TEST_P(AttributionTest, BytesOnAnAcceptedConnectionAreTheAcceptingProcesss) {
  NetnsPair pair;
  constexpr std::uint16_t kPort = 5202;
  constexpr std::uint64_t kReplyBytes = 1 << 20;
  NftCounter nft(pair.a().path);
  nft.count_source_port(L4Protocol::tcp, kPort, IpFamily::ipv4);

  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;
  const double unattributed_before = daemon.scrape().sum(kUnattributed);
  TempDir dir("earshot-attribution");
  const std::string server = dir.copy_executable(kTool, "es-acceptor");
  ChildProcess sink({server, "--linger-ms", kLingerMs, "tcp-sink", std::to_string(kPort),
                     "--family", "4", "--reply", std::to_string(kReplyBytes)},
                    {.netns_path = pair.a().path});
  ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  ChildProcess client({kTool, "tcp-send", pair.a().ipv4, std::to_string(kPort), "1"},
                      {.netns_path = pair.b().path});
  EXPECT_EQ(client.wait(40s), 0) << client.stderr_text();
  EXPECT_EQ(sink.wait(40s), 0) << sink.stderr_text();
  ASSERT_NE(sink.stdout_text().find("replied_bytes=" + std::to_string(kReplyBytes)),
            std::string::npos)
      << sink.stdout_text();

  MetricsScrape scrape = wait_until_settled(daemon, {{kBytes, {{"process", "es-acceptor"}}}});
  const double nft_bytes =
      static_cast<double>(nft.source_port(L4Protocol::tcp, kPort, IpFamily::ipv4).bytes);
  const double earshot_bytes = scrape.sum(kBytes, {{"process", "es-acceptor"}});
  const double unattributed = scrape.sum(kUnattributed) - unattributed_before;
  report("es-acceptor.nft_bytes", std::to_string(static_cast<std::uint64_t>(nft_bytes)));
  report("es-acceptor.earshot_bytes", std::to_string(static_cast<std::uint64_t>(earshot_bytes)));
  report("es-acceptor.ratio", ratio_text(earshot_bytes, nft_bytes));
  ASSERT_GE(nft_bytes, static_cast<double>(kReplyBytes));
  EXPECT_GE(earshot_bytes, 0.99 * nft_bytes) << daemon.log();
  EXPECT_LE(earshot_bytes, 1.01 * nft_bytes);
  EXPECT_LT(unattributed, 0.01 * nft_bytes);
  // The reply, and whatever of it TCP sent again after close (the sink
  // cannot report that): a hair more at most.
  const double payload = scrape.sum(kPayload, {{"process", "es-acceptor"}});
  report("es-acceptor.payload", std::to_string(static_cast<std::uint64_t>(payload)));
  EXPECT_GE(payload, static_cast<double>(kReplyBytes)) << scrape.text(kPayload);
  EXPECT_LE(payload, 1.01 * kReplyBytes) << scrape.text(kPayload);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// A download sends nothing but acknowledgements: bytes (52 or 72 a packet,
// headers with TCP timestamps) that are no upload. The downloader in A
// writes nothing and reads what the sinks in B send it, over IPv4 and IPv6
// at once: its bytes are what nftables counted, its payload exactly none.
TEST_P(AttributionTest, DownloadsAcknowledgementsAreBytesWithoutPayload) {
  NetnsPair pair;
  constexpr std::uint64_t kDownloadBytes = 16 << 20;
  const std::vector<Flow> flows = {{L4Protocol::tcp, IpFamily::ipv4, 5203, pair.b().ipv4},
                                   {L4Protocol::tcp, IpFamily::ipv6, 5204, pair.b().ipv6}};
  NftCounter nft(pair.a().path);
  for (const auto& flow : flows) nft.count_destination_port(flow.protocol, flow.port, flow.family);

  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;
  TempDir dir("earshot-attribution");
  const std::string downloader = dir.copy_executable(kTool, "es-downloader");
  std::vector<ChildProcess> sinks;
  std::vector<ChildProcess> clients;
  for (const auto& flow : flows) {
    const std::string port = std::to_string(flow.port);
    sinks.emplace_back(std::vector<std::string>{kTool, "tcp-sink", port, "--family",
                                                flow.family == IpFamily::ipv4 ? "4" : "6",
                                                "--reply", std::to_string(kDownloadBytes)},
                       ChildOptions{.netns_path = pair.b().path});
    ASSERT_TRUE(sinks.back().wait_for_output("ready", 10s)) << sinks.back().stderr_text();
    // Writes nothing, shuts its side down, reads to the end.
    clients.emplace_back(std::vector<std::string>{downloader, "--linger-ms", kLingerMs, "tcp-send",
                                                  flow.destination, port, "0"},
                         ChildOptions{.netns_path = pair.a().path});
  }
  for (auto& client : clients) {
    EXPECT_EQ(client.wait(40s), 0) << client.command() << ": " << client.stderr_text();
    EXPECT_EQ(retransmitted_bytes(client), 0u) << "no payload, so none sent again";
  }
  for (auto& sink : sinks) {
    EXPECT_EQ(sink.wait(40s), 0) << sink.command() << ": " << sink.stderr_text();
    EXPECT_NE(sink.stdout_text().find("replied_bytes=" + std::to_string(kDownloadBytes)),
              std::string::npos)
        << sink.stdout_text();
  }

  MetricsScrape scrape = wait_until_settled(daemon, {{kBytes, {{"process", "es-downloader"}}}});
  for (const auto& flow : flows) {
    SCOPED_TRACE(flow.destination);
    const NftCount nft_count = nft.destination_port(flow.protocol, flow.port, flow.family);
    const Labels labels{{"process", "es-downloader"}, {"destination", flow.destination}};
    const double bytes = scrape.sum(kBytes, labels);
    const double packets = scrape.sum(kPackets, labels);
    const double payload = scrape.sum(kPayload, labels);
    report("es-downloader." + flow.destination,
           "nft_bytes=" + std::to_string(nft_count.bytes) +
               " nft_packets=" + std::to_string(nft_count.packets) +
               " bytes=" + std::to_string(static_cast<std::uint64_t>(bytes)) +
               " packets=" + std::to_string(static_cast<std::uint64_t>(packets)) +
               " payload=" + std::to_string(static_cast<std::uint64_t>(payload)));
    // Every acknowledgement is counted, as bytes...
    ASSERT_GE(nft_count.packets, 20u) << "too few acknowledgements to tell anything";
    EXPECT_EQ(packets, static_cast<double>(nft_count.packets)) << daemon.log();
    EXPECT_EQ(bytes, static_cast<double>(nft_count.bytes));
    // ...and none of them as payload.
    EXPECT_TRUE(scrape.has(kPayload, labels)) << scrape.text(kPayload);
    EXPECT_EQ(payload, 0) << scrape.text(kPayload);
  }
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// A connected UDP socket that connects somewhere else keeps its cookie: its
// slot still names the first destination, so the second one's packets must
// not be counted there (they go to the flows map, under their own label).
TEST_P(AttributionTest, ConnectedUdpSocketThatReconnectsIsCountedPerDestination) {
  NetnsPair pair;
  const std::string first = pair.b().ipv4;
  const std::string second = add_second_address(pair, first);
  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;

  constexpr int kEach = 10;
  constexpr std::size_t kFirstSize = 500, kSecondSize = 700;
  // Receivers, so no port-unreachable error comes back to the sender.
  ChildProcess first_sink({kTool, "udp-sink", "9601", std::to_string(kEach), "--family", "4"},
                          {.netns_path = pair.b().path});
  ChildProcess second_sink({kTool, "udp-sink", "9602", std::to_string(kEach), "--family", "4"},
                           {.netns_path = pair.b().path});
  ASSERT_TRUE(first_sink.wait_for_output("ready", 10s)) << first_sink.stderr_text();
  ASSERT_TRUE(second_sink.wait_for_output("ready", 10s)) << second_sink.stderr_text();
  run_in_netns(pair.a().path, [&] {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd) << std::strerror(errno);
    auto connect_to = [&](const std::string& address, std::uint16_t port) {
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(port);
      ASSERT_EQ(::inet_pton(AF_INET, address.c_str(), &to.sin_addr), 1);
      ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0)
          << std::strerror(errno);
    };
    auto send_each = [&](std::size_t size) {
      std::vector<char> payload(size, 'x');
      for (int i = 0; i < kEach; ++i)
        ASSERT_EQ(::send(fd.get(), payload.data(), payload.size(), 0), static_cast<ssize_t>(size))
            << std::strerror(errno);
    };
    connect_to(first, 9601);
    send_each(kFirstSize);
    connect_to(second, 9602);
    send_each(kSecondSize);
  });

  EXPECT_EQ(first_sink.wait(10s), 0) << first_sink.stderr_text();
  EXPECT_EQ(second_sink.wait(10s), 0) << second_sink.stderr_text();

  // skb->len at LOCAL_OUT: payload, UDP header (8) and IPv4 header (20).
  const double first_bytes = kEach * (kFirstSize + 28), second_bytes = kEach * (kSecondSize + 28);
  MetricsScrape scrape = wait_until_settled(
      daemon, {{kBytes, {{"destination", first}}}, {kBytes, {{"destination", second}}}});
  EXPECT_EQ(scrape.sum(kBytes, {{"destination", first}}), first_bytes) << daemon.log();
  EXPECT_EQ(scrape.sum(kBytes, {{"destination", second}}), second_bytes) << daemon.log();
  // The slot's payload and the flows map's.
  EXPECT_EQ(scrape.sum(kPayload, {{"destination", first}}), kEach * kFirstSize);
  EXPECT_EQ(scrape.sum(kPayload, {{"destination", second}}), kEach * kSecondSize);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// sendto() on a connected UDP socket sends to the address it names (Linux
// ignores the connection for that datagram). Those packets must be counted
// under the address they went to, or a program could hide an upload behind
// a connection to a harmless host. Two sockets: one whose packets already
// have a slot when it first sends elsewhere, one that sends elsewhere first.
class ConnectedUdpSendtoTest
    : public KernelLaneTest,
      public ::testing::WithParamInterface<std::tuple<CountingTier, std::string>> {
 protected:
  CountingTier tier() const { return std::get<0>(GetParam()); }
  bool ipv4() const { return std::get<1>(GetParam()) == "IPv4"; }
};

TEST_P(ConnectedUdpSendtoTest, DatagramsSentToAnotherAddressAreCountedThere) {
  NetnsPair pair;
  const bool ipv4 = this->ipv4();
  const std::string connected = ipv4 ? pair.b().ipv4 : pair.b().ipv6;
  const std::string elsewhere = add_second_address(pair, connected);
  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;

  constexpr std::uint16_t kConnectedPort = 9611, kElsewherePort = 9612;
  constexpr int kEach = 10;
  const std::string family = ipv4 ? "4" : "6";
  ChildProcess connected_sink({kTool, "udp-sink", std::to_string(kConnectedPort),
                               std::to_string(3 * kEach), "--family", family},
                              {.netns_path = pair.b().path});
  ChildProcess elsewhere_sink({kTool, "udp-sink", std::to_string(kElsewherePort),
                               std::to_string(2 * kEach), "--family", family},
                              {.netns_path = pair.b().path});
  ASSERT_TRUE(connected_sink.wait_for_output("ready", 10s)) << connected_sink.stderr_text();
  ASSERT_TRUE(elsewhere_sink.wait_for_output("ready", 10s)) << elsewhere_sink.stderr_text();
  const traffic::SocketAddress to_connected =
      traffic::parse_socket_address(connected, kConnectedPort);
  const traffic::SocketAddress to_elsewhere =
      traffic::parse_socket_address(elsewhere, kElsewherePort);
  run_in_netns(pair.a().path, [&] {
    auto connected_socket = [&] {
      UniqueFd fd(::socket(to_connected.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
      EXPECT_TRUE(fd) << std::strerror(errno);
      EXPECT_EQ(::connect(fd.get(), to_connected.get(), to_connected.length), 0)
          << std::strerror(errno);
      return fd;
    };
    auto send_each = [&](const UniqueFd& fd, std::size_t size, const traffic::SocketAddress* to) {
      std::vector<char> payload(size, 'x');
      for (int i = 0; i < kEach; ++i) {
        ssize_t sent = to ? ::sendto(fd.get(), payload.data(), size, 0, to->get(), to->length)
                          : ::send(fd.get(), payload.data(), size, 0);
        ASSERT_EQ(sent, static_cast<ssize_t>(size)) << std::strerror(errno);
      }
    };
    UniqueFd slot_first = connected_socket();
    send_each(slot_first, 500, nullptr);
    send_each(slot_first, 700, &to_elsewhere);
    send_each(slot_first, 300, nullptr);
    UniqueFd elsewhere_first = connected_socket();
    send_each(elsewhere_first, 200, &to_elsewhere);
    send_each(elsewhere_first, 100, nullptr);
  });
  EXPECT_EQ(connected_sink.wait(10s), 0) << connected_sink.stderr_text();
  EXPECT_EQ(elsewhere_sink.wait(10s), 0) << elsewhere_sink.stderr_text();

  // skb->len at LOCAL_OUT: payload, UDP header and IP header.
  const double headers = ipv4 ? 28 : 48;
  const double connected_bytes = kEach * (500 + 300 + 100 + 3 * headers);
  const double elsewhere_bytes = kEach * (700 + 200 + 2 * headers);
  MetricsScrape scrape = wait_until_settled(
      daemon, {{kBytes, {{"destination", connected}}}, {kBytes, {{"destination", elsewhere}}}});
  EXPECT_EQ(scrape.sum(kBytes, {{"destination", elsewhere}}), elsewhere_bytes)
      << scrape.text(kBytes) << daemon.log();
  EXPECT_EQ(scrape.sum(kBytes, {{"destination", connected}}), connected_bytes)
      << scrape.text(kBytes);
  // Payload from the packet (the flows map) and from the socket (its slot).
  EXPECT_EQ(scrape.sum(kPayload, {{"destination", elsewhere}}), kEach * (700 + 200))
      << scrape.text(kPayload);
  EXPECT_EQ(scrape.sum(kPayload, {{"destination", connected}}), kEach * (500 + 300 + 100))
      << scrape.text(kPayload);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

std::string tier_family_name(
    const ::testing::TestParamInfo<std::tuple<CountingTier, std::string>>& info) {
  return tier_name(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
}

INSTANTIATE_TEST_SUITE_P(Tiers, AttributionTest,
                         ::testing::Values(CountingTier::netfilter, CountingTier::cgroup_skb),
                         tier_test_name);

INSTANTIATE_TEST_SUITE_P(TiersAndFamilies, ConnectedUdpSendtoTest,
                         ::testing::Combine(::testing::Values(CountingTier::netfilter,
                                                              CountingTier::cgroup_skb),
                                            ::testing::Values("IPv4", "IPv6")),
                         tier_family_name);

// Raw and ping sockets send wherever sendto() says, or their IP header if
// they write it, whatever they are connected to; connect() still gives them
// the port it was passed. Their packets must be counted by the packet's
// destination, not the socket's.
class ConnectedRawSocketTest
    : public KernelLaneTest,
      public ::testing::WithParamInterface<std::tuple<CountingTier, std::string>> {
 protected:
  CountingTier tier() const { return std::get<0>(GetParam()); }
  bool ipv4() const { return std::get<1>(GetParam()) == "IPv4"; }
};

TEST_P(ConnectedRawSocketTest, PacketsSentToAnotherAddressAreCountedThere) {
  NetnsPair pair;
  const bool ipv4 = this->ipv4();
  const std::string connected = ipv4 ? pair.b().ipv4 : pair.b().ipv6;
  const std::string elsewhere = add_second_address(pair, connected);
  auto started = start_daemon(pair, tier());
  DaemonProcess& daemon = *started;

  constexpr int kEach = 10;
  constexpr std::size_t kConnectedSize = 400, kElsewhereSize = 600;
  // A non-zero port is what makes the socket look connected (skc_dport);
  // raw IPv6 takes it for the protocol, so the protocol's number.
  const int protocol = ipv4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  const traffic::SocketAddress to_connected = traffic::parse_socket_address(connected, protocol);
  const traffic::SocketAddress to_elsewhere = traffic::parse_socket_address(elsewhere, protocol);
  run_in_netns(pair.a().path, [&] {
    UniqueFd fd(::socket(to_connected.family(), SOCK_RAW | SOCK_CLOEXEC, protocol));
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_EQ(::connect(fd.get(), to_connected.get(), to_connected.length), 0)
        << std::strerror(errno);
    auto send_each = [&](std::size_t size, const traffic::SocketAddress* to) {
      std::vector<unsigned char> echo(size, 0);
      echo[0] = ipv4 ? 8 : 128;  // an echo request
      for (int i = 0; i < kEach; ++i) {
        ssize_t sent = to ? ::sendto(fd.get(), echo.data(), size, 0, to->get(), to->length)
                          : ::send(fd.get(), echo.data(), size, 0);
        ASSERT_EQ(sent, static_cast<ssize_t>(size)) << std::strerror(errno);
      }
    };
    send_each(kConnectedSize, nullptr);
    send_each(kElsewhereSize, &to_elsewhere);
  });

  const double header = ipv4 ? 20 : 40;
  MetricsScrape scrape = wait_until_settled(
      daemon, {{kBytes, {{"destination", connected}}}, {kBytes, {{"destination", elsewhere}}}});
  EXPECT_EQ(scrape.sum(kBytes, {{"destination", elsewhere}}), kEach * (kElsewhereSize + header))
      << scrape.text(kBytes) << daemon.log();
  EXPECT_EQ(scrape.sum(kBytes, {{"destination", connected}}), kEach * (kConnectedSize + header))
      << scrape.text(kBytes);
  // Neither TCP nor UDP: no payload, but a series that says so.
  for (const auto& destination : {connected, elsewhere}) {
    EXPECT_TRUE(scrape.has(kPayload, {{"destination", destination}})) << scrape.text(kPayload);
    EXPECT_EQ(scrape.sum(kPayload, {{"destination", destination}}), 0) << scrape.text(kPayload);
  }
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

INSTANTIATE_TEST_SUITE_P(TiersAndFamilies, ConnectedRawSocketTest,
                         ::testing::Combine(::testing::Values(CountingTier::netfilter,
                                                              CountingTier::cgroup_skb),
                                            ::testing::Values("IPv4", "IPv6")),
                         tier_family_name);

}  // namespace
}  // namespace earshot::test::attribution_test
