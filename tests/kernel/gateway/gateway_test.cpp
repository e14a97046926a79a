// Gateway mode: earshot on a masquerading gateway counts what each LAN
// device sends through it, per destination, named by the DNS answers the
// gateway forwarded and the device named from the config or a leases file,
// and what each device receives from each destination (TCP and UDP
// downloads, both families); within 1% of nftables counters in the
// gateway's forward chain, under both tiers (netfilter FORWARD, and tc
// ingress and egress of the LAN interfaces with DNS answers read at tc
// egress, the tier of kernels before 6.4/6.6). And upload bursts per
// device: one for a speaker's voice-shaped upload, none for its heartbeat
// or downloads, nor for another device's stream; one video-upload burst for
// a camera-like stream upstream, none for a QUIC video download's
// acknowledgements.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <thread>

#include "daemon.h"
#include "event_log.h"
#include "gateway_lab.h"
#include "gateway_tiers.h"
#include "in_netns.h"
#include "netns.h"
#include "nft_counter.h"
#include "poll_until.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test::gateway_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kResponder = EARSHOT_DNS_RESPONDER_BINARY;
constexpr const char* kSpeakerTool = EARSHOT_SPEAKER_BINARY;
constexpr const char* kUploadName = "upload.speaker.test";
constexpr const char* kSpeakerName = "kitchen-speaker";  // from the config
constexpr const char* kSecondName = "nest-mini";         // from the leases file

std::string daemon_config(GatewayTier tier, const std::string& leases,
                          const std::string& events = {}) {
  std::string config =
      "harvest:\n  interval: 200ms\n"
      "destinations: []\n"
      "capture:\n  sysfs: false\n"
      "gateway:\n"
      "  enabled: true\n"
      "  lan_interfaces: [lan1, lan2]\n"
      "  leases_file: " +
      leases +
      "\n"
      "  devices:\n"
      "    - {mac: \"" +
      std::string(GatewayLab::kSpeakerMac) + "\", name: " + kSpeakerName + "}\n";
  if (!events.empty()) config += "events:\n  file: \"" + events + "\"\n";
  return config + tier_config(tier);
}

class GatewayTest : public ::testing::TestWithParam<GatewayTier> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF and makes network namespaces";
    if (auto reason = NetnsPair::unavailable_reason()) GTEST_SKIP() << *reason;
  }
};

// One nft counter in the gateway's forward chain: what `mac` sent in
// through `lan` to `daddr`.
std::string count_device(NftCounter& nft, const std::string& key, const char* lan, const char* mac,
                         const std::string& daddr) {
  const bool v6 = daddr.find(':') != std::string::npos;
  return nft.count_matching(
      key, {"iifname", lan, "ether", "saddr", mac, v6 ? "ip6" : "ip", "daddr", daddr});
}

TEST_P(GatewayTest, EachDevicesBytesPerDestinationMatchNftOnTheGateway) {
  GatewayLab lab;
  TempDir dir;
  const std::string leases = dir.path() + "/dhcp.leases";
  {
    std::ofstream file(leases);
    file << "1999999999 " << GatewayLab::kSecondMac << " 192.168.72.10 " << kSecondName << " *\n";
  }
  NftCounter nft(lab.gateway.path, "", "forward");
  const std::string speaker4 = count_device(nft, "speaker_v4", GatewayLab::kSpeakerLan,
                                            GatewayLab::kSpeakerMac, GatewayLab::kServer4);
  const std::string speaker6 = count_device(nft, "speaker_v6", GatewayLab::kSpeakerLan,
                                            GatewayLab::kSpeakerMac, GatewayLab::kServer6);
  const std::string second4 = count_device(nft, "second_v4", GatewayLab::kSecondLan,
                                           GatewayLab::kSecondMac, GatewayLab::kServer4);

  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam(), leases),
                        .netns_path = lab.gateway.path});
  MetricsScrape scrape = scrape_in(daemon, lab.gateway);
  const bool forward = GetParam() == GatewayTier::netfilter_forward;
  if (forward && scrape.sum("earshot_hook_attached", {{"hook", "netfilter_forward_ipv4"}}) != 1)
    GTEST_SKIP() << "netfilter_forward_ipv4 did not attach (a kernel before 6.4):\n"
                 << scrape.text("earshot_hook_attached");
  for (const char* hook : {"netfilter_forward_ipv4", "netfilter_forward_ipv6"})
    ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", hook}}), forward ? 1 : 0)
        << hook << "\n"
        << scrape.text("earshot_hook_attached") << daemon.log();
  for (const char* hook : {"tc_gateway_ingress", "tc_gateway_lan_egress"})
    ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", hook}}), forward ? 0 : 1)
        << hook << "\n"
        << scrape.text("earshot_hook_attached") << daemon.log();
  if (!forward) {
    ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "tc_dns_lan_egress"}}), 1)
        << scrape.text("earshot_hook_attached") << daemon.log();
  }

  // The internet: a DNS server for the upload name, and sinks.
  ChildProcess responder(
      {kResponder, "serve", "--name", kUploadName, "--ipv4", GatewayLab::kServer4},
      {.netns_path = lab.internet.path});
  ASSERT_TRUE(responder.wait_for_output("ready", 10s)) << responder.stderr_text();
  ChildProcess upload_sink({kTool, "tcp-sink", "5001"}, {.netns_path = lab.internet.path});
  ChildProcess upload6_sink({kTool, "tcp-sink", "5004"}, {.netns_path = lab.internet.path});
  ChildProcess heartbeat_sink({kTool, "udp-sink", "5002", "20", "--timeout-ms", "30000"},
                              {.netns_path = lab.internet.path});
  ChildProcess download({kTool, "tcp-sink", "5003", "--reply", "1000000"},
                        {.netns_path = lab.internet.path});
  ChildProcess stream({kTool, "tcp-sink", "5005", "--reply", "4000000"},
                      {.netns_path = lab.internet.path});
  for (ChildProcess* sink : {&upload_sink, &upload6_sink, &heartbeat_sink, &download, &stream})
    ASSERT_TRUE(sink->wait_for_output("ready", 10s)) << sink->stderr_text();

  // The speaker looks the name up through the gateway (forwarded,
  // masqueraded), then uploads, beats, downloads; the second device streams.
  const std::string answer = check_command({kResponder, "query", GatewayLab::kServer4, kUploadName},
                                           {.netns_path = lab.speaker.path});
  ASSERT_NE(answer.find(GatewayLab::kServer4), std::string::npos) << answer;
  ChildProcess streaming({kTool, "tcp-send", GatewayLab::kServer4, "5005", "200"},
                         {.netns_path = lab.second.path});
  ChildProcess uploading({kTool, "tcp-send", GatewayLab::kServer4, "5001", "3000000"},
                         {.netns_path = lab.speaker.path});
  ChildProcess uploading6({kTool, "tcp-send", GatewayLab::kServer6, "5004", "500000"},
                          {.netns_path = lab.speaker.path});
  ChildProcess beating({kTool, "udp-send", GatewayLab::kServer4, "5002", "20", "120", "20"},
                       {.netns_path = lab.speaker.path});
  ChildProcess fetching({kTool, "tcp-send", GatewayLab::kServer4, "5003", "300"},
                        {.netns_path = lab.speaker.path});
  for (ChildProcess* client : {&streaming, &uploading, &uploading6, &beating, &fetching})
    ASSERT_EQ(client->wait(60s), 0) << client->stderr_text();
  for (ChildProcess* sink : {&upload_sink, &upload6_sink, &heartbeat_sink, &download, &stream})
    ASSERT_EQ(sink->wait(30s), 0) << sink->stderr_text();

  const NftCount truth_speaker4 = nft.read(speaker4);
  const NftCount truth_speaker6 = nft.read(speaker6);
  const NftCount truth_second4 = nft.read(second4);
  ASSERT_GT(truth_speaker4.bytes, 3'000'000u);
  ASSERT_GT(truth_speaker6.bytes, 500'000u);
  ASSERT_GT(truth_second4.packets, 20u);  // ACKs of a 4 MB stream (GRO: few)

  struct Expected {
    const char* device;
    std::string destination;
    NftCount truth;
  };
  const Expected expected[] = {
      {kSpeakerName, kUploadName, truth_speaker4},  // named by the forwarded answer
      {kSpeakerName, GatewayLab::kServer6, truth_speaker6},
      {kSecondName, kUploadName, truth_second4},
  };
  auto bytes_of = [&](const MetricsScrape& s, const Expected& e) {
    return s.sum("earshot_device_egress_bytes_total",
                 {{"device", e.device}, {"destination", e.destination}});
  };
  // Every harvest of the last packets in: until each series has at least
  // nft's count (or time is up; the 1% check below then says by how much).
  auto all_in = [&](const MetricsScrape& s) {
    for (const auto& e : expected)
      if (bytes_of(s, e) < static_cast<double>(e.truth.bytes)) return false;
    return true;
  };
  poll_until([&] { return all_in(scrape = scrape_in(daemon, lab.gateway)); }, 5s);
  for (const auto& e : expected) {
    const double counted = bytes_of(scrape, e);
    const double truth = static_cast<double>(e.truth.bytes);
    EXPECT_NEAR(counted, truth, 0.01 * truth)
        << e.device << " -> " << e.destination << "\n"
        << scrape.text("earshot_device_egress_bytes_total") << daemon.log();
    std::printf("[ accuracy ] %s %s -> %s: earshot %.0f B, nft %.0f B (%+.3f%%)\n",
                tier_name(GetParam()).c_str(), e.device, e.destination.c_str(), counted, truth,
                truth ? 100.0 * (counted - truth) / truth : 0.0);
    EXPECT_NEAR(scrape.sum("earshot_device_egress_packets_total",
                           {{"device", e.device}, {"destination", e.destination}}),
                static_cast<double>(e.truth.packets), 0.01 * static_cast<double>(e.truth.packets));
  }
  EXPECT_EQ(scrape.sum("earshot_device_egress_unaccounted_bytes_total"), 0);
  // Forwarded packets are the devices', not the gateway's processes'.
  EXPECT_EQ(scrape.sum("earshot_egress_bytes_total", {{"destination", kUploadName}}), 0)
      << scrape.text("earshot_egress_bytes_total");
}

// The speaker, on one connection to its cloud: a keep-alive every 3 s, a
// voice-shaped upload (4000 B/s for 5 s), then a 2 MB download; the second
// device streams a video-like download (its acknowledgements: a voice-like
// byte rate, no payload). Exactly one burst: the voice upload's, named by
// the device's configured name and the DNS name it looked up.
TEST_P(GatewayTest, OnlyAVoiceShapedUploadIsABurst) {
  GatewayLab lab;
  TempDir dir;
  const std::string leases = dir.path() + "/dhcp.leases";
  {
    std::ofstream file(leases);
    file << "1999999999 " << GatewayLab::kSecondMac << " 192.168.72.10 " << kSecondName << " *\n";
  }
  const std::string events = dir.path() + "/events.jsonl";
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam(), leases, events),
                        .netns_path = lab.gateway.path});
  MetricsScrape scrape = scrape_in(daemon, lab.gateway);
  if (auto missing = tier_missing(scrape, GetParam()); !missing.empty()) {
    if (GetParam() == GatewayTier::netfilter_forward) GTEST_SKIP() << missing;
    FAIL() << missing << daemon.log();
  }

  ChildProcess responder(
      {kResponder, "serve", "--name", kUploadName, "--ipv4", GatewayLab::kServer4},
      {.netns_path = lab.internet.path});
  ASSERT_TRUE(responder.wait_for_output("ready", 10s)) << responder.stderr_text();
  ChildProcess cloud({kSpeakerTool, "peer", "5101", "--proto", "tcp"},
                     {.netns_path = lab.internet.path});
  ChildProcess video({kSpeakerTool, "peer", "5102", "--proto", "tcp"},
                     {.netns_path = lab.internet.path});
  for (ChildProcess* peer : {&cloud, &video})
    ASSERT_TRUE(peer->wait_for_output("ready", 10s)) << peer->stderr_text();
  const std::string answer = check_command({kResponder, "query", GatewayLab::kServer4, kUploadName},
                                           {.netns_path = lab.speaker.path});
  ASSERT_NE(answer.find(GatewayLab::kServer4), std::string::npos) << answer;

  ChildProcess streaming(
      {kSpeakerTool, "listen", "--peer", GatewayLab::kServer4, "--port", "5102", "--proto", "tcp",
       "--seconds", "18", "--keepalive-ms", "0", "--download", "1:14:500000"},
      {.netns_path = lab.second.path});
  ChildProcess speaker(
      {kSpeakerTool, "listen", "--peer", GatewayLab::kServer4, "--port", "5101", "--proto", "tcp",
       "--seconds", "18", "--keepalive-ms", "3000", "--keepalive-size", "40", "--upload",
       "3:5:4000", "--download", "11:4:500000"},
      {.netns_path = lab.speaker.path});
  ASSERT_EQ(speaker.wait(60s), 0) << speaker.stderr_text();
  ASSERT_EQ(streaming.wait(60s), 0) << streaming.stderr_text();
  const std::string speaker_out = speaker.stdout_text();

  // A burst is reported three quiet seconds after it ends: the upload ended
  // 10 s before the speaker did, the downloads 3 s before. Wait a little
  // more for anything wrongly reported late.
  auto bursts_in_log = [&] {
    std::vector<nlohmann::json> out;
    for (const auto& line : select_events(read_event_lines(events), "session"))
      if (line.value("source", "") == "traffic") out.push_back(line);
    return out;
  };
  poll_until([&] { return !bursts_in_log().empty(); }, 10s);
  std::this_thread::sleep_for(3s);
  const auto bursts = bursts_in_log();
  ASSERT_EQ(bursts.size(), 1u) << nlohmann::json(bursts).dump(2) << "\nspeaker: " << speaker_out
                               << daemon.log();
  const nlohmann::json& burst = bursts[0];
  EXPECT_EQ(burst.value("device", ""), kSpeakerName) << burst.dump(2);
  EXPECT_EQ(burst.value("mac", ""), GatewayLab::kSpeakerMac) << burst.dump(2);
  EXPECT_EQ(burst.value("destination", ""), kUploadName) << burst.dump(2);
  EXPECT_EQ(burst.value("verdict", ""), "audio-upload") << burst.dump(2);
  EXPECT_NEAR(burst.value("seconds", 0.0), 5.0, 2.0) << burst.dump(2);
  // 20 kB of upload, and the frames and keep-alives around it.
  EXPECT_GE(burst.value("bytes", 0.0), 16'000) << burst.dump(2);
  EXPECT_LE(burst.value("bytes", 0.0), 26'000) << burst.dump(2);
  std::printf("[ burst ] %s %s -> %s: %.1f s, %.0f B\n", tier_name(GetParam()).c_str(),
              kSpeakerName, kUploadName, burst.value("seconds", 0.0), burst.value("bytes", 0.0));

  nlohmann::json sessions;
  run_in_netns(lab.gateway.path, [&] {
    sessions = nlohmann::json::parse(daemon.get("/api/sessions").body, nullptr, false);
  });
  ASSERT_TRUE(sessions.contains("traffic")) << sessions.dump(2);
  ASSERT_EQ(sessions["traffic"].size(), 1u) << sessions.dump(2);
  EXPECT_EQ(sessions["traffic"][0].value("device", ""), kSpeakerName);
  EXPECT_EQ(sessions["traffic"][0].value("destination", ""), kUploadName);

  scrape = scrape_in(daemon, lab.gateway);
  EXPECT_EQ(scrape.sum("earshot_device_upload_bursts_total"), 1)
      << scrape.text("earshot_device_upload_bursts_total");
  EXPECT_EQ(scrape.sum("earshot_device_upload_bursts_total", {{"device", kSpeakerName},
                                                              {"destination", kUploadName},
                                                              {"verdict", "audio-upload"},
                                                              {"allowed", "true"}}),
            1)
      << scrape.text("earshot_device_upload_bursts_total");
  // Payload, not bytes: the second device's stream is acknowledgements
  // (bytes, no payload) but for its one download request.
  const double second_bytes = scrape.sum("earshot_device_egress_bytes_total",
                                         {{"device", kSecondName}, {"destination", kUploadName}});
  const double second_payload = scrape.sum("earshot_device_egress_payload_bytes_total",
                                           {{"device", kSecondName}, {"destination", kUploadName}});
  EXPECT_GT(second_bytes, 1000) << scrape.text("earshot_device_egress_bytes_total");
  EXPECT_LT(second_payload, 100) << scrape.text("earshot_device_egress_payload_bytes_total");
  const double speaker_payload =
      scrape.sum("earshot_device_egress_payload_bytes_total",
                 {{"device", kSpeakerName}, {"destination", kUploadName}});
  EXPECT_GE(speaker_payload, 20'000) << scrape.text("earshot_device_egress_payload_bytes_total");
  EXPECT_LT(speaker_payload, scrape.sum("earshot_device_egress_bytes_total",
                                        {{"device", kSpeakerName}, {"destination", kUploadName}}));
  std::printf("[ payload ] %s %s: %.0f B payload of %.0f B; %s: %.0f B payload of %.0f B\n",
              tier_name(GetParam()).c_str(), kSpeakerName, speaker_payload,
              scrape.sum("earshot_device_egress_bytes_total",
                         {{"device", kSpeakerName}, {"destination", kUploadName}}),
              kSecondName, second_payload, second_bytes);
}

// What the speaker receives from each family's server: TCP downloads, then
// (once earshot has counted them) QUIC-like UDP ones. Each phase's growth
// of the speaker's ingress series against nft's counters of that protocol
// in the forward chain (what goes out to lan1 from the server to the
// speaker): packets within 1%, and payload within 1% of nft's bytes less
// the headers (IP's, and UDP's 8 or TCP's 32: the timestamps option, on by
// default, in every segment but the SYN-ACK, 8 bytes more).
TEST_P(GatewayTest, WhatEachDeviceReceivesPerDestinationMatchesNftOnTheGateway) {
  GatewayLab lab;
  NftCounter nft(lab.gateway.path, "", "forward");
  struct Expected {
    const char* protocol;
    std::string destination;
    std::uint32_t headers;  // IP and transport, per packet
    std::string key;
    NftCount truth;
    double packets_before = 0;  // earshot's counts before the phase
    double payload_before = 0;
  };
  Expected expected[] = {
      {"tcp", GatewayLab::kServer4, 20 + 32, "tcp_v4", {}},
      {"tcp", GatewayLab::kServer6, 40 + 32, "tcp_v6", {}},
      {"udp", GatewayLab::kServer4, 20 + 8, "udp_v4", {}},
      {"udp", GatewayLab::kServer6, 40 + 8, "udp_v6", {}},
  };
  for (const auto& e : expected) {
    const bool v6 = e.destination.find(':') != std::string::npos;
    nft.count_matching(e.key, {"oifname", GatewayLab::kSpeakerLan, v6 ? "ip6" : "ip", "saddr",
                               e.destination, v6 ? "ip6" : "ip", "daddr",
                               v6 ? "fd71::10" : "192.168.71.10", "meta", "l4proto", e.protocol});
  }

  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam(), "/nonexistent/leases"),
                        .netns_path = lab.gateway.path});
  MetricsScrape scrape = scrape_in(daemon, lab.gateway);
  if (auto missing = tier_missing(scrape, GetParam()); !missing.empty()) {
    if (GetParam() == GatewayTier::netfilter_forward) GTEST_SKIP() << missing;
    FAIL() << missing << daemon.log();
  }
  auto series = [&](const char* metric, const Expected& e) {
    return scrape.sum(metric, {{"device", kSpeakerName}, {"destination", e.destination}});
  };
  // Waits for the phase's last packets to be harvested, then checks them.
  auto check_phase = [&](std::span<Expected> phase) {
    for (auto& e : phase) e.truth = nft.read(e.key);
    poll_until(
        [&] {
          scrape = scrape_in(daemon, lab.gateway);
          for (const auto& e : phase)
            if (series("earshot_device_ingress_packets_total", e) - e.packets_before <
                static_cast<double>(e.truth.packets))
              return false;
          return true;
        },
        5s);
    for (const auto& e : phase) {
      const double packets = series("earshot_device_ingress_packets_total", e) - e.packets_before;
      const double payload =
          series("earshot_device_ingress_payload_bytes_total", e) - e.payload_before;
      const double truth_packets = static_cast<double>(e.truth.packets);
      const double truth_payload =
          static_cast<double>(e.truth.bytes) - truth_packets * static_cast<double>(e.headers);
      EXPECT_NEAR(packets, truth_packets, 0.01 * truth_packets)
          << e.key << "\n"
          << scrape.text("earshot_device_ingress_packets_total") << daemon.log();
      EXPECT_NEAR(payload, truth_payload, 0.01 * truth_payload)
          << e.key << "\n"
          << scrape.text("earshot_device_ingress_payload_bytes_total") << daemon.log();
      std::printf(
          "[ ingress ] %s %s <- %s: earshot %.0f packets, %.0f B payload; nft %.0f packets, "
          "%.0f B less headers (%+.3f%%)\n",
          tier_name(GetParam()).c_str(), e.key.c_str(), e.destination.c_str(), packets, payload,
          truth_packets, truth_payload,
          truth_payload ? 100.0 * (payload - truth_payload) / truth_payload : 0.0);
    }
  };

  ChildProcess tcp4({kTool, "tcp-sink", "5201", "--reply", "2000000"},
                    {.netns_path = lab.internet.path});
  ChildProcess tcp6({kTool, "tcp-sink", "5202", "--reply", "1000000"},
                    {.netns_path = lab.internet.path});
  ChildProcess quic({kSpeakerTool, "peer", "5203", "--proto", "quic"},
                    {.netns_path = lab.internet.path});
  for (ChildProcess* server : {&tcp4, &tcp6, &quic})
    ASSERT_TRUE(server->wait_for_output("ready", 10s)) << server->stderr_text();

  ChildProcess fetch4({kTool, "tcp-send", GatewayLab::kServer4, "5201", "200"},
                      {.netns_path = lab.speaker.path});
  ChildProcess fetch6({kTool, "tcp-send", GatewayLab::kServer6, "5202", "200"},
                      {.netns_path = lab.speaker.path});
  for (ChildProcess* client : {&fetch4, &fetch6})
    ASSERT_EQ(client->wait(60s), 0) << client->stderr_text();
  for (ChildProcess* server : {&tcp4, &tcp6})
    ASSERT_EQ(server->wait(30s), 0) << server->stderr_text();
  check_phase(std::span(expected, 2));
  ASSERT_GT(expected[0].truth.bytes, 2'000'000u);
  ASSERT_GT(expected[1].truth.bytes, 1'000'000u);
  // The download's direction stays apart: the speaker sent its request and
  // acknowledgements, little payload.
  EXPECT_LT(series("earshot_device_egress_payload_bytes_total", expected[0]), 1000)
      << scrape.text("earshot_device_egress_payload_bytes_total");

  for (auto& e : std::span(expected).subspan(2)) {
    e.packets_before = series("earshot_device_ingress_packets_total", e);
    e.payload_before = series("earshot_device_ingress_payload_bytes_total", e);
  }
  auto quic_download = [&](const char* server) {
    return ChildProcess(
        {kSpeakerTool, "listen", "--peer", server, "--port", "5203", "--proto", "quic", "--seconds",
         "5", "--keepalive-ms", "0", "--download", "0.5:3:300000"},
        {.netns_path = lab.speaker.path});
  };
  ChildProcess listen4 = quic_download(GatewayLab::kServer4);
  ChildProcess listen6 = quic_download(GatewayLab::kServer6);
  for (ChildProcess* client : {&listen4, &listen6})
    ASSERT_EQ(client->wait(60s), 0) << client->stderr_text();
  check_phase(std::span(expected).subspan(2));
  ASSERT_GT(expected[2].truth.bytes, 800'000u) << listen4.stdout_text();
  ASSERT_GT(expected[3].truth.bytes, 800'000u) << listen6.stdout_text();

  // Every packet to the speaker was matched to a pair it had sent to.
  EXPECT_EQ(scrape.sum("earshot_device_ingress_unmatched_packets_total"), 0)
      << scrape.text("earshot_device_ingress_unmatched_packets_total");

  // From one LAN device to another: the second device never sent to the
  // speaker, so what it receives from it is unmatched (counted, in no
  // series); then what the speaker receives back from it is in the
  // speaker's pair, in both tiers (tc egress counts what came in from
  // another LAN interface, as FORWARD does).
  constexpr const char* kSecond4 = "192.168.72.10";
  ChildProcess second_sink({kTool, "udp-sink", "5210", "20", "--timeout-ms", "20000"},
                           {.netns_path = lab.second.path});
  ASSERT_TRUE(second_sink.wait_for_output("ready", 10s)) << second_sink.stderr_text();
  check_command({kTool, "udp-send", kSecond4, "5210", "20", "100", "5"},
                {.netns_path = lab.speaker.path});
  ASSERT_EQ(second_sink.wait(30s), 0) << second_sink.stderr_text();
  ChildProcess speaker_sink({kTool, "udp-sink", "5211", "10", "--timeout-ms", "20000"},
                            {.netns_path = lab.speaker.path});
  ASSERT_TRUE(speaker_sink.wait_for_output("ready", 10s)) << speaker_sink.stderr_text();
  check_command({kTool, "udp-send", "192.168.71.10", "5211", "10", "300", "5"},
                {.netns_path = lab.second.path});
  ASSERT_EQ(speaker_sink.wait(30s), 0) << speaker_sink.stderr_text();
  const Labels from_second{{"device", kSpeakerName}, {"destination", kSecond4}};
  EXPECT_TRUE(poll_until(
      [&] {
        scrape = scrape_in(daemon, lab.gateway);
        return scrape.sum("earshot_device_ingress_unmatched_packets_total") >= 20 &&
               scrape.sum("earshot_device_ingress_packets_total", from_second) >= 10;
      },
      5s))
      << scrape.text("earshot_device_ingress_unmatched_packets_total")
      << scrape.text("earshot_device_ingress_packets_total") << daemon.log();
  EXPECT_EQ(scrape.sum("earshot_device_ingress_unmatched_packets_total"), 20);
  EXPECT_EQ(scrape.sum("earshot_device_ingress_unmatched_payload_bytes_total"), 20 * 100);
  EXPECT_EQ(scrape.sum("earshot_device_ingress_packets_total", from_second), 10);
  EXPECT_EQ(scrape.sum("earshot_device_ingress_payload_bytes_total", from_second), 10 * 300);
}

// The speaker streams camera-like video upstream (250 kB/s for 9 s in
// QUIC-like datagrams of at most 1200 bytes) while the second device
// downloads video at 1 MB/s the same way, acknowledging every second
// datagram with 28-52 bytes: a steady upload at a voice rate in voice-sized
// packets, to a gateway that did not count what came back. One burst, the
// speaker's, verdict video-upload.
TEST_P(GatewayTest, AVideoStreamUpstreamIsAVideoBurstAndAVideoDownloadIsNone) {
  GatewayLab lab;
  TempDir dir;
  const std::string leases = dir.path() + "/dhcp.leases";
  {
    std::ofstream file(leases);
    file << "1999999999 " << GatewayLab::kSecondMac << " 192.168.72.10 " << kSecondName << " *\n";
  }
  const std::string events = dir.path() + "/events.jsonl";
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam(), leases, events),
                        .netns_path = lab.gateway.path});
  MetricsScrape scrape = scrape_in(daemon, lab.gateway);
  if (auto missing = tier_missing(scrape, GetParam()); !missing.empty()) {
    if (GetParam() == GatewayTier::netfilter_forward) GTEST_SKIP() << missing;
    FAIL() << missing << daemon.log();
  }

  ChildProcess camera_peer({kSpeakerTool, "peer", "5301", "--proto", "quic"},
                           {.netns_path = lab.internet.path});
  ChildProcess video_peer({kSpeakerTool, "peer", "5302", "--proto", "quic"},
                          {.netns_path = lab.internet.path});
  for (ChildProcess* peer : {&camera_peer, &video_peer})
    ASSERT_TRUE(peer->wait_for_output("ready", 10s)) << peer->stderr_text();
  ChildProcess camera(
      {kSpeakerTool, "listen", "--peer", GatewayLab::kServer4, "--port", "5301", "--proto", "quic",
       "--seconds", "12", "--keepalive-ms", "0", "--video-upload", "1:9:250000"},
      {.netns_path = lab.speaker.path});
  ChildProcess watching(
      {kSpeakerTool, "listen", "--peer", GatewayLab::kServer4, "--port", "5302", "--proto", "quic",
       "--seconds", "12", "--keepalive-ms", "0", "--download", "1:10:1000000"},
      {.netns_path = lab.second.path});
  ASSERT_EQ(camera.wait(60s), 0) << camera.stderr_text();
  ASSERT_EQ(watching.wait(60s), 0) << watching.stderr_text();

  // A burst is reported three quiet seconds after it ends (the upload
  // ended 2 s before the speaker did); wait a little more for anything
  // wrongly reported late.
  auto bursts_in_log = [&] {
    std::vector<nlohmann::json> out;
    for (const auto& line : select_events(read_event_lines(events), "session"))
      if (line.value("source", "") == "traffic") out.push_back(line);
    return out;
  };
  poll_until([&] { return !bursts_in_log().empty(); }, 10s);
  std::this_thread::sleep_for(3s);
  scrape = scrape_in(daemon, lab.gateway);
  const auto bursts = bursts_in_log();
  ASSERT_EQ(bursts.size(), 1u) << nlohmann::json(bursts).dump(2)
                               << "\ncamera: " << camera.stdout_text()
                               << "\nwatching: " << watching.stdout_text()
                               << scrape.text("earshot_device_egress_payload_bytes_total")
                               << scrape.text("earshot_device_ingress_payload_bytes_total")
                               << daemon.log();
  const nlohmann::json& burst = bursts[0];
  EXPECT_EQ(burst.value("device", ""), kSpeakerName) << burst.dump(2);
  EXPECT_EQ(burst.value("destination", ""), GatewayLab::kServer4) << burst.dump(2);
  EXPECT_EQ(burst.value("verdict", ""), "video-upload") << burst.dump(2);
  EXPECT_NEAR(burst.value("seconds", 0.0), 9.0, 2.0) << burst.dump(2);
  EXPECT_EQ(scrape.sum("earshot_device_upload_bursts_total"), 1)
      << scrape.text("earshot_device_upload_bursts_total");
  EXPECT_EQ(scrape.sum("earshot_device_upload_bursts_total",
                       {{"device", kSpeakerName}, {"verdict", "video-upload"}}),
            1)
      << scrape.text("earshot_device_upload_bursts_total");

  // The decoy was one: acknowledgements at a voice rate, explained by 10 MB
  // that came back.
  const Labels second{{"device", kSecondName}, {"destination", GatewayLab::kServer4}};
  const double acks = scrape.sum("earshot_device_egress_payload_bytes_total", second);
  const double received = scrape.sum("earshot_device_ingress_payload_bytes_total", second);
  EXPECT_GT(acks, 50'000) << scrape.text("earshot_device_egress_payload_bytes_total");
  EXPECT_GT(received, 9'000'000) << scrape.text("earshot_device_ingress_payload_bytes_total");
  std::printf("[ burst ] %s %s -> %s: %s, %.1f s, %.0f B; %s: %.0f B of acks for %.0f B\n",
              tier_name(GetParam()).c_str(), kSpeakerName, GatewayLab::kServer4,
              burst.value("verdict", "").c_str(), burst.value("seconds", 0.0),
              burst.value("bytes", 0.0), kSecondName, acks, received);
}

// The gateway's own processes are still counted per process, as in device mode.
TEST_P(GatewayTest, TheGatewaysOwnProcessesAreStillCounted) {
  GatewayLab lab;
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(GetParam(), "/nonexistent/leases"),
                        .netns_path = lab.gateway.path});
  ChildProcess sink({kTool, "udp-sink", "5010", "50", "--timeout-ms", "20000"},
                    {.netns_path = lab.internet.path});
  ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  ChildProcess sender({kTool, "udp-send", GatewayLab::kServer4, "5010", "50", "200", "5"},
                      {.netns_path = lab.gateway.path});
  ASSERT_EQ(sender.wait(30s), 0) << sender.stderr_text();
  ASSERT_EQ(sink.wait(30s), 0) << sink.stderr_text();
  MetricsScrape scrape;
  EXPECT_TRUE(poll_until(
      [&] {
        scrape = scrape_in(daemon, lab.gateway);
        return scrape.sum("earshot_egress_bytes_total", {{"process", "earshot-traffic"},
                                                         {"destination", GatewayLab::kServer4}}) >=
               50 * 200;
      },
      10s))
      << scrape.text("earshot_egress_bytes_total") << daemon.log();
  EXPECT_EQ(scrape.sum("earshot_device_egress_bytes_total"), 0)
      << "the gateway's own packets counted as a device's:\n"
      << scrape.text("earshot_device_egress_bytes_total");
}

INSTANTIATE_TEST_SUITE_P(Tiers, GatewayTest,
                         ::testing::Values(GatewayTier::netfilter_forward, GatewayTier::tc),
                         tier_test_name);

}  // namespace
}  // namespace earshot::test::gateway_test
