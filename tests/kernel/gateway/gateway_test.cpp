// Gateway mode: earshot on a masquerading gateway counts what each LAN
// device sends through it, per destination, named by the DNS answers the
// gateway forwarded and the device named from the config or a leases file;
// within 1% of nftables counters in the gateway's forward chain, under
// both tiers (netfilter FORWARD, and tc ingress of the LAN interfaces with
// DNS answers read at tc egress, the tier of kernels before 6.4/6.6). And
// voice-upload bursts per device: one for a speaker's voice-shaped upload,
// none for its heartbeat or downloads, nor for another device's stream.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
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
  ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", "tc_gateway_ingress"}}), forward ? 0 : 1)
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
  EXPECT_EQ(
      scrape.sum("earshot_device_upload_bursts_total",
                 {{"device", kSpeakerName}, {"destination", kUploadName}, {"allowed", "true"}}),
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
