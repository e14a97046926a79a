// Kernel lane: capture sessions against the real daemon. In two
// network namespaces made here, with a DNS server in B naming B's address
// "assistant.example", four kinds of process act out what earshot exists
// to see (names get a per-run tag, e.g. assistant-1a2b):
//   assistant   resolves assistant.example, then reads the capture node
//               for 5 s while uploading 4000 B/s of payload to it (32 kbit/s);
//   chatty      sends a 100-byte heartbeat every second throughout;
//   listener    reads the capture node for 5 s and sends nothing;
//   relay-mic   reads the capture node while relay-up, another process,
//               uploads.
// The phases run one after another (each waits until the previous session is
// reported, i.e. its grace period is over), so no session sees another's
// upload. Ground truth for bytes is nftables at LOCAL_OUT in A, per UDP
// destination port: skb->len, i.e. payload plus IP and UDP headers, the
// quantity earshot's byte counters count; sessions count payload, which the
// programs report.
//
// The daemon runs inside namespace A: the namespace it runs in is always
// counted, and the test machine's own loopback traffic (other tests'
// scrapes, this test's) would otherwise show up as "other" senders in the
// sessions. Its endpoints are read only at the end, from a thread in A;
// while the scenario runs the test reads the event file and the log.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <thread>

#include "daemon.h"
#include "event_log.h"
#include "in_netns.h"
#include "metrics.h"
#include "netns.h"
#include "nft_counter.h"
#include "poll_until.h"
#include "process.h"
#include "run_tag.h"
#include "session_table.h"
#include "temp_dir.h"

namespace earshot::test::session_scenario_test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kTraffic = EARSHOT_TRAFFIC_BINARY;
constexpr const char* kResponder = EARSHOT_DNS_RESPONDER_BINARY;
constexpr const char* kVoiceClient = EARSHOT_VOICE_CLIENT_BINARY;

constexpr const char* kPeerName = "assistant.example";
constexpr std::uint16_t kAssistantPort = 6000;
constexpr std::uint16_t kChattyPort = 6001;
constexpr std::uint16_t kRelayPort = 6002;
// 32 kbit/s of payload: 200 bytes every 50 ms.
constexpr std::uint64_t kDatagramSize = 200;
constexpr std::uint64_t kDatagramIntervalMs = 50;
constexpr std::uint64_t kHeaderBytes = 20 + 8;  // IPv4 + UDP
constexpr std::uint64_t kHeartbeatSize = 100;
// Heartbeats seen before the first capture, so chatty has a baseline.
constexpr std::uint64_t kWarmUpHeartbeats = 6;
// The verdict's noise floor (VerdictRules::min_excess_bytes): less excess
// than this is never "above baseline".
constexpr double kNoiseFloorBytes = 1024;

constexpr const char* kCaptureBytes = "earshot_egress_capture_bytes_total";
constexpr const char* kSessions = "earshot_capture_sessions_total";
constexpr const char* kViolations = "earshot_policy_violations_total";

// 10.199.3.2 -> 10.199.3.<last>
std::string with_last_part(const std::string& address, const std::string& last) {
  return address.substr(0, address.find_last_of(".:") + 1) + last;
}

// The programs' names for this run. Capture detection is system-wide, so a
// concurrent run of this test (another build directory) is seen by this
// daemon too: a tag from the pid keeps the two runs' processes apart. At
// most 15 characters, so comm and the executable's name agree.
struct ProcessNames {
  std::string assistant, chatty, listener, relay_mic, relay_up, responder;
};

ProcessNames names_for_this_run() {
  const std::string tag = run_tag();
  return {"assistant-" + tag, "chatty-" + tag,   "listener-" + tag,
          "relay-mic-" + tag, "relay-up-" + tag, "dns-" + tag};
}

std::string daemon_config(const ProcessNames& names, const std::string& device,
                          const std::string& events) {
  return "harvest:\n  interval: 200ms\n"
         "capture:\n  sysfs: false\n  extra_devices: [\"" +
         device +
         "\"]\n"
         "correlation:\n  grace: 2s\n  idle_gap: 1s\n  baseline: 30s\n"
         "events:\n  file: \"" +
         events +
         "\"\n"
         "destinations: []\n"
         "policy:\n"
         "  capture_allowed: [" +
         names.assistant + ", " + names.relay_mic +
         "]\n"
         "  upload_allowed: [\"" +
         std::string(kPeerName) + "\"]\n";
}

double number(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : -1;
}

// A process's samples of one metric, one a line, for failure messages.
std::string samples_text(const MetricsScrape& scrape, const char* metric,
                         const std::string& process) {
  return std::string(metric) + " of " + process + ":\n" +
         scrape.text(metric, {{"process", process}});
}

// "key=value" from a summary line of a test tool, 0 when absent.
std::uint64_t summary_value(const std::string& output, const std::string& key) {
  auto at = output.rfind(key + "=");
  if (at == std::string::npos) return 0;
  return std::strtoull(output.c_str() + at + key.size() + 1, nullptr, 10);
}

class SessionScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::needed)) GTEST_SKIP() << *reason;
  }
};

TEST_F(SessionScenarioTest, SessionsShowWhoCapturedWhatLeftAndToWhom) {
  const ProcessNames names = names_for_this_run();
  NetnsPair pair;
  const NetnsEnd& a = pair.a();
  const NetnsEnd& b = pair.b();
  // Separate addresses on B for the heartbeat and the relay, so each
  // stream has its own destination label; B's first address is the peer.
  const std::string chatty_address = with_last_part(b.ipv4, "3");
  const std::string relay_address = with_last_part(b.ipv4, "4");
  for (const auto& address : {chatty_address, relay_address}) {
    check_command({"ip", "addr", "add", address + "/24", "dev", b.interface},
                  {.netns_path = b.path});
  }

  TempDir dir("earshot-sessions");
  // A capture node with the numbers of /dev/zero: it opens and reads, and
  // earshot watches it by its device number.
  const std::string microphone = dir.file("mic");
  ASSERT_EQ(::mknod(microphone.c_str(), S_IFCHR | 0600, makedev(1, 5)), 0)
      << "mknod " << microphone << ": " << std::strerror(errno);
  const std::string events = dir.file("events.jsonl");

  NftCounter nft(a.path);
  for (auto port : {kAssistantPort, kChattyPort, kRelayPort}) {
    nft.count_destination_port(L4Protocol::udp, port, IpFamily::ipv4);
  }
  auto nft_bytes = [&](std::uint16_t port) {
    return nft.destination_port(L4Protocol::udp, port, IpFamily::ipv4).bytes;
  };

  ChildProcess responder({dir.copy_executable(kResponder, names.responder), "serve", "--name",
                          kPeerName, "--ipv4", b.ipv4, "--ipv6", b.ipv6},
                         {.netns_path = b.path});
  ASSERT_TRUE(responder.wait_for_output("ready", 10s)) << responder.stderr_text();

  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = daemon_config(names, microphone, events),
                        .extra_arguments = {"--log.level=debug"},
                        .netns_path = a.path});

  auto sessions_of = [&](const std::string& process) {
    return select_events(read_event_lines(events), "session", process);
  };
  auto wait_for_session = [&](const std::string& process) {
    bool reported = poll_until([&] { return !sessions_of(process).empty(); }, 40s);
    EXPECT_TRUE(reported) << "no session line for " << process << " within 40 s; daemon log:\n"
                          << daemon.log();
    return reported;
  };

  // chatty: a heartbeat a second from before the first capture to the end.
  ChildProcess chatty(
      {dir.copy_executable(kTraffic, names.chatty), "udp-send", chatty_address,
       std::to_string(kChattyPort), "100000", std::to_string(kHeartbeatSize), "1000"},
      {.netns_path = a.path});
  ASSERT_TRUE(chatty.wait_for_output("ready", 10s)) << chatty.stderr_text();
  ASSERT_TRUE(poll_until(
      [&] {
        return nft.destination_port(L4Protocol::udp, kChattyPort, IpFamily::ipv4).packets >=
               kWarmUpHeartbeats;
      },
      30s))
      << "chatty's heartbeats did not start";

  // Phase 1, the assistant. It resolves the peer first and waits; it starts
  // only once the daemon has read the DNS answer, so even its first packet
  // is named.
  auto dns_answers_logged = [&] {
    const std::string log = daemon.log();
    std::size_t count = 0;
    for (auto at = log.find("\"msg\":\"dns answer\""); at != std::string::npos;
         at = log.find("\"msg\":\"dns answer\"", at + 1)) {
      ++count;
    }
    return count;
  };
  const std::size_t dns_answers_before = dns_answers_logged();
  const std::string go = dir.file("go-assistant");
  ChildProcess assistant(
      {dir.copy_executable(kVoiceClient, names.assistant), "--dns-server", b.ipv4, "--name",
       kPeerName, "--device", microphone, "--seconds", "5", "--read", "4000", "--port",
       std::to_string(kAssistantPort), "--size", std::to_string(kDatagramSize), "--interval-ms",
       std::to_string(kDatagramIntervalMs), "--wait-file", go},
      {.netns_path = a.path});
  ASSERT_TRUE(assistant.wait_for_output("ready", 20s)) << assistant.stderr_text();
  ASSERT_TRUE(assistant.stdout_text().find("resolved " + b.ipv4) != std::string::npos)
      << assistant.stdout_text();
  ASSERT_TRUE(poll_until([&] { return dns_answers_logged() > dns_answers_before; }, 20s))
      << "the daemon logged no DNS answer; log:\n"
      << daemon.log();
  dir.write_file("go-assistant", "");
  ASSERT_EQ(assistant.wait(60s), 0) << assistant.stderr_text();
  ASSERT_TRUE(wait_for_session(names.assistant));

  // Phase 2, the listener: captures, sends nothing.
  ChildProcess listener({dir.copy_executable(kTraffic, names.listener), "open-device", microphone,
                         "5", "--read", "4000"},
                        {.netns_path = a.path});
  ASSERT_EQ(listener.wait(60s), 0) << listener.stderr_text();
  ASSERT_TRUE(wait_for_session(names.listener));

  // Phase 3, the relay: relay-mic captures for 10 s; relay-up starts
  // once the node is open and uploads for 4 s, well inside the capture.
  ChildProcess relay_mic({dir.copy_executable(kTraffic, names.relay_mic), "open-device", microphone,
                          "10", "--read", "4000"},
                         {.netns_path = a.path});
  ASSERT_TRUE(relay_mic.wait_for_output("opened", 20s)) << relay_mic.stderr_text();
  ChildProcess relay_up({dir.copy_executable(kTraffic, names.relay_up), "udp-send", relay_address,
                         std::to_string(kRelayPort), "80", std::to_string(kDatagramSize),
                         std::to_string(kDatagramIntervalMs)},
                        {.netns_path = a.path});
  ASSERT_EQ(relay_up.wait(60s), 0) << relay_up.stderr_text();
  ASSERT_TRUE(relay_mic.running())
      << "the relay's capture ended before its upload did (machine too loaded?); the scenario "
         "needs the upload inside the capture";
  ASSERT_EQ(relay_mic.wait(60s), 0) << relay_mic.stderr_text();
  ASSERT_TRUE(wait_for_session(names.relay_mic));

  chatty.kill();
  chatty.wait(10s);

  // What the scenario did (ground truth).
  const std::uint64_t assistant_nft = nft_bytes(kAssistantPort);
  const std::uint64_t chatty_nft = nft_bytes(kChattyPort);
  const std::uint64_t relay_nft = nft_bytes(kRelayPort);
  const std::string assistant_out = assistant.stdout_text();
  const std::string relay_out = relay_up.stdout_text();
  const std::uint64_t assistant_datagrams = summary_value(assistant_out, "sent_datagrams");
  const std::uint64_t relay_datagrams = summary_value(relay_out, "sent_datagrams");

  // What earshot reported, read from inside A once everything is finished.
  MetricsScrape scrape;
  HttpResponse api;
  run_in_netns(a.path, [&] {
    scrape = daemon.scrape();
    api = daemon.get("/api/sessions");
  });
  const auto lines = read_event_lines(events);

  std::vector<ScenarioActor> actors = {
      {names.assistant, kPeerName, kAssistantPort, assistant_datagrams,
       assistant_datagrams * kDatagramSize, assistant_nft,
       summary_value(assistant_out, "read_bytes")},
      {names.listener, "-", 0, 0, 0, 0, summary_value(listener.stdout_text(), "read_bytes")},
      {names.relay_mic, "-", 0, 0, 0, 0, summary_value(relay_mic.stdout_text(), "read_bytes")},
      {names.relay_up, relay_address, kRelayPort, relay_datagrams, relay_datagrams * kDatagramSize,
       relay_nft, 0},
      {names.chatty, chatty_address, kChattyPort, chatty_nft / (kHeartbeatSize + kHeaderBytes),
       chatty_nft / (kHeartbeatSize + kHeaderBytes) * kHeartbeatSize, chatty_nft, 0},
  };
  std::vector<json> our_sessions;
  for (const auto& name :
       {names.assistant, names.listener, names.relay_mic, names.chatty, names.relay_up}) {
    for (auto& session : select_events(lines, "session", name)) our_sessions.push_back(session);
  }
  std::cout << format_scenario_table(actors, our_sessions, select_events(lines, "alert"))
            << std::flush;
  ::testing::Test::RecordProperty("scenario_table",
                                  format_scenario_table(actors, our_sessions, {}));

  // Ground truth is what the programs say they sent, headers included.
  ASSERT_EQ(assistant_datagrams, 5000 / kDatagramIntervalMs) << assistant_out;
  EXPECT_EQ(assistant_nft, assistant_datagrams * (kDatagramSize + kHeaderBytes));
  ASSERT_EQ(relay_datagrams, 80U) << relay_out;
  EXPECT_EQ(relay_nft, relay_datagrams * (kDatagramSize + kHeaderBytes));

  {
    SCOPED_TRACE("assistant: named destination, own bytes, audio-upload");
    auto sessions = sessions_of(names.assistant);
    ASSERT_EQ(sessions.size(), 1U) << json(sessions).dump(2);
    const json& session = sessions[0];
    EXPECT_EQ(session.value("verdict", ""), "audio-upload") << session.dump(2);
    EXPECT_GT(number(session, "frames"), 0) << session.dump(2);
    const json* peer = find_destination(session, kPeerName);
    ASSERT_NE(peer, nullptr) << "no destination named " << kPeerName << ": " << session.dump(2);
    // Sessions count payload: the datagrams' bytes, without headers.
    const double self_bytes = number(*peer, "self_bytes");
    const double assistant_payload = static_cast<double>(assistant_datagrams * kDatagramSize);
    EXPECT_NEAR(self_bytes, assistant_payload, 0.05 * assistant_payload)
        << session.dump(2);
    EXPECT_EQ(find_destination(session, b.ipv4), nullptr)
        << "some of the upload was not named by DNS: " << session.dump(2);
    const double self_window =
        scrape.sum(kCaptureBytes,
                   {{"process", names.assistant}, {"window", "self"}, {"destination", kPeerName}});
    EXPECT_NEAR(self_window, static_cast<double>(assistant_nft), 0.05 * assistant_nft)
        << "the kernel did not count all of the capturing process's own upload in window "
           "\"self\"\n"
        << samples_text(scrape, kCaptureBytes, names.assistant);
    EXPECT_EQ(scrape.sum(kSessions, {{"process", names.assistant}, {"verdict", "audio-upload"}}),
              1);
  }
  {
    SCOPED_TRACE("listener: quiet, though chatty sent during it");
    auto sessions = sessions_of(names.listener);
    ASSERT_EQ(sessions.size(), 1U) << json(sessions).dump(2);
    const json& session = sessions[0];
    EXPECT_EQ(session.value("verdict", ""), "quiet") << session.dump(2);
    EXPECT_GT(number(session, "frames"), 0) << session.dump(2);
    for (const auto& destination : session.value("destinations", json::array())) {
      EXPECT_EQ(number(destination, "self_bytes"), 0) << session.dump(2);
    }
    const json* heartbeat = find_destination(session, chatty_address);
    ASSERT_NE(heartbeat, nullptr) << "chatty's heartbeat is not in the session, so quiet was "
                                     "not tested against other traffic: "
                                  << session.dump(2);
    const json* chatty_entry = find_other(*heartbeat, names.chatty);
    ASSERT_NE(chatty_entry, nullptr) << session.dump(2);
    EXPECT_GT(number(*chatty_entry, "bytes"), 0);
    EXPECT_EQ(scrape.sum(kSessions, {{"process", names.listener}, {"verdict", "quiet"}}), 1);
  }
  {
    SCOPED_TRACE("relay: B's bytes in window other and in A's session");
    auto sessions = sessions_of(names.relay_mic);
    ASSERT_EQ(sessions.size(), 1U) << json(sessions).dump(2);
    const json& session = sessions[0];
    EXPECT_NE(session.value("verdict", ""), "quiet") << session.dump(2);
    const json* upload = find_destination(session, relay_address);
    ASSERT_NE(upload, nullptr) << session.dump(2);
    EXPECT_EQ(number(*upload, "self_bytes"), 0) << session.dump(2);
    const json* relay_entry = find_other(*upload, names.relay_up);
    ASSERT_NE(relay_entry, nullptr)
        << names.relay_up << " is not among the others: " << session.dump(2);
    EXPECT_EQ(relay_entry->value("pid", 0), relay_up.pid());
    const double relay_payload = static_cast<double>(relay_datagrams * kDatagramSize);
    EXPECT_NEAR(number(*relay_entry, "bytes"), relay_payload, 0.05 * relay_payload)
        << session.dump(2);
    const double other_window = scrape.sum(
        kCaptureBytes,
        {{"process", names.relay_up}, {"window", "other"}, {"destination", relay_address}});
    EXPECT_NEAR(other_window, static_cast<double>(relay_nft), 0.05 * relay_nft)
        << samples_text(scrape, kCaptureBytes, names.relay_up);
    EXPECT_EQ(scrape.sum(kCaptureBytes, {{"process", names.relay_up}, {"window", "self"}}), 0);
  }
  {
    SCOPED_TRACE("chatty: no session, never flagged, its heartbeat never excess");
    EXPECT_TRUE(sessions_of(names.chatty).empty());
    EXPECT_FALSE(scrape.has(kSessions, {{"process", names.chatty}}));
    EXPECT_TRUE(select_events(lines, "alert", names.chatty).empty());
    EXPECT_FALSE(scrape.has(kViolations, {{"process", names.chatty}}));
    for (const auto& session : our_sessions) {
      for (const auto& destination : session.value("destinations", json::array())) {
        if (const json* entry = find_other(destination, names.chatty)) {
          EXPECT_LT(number(*entry, "excess_bytes"), kNoiseFloorBytes) << session.dump(2);
        }
      }
    }
  }
  {
    SCOPED_TRACE("policy: the listener's capture and relay-up's upload flagged, nothing else");
    auto listener_alerts = select_events(lines, "alert", names.listener);
    ASSERT_EQ(listener_alerts.size(), 1U) << json(listener_alerts).dump(2);
    EXPECT_EQ(listener_alerts[0].value("kind", ""), "capture_not_allowed");
    EXPECT_EQ(
        scrape.sum(kViolations, {{"process", names.listener}, {"kind", "capture_not_allowed"}}), 1);
    auto relay_alerts = select_events(lines, "alert", names.relay_up);
    ASSERT_EQ(relay_alerts.size(), 1U) << json(relay_alerts).dump(2);
    EXPECT_EQ(relay_alerts[0].value("kind", ""), "upload_not_allowed");
    EXPECT_EQ(relay_alerts[0].value("destination", ""), relay_address);
    EXPECT_EQ(
        scrape.sum(kViolations, {{"process", names.relay_up}, {"kind", "upload_not_allowed"}}), 1);
    EXPECT_TRUE(select_events(lines, "alert", names.assistant).empty())
        << json(select_events(lines, "alert", names.assistant)).dump(2);
    EXPECT_TRUE(select_events(lines, "alert", names.relay_mic).empty())
        << json(select_events(lines, "alert", names.relay_mic)).dump(2);
  }
  {
    SCOPED_TRACE("/api/sessions lists the same finished sessions");
    ASSERT_EQ(api.status, 200);
    json listed = json::parse(api.body, nullptr, false);
    ASSERT_TRUE(listed.is_object() && listed.contains("recent")) << api.body;
    for (const auto& session : our_sessions) {
      bool found = false;
      for (const auto& recent : listed["recent"]) {
        if (recent.value("id", 0) != session.value("id", 0)) continue;
        found = true;
        EXPECT_EQ(recent.value("process", ""), session.value("process", ""));
        EXPECT_EQ(recent.value("verdict", ""), session.value("verdict", ""));
        EXPECT_EQ(recent["destinations"], session["destinations"]);
      }
      EXPECT_TRUE(found) << "session " << session.value("id", 0) << " of "
                         << session.value("process", "") << " not in /api/sessions";
    }
  }
}

}  // namespace
}  // namespace earshot::test::session_scenario_test
