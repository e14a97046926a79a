#include "model/monitor.h"

#include <gtest/gtest.h>

namespace earshot::model::monitor_test {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ULL;
constexpr std::int64_t kEpoch2026 = 1'767'225'600LL * 1'000'000'000LL;  // 2026-01-01T00:00:00Z
constexpr ProcessKey kAssistant{100, 7};
const HandleId kMicHandle{100, Tier::syscalls, 4};

MonitorConfig config(std::vector<std::string> capture_allowed = {}) {
  MonitorConfig c;
  c.sessions.grace = std::chrono::seconds(2);
  c.sessions.idle_gap = std::chrono::seconds(3);
  c.policy.capture_allowed = std::move(capture_allowed);
  c.realtime_minus_monotonic_ns = kEpoch2026;
  return c;
}

CaptureNames assistant() {
  return {{kAssistant.tgid, kAssistant.start_ns, "assistant"}, "assistant.service", "mic"};
}

FlowId voice_flow() {
  FlowId id;
  id.cookie = 9;
  id.family = 2;
  id.protocol = 6;
  id.dport = 443;
  return id;
}

// One harvest, as the collector runs it: growth, names, then the rest.
EventLines harvest(Monitor& monitor, MonotonicNs now, EgressReading& reading,
                   std::uint64_t frames) {
  auto growth = monitor.egress_growth(reading, [](std::uint64_t) { return kAssistant; });
  std::vector<NamedGrowth> named;
  for (const auto& g : growth)
    named.push_back({g, "assistant", "assistant.service", "voice.example"});
  return monitor.harvested(now, named, reading, {{kMicHandle, frames, frames * 2}}, LostCounts{});
}

std::vector<std::string> kinds(const EventLines& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.at("event"));
  return out;
}

TEST(Monitor, CaptureOpenAndCloseLinesCarryWallTimeAndTier) {
  Monitor monitor(config());
  auto opened = monitor.capture_opened(kSecond, kMicHandle, 1, assistant);
  ASSERT_EQ(opened.lines.size(), 1u);
  const auto& open = opened.lines[0];
  EXPECT_EQ(open.at("event"), "capture_open");
  EXPECT_EQ(open.at("time"), "2026-01-01T00:00:01.000Z");
  EXPECT_EQ(open.at("process"), "assistant");
  EXPECT_EQ(open.at("unit"), "assistant.service");
  EXPECT_EQ(open.at("pid"), 100);
  EXPECT_EQ(open.at("device"), "mic");
  EXPECT_EQ(open.at("tier"), "syscalls");
  EXPECT_FALSE(open.contains("reason"));

  auto exited =
      monitor.process_exited(2 * kSecond, 100, [](const HandleId&) { return std::nullopt; });
  ASSERT_EQ(exited.lines.size(), 1u);
  EXPECT_EQ(exited.lines[0].at("event"), "capture_close");
  EXPECT_EQ(exited.lines[0].at("reason"), "process_exit");
  EXPECT_EQ(exited.closed, std::vector<HandleId>{kMicHandle});
}

TEST(Monitor, ACaptureWithAnUploadBecomesASessionLineOnceItsGraceHasPassed) {
  Monitor monitor(config({"someone-else"}));
  monitor.capture_opened(kSecond, kMicHandle, 1, assistant);
  EgressReading reading;
  std::uint64_t sent = 0;
  EventLines lines;
  for (int t = 2; t <= 6; ++t) {
    sent += 4000;
    Counters c;
    c.packets = sent / 100;  // voice frames of 100 bytes
    c.bytes = sent;
    c.payload_bytes = sent;
    c.window_bytes[static_cast<int>(Window::self)] = sent;
    reading.flows = {{voice_flow(), c}};
    reading.bytes_seen = sent;
    auto out = harvest(monitor, t * kSecond, reading, (t - 1) * 16000);
    lines.insert(lines.end(), out.begin(), out.end());
  }
  // The capturing process is not allowed to: one alert while the session is open.
  EXPECT_EQ(kinds(lines), std::vector<std::string>{"alert"});
  EXPECT_EQ(lines[0].at("kind"), "capture_not_allowed");
  EXPECT_EQ(monitor.sessions_json().at("open").size(), 1u);

  auto closed = monitor.capture_closed(6 * kSecond + kSecond / 2, {kMicHandle, 80000, 160000});
  EXPECT_EQ(kinds(closed), std::vector<std::string>{"capture_close"});
  EXPECT_EQ(kinds(harvest(monitor, 7 * kSecond, reading, 80000)), std::vector<std::string>{});
  auto finished = harvest(monitor, 9 * kSecond, reading, 80000);
  // The upload, as an episode, then the session it was part of.
  ASSERT_EQ(kinds(finished), (std::vector<std::string>{"upload_episode", "session"}));
  EXPECT_EQ(finished[0].at("verdict"), "audio-upload");
  const auto& session = finished[1];
  EXPECT_EQ(session.at("episodes_total"), 1);
  EXPECT_EQ(session.at("process"), "assistant");
  EXPECT_EQ(session.at("frames"), 80000);
  EXPECT_EQ(session.at("destinations").at(0).at("destination"), "voice.example");
  EXPECT_GT(session.at("destinations").at(0).at("self_bytes").get<std::uint64_t>(), 0u);

  EXPECT_EQ(monitor.egress().series().begin()->second.bytes, sent);
  EXPECT_EQ(monitor.harvests(), 7u);
  EXPECT_EQ(monitor.sessions_json().at("recent").size(), 1u);
  EXPECT_EQ(monitor.policy().violation_counts().size(), 1u);
}

// An always-listening process: one capture that never ends, a keep-alive
// every 5 s, and two voice uploads. Each upload is its own episode, reported
// while the capture goes on, and the open session lists them.
TEST(Monitor, EachUploadInALongCaptureIsAnEpisodeReportedWhileItGoesOn) {
  Monitor monitor(config());
  monitor.capture_opened(kSecond, kMicHandle, 1, assistant);
  EgressReading reading;
  Counters sent;
  std::vector<std::pair<int, nlohmann::json>> episodes;
  for (int t = 2; t <= 100; ++t) {
    std::uint64_t now = (t == 2 ? 0 : 40) * (t % 5 == 0);
    if ((t >= 20 && t < 26) || (t >= 60 && t < 70)) now += 4000;  // 32 kbit/s
    sent.packets += now / 100 + (now ? 1 : 0);  // voice frames of 100 bytes
    sent.bytes += now;
    sent.payload_bytes += now;
    reading.flows = {{voice_flow(), sent}};
    reading.bytes_seen = sent.bytes;
    for (auto& line : harvest(monitor, t * kSecond, reading, (t - 1) * 16000))
      if (line.at("event") == "upload_episode") episodes.emplace_back(t, line);
  }
  ASSERT_EQ(episodes.size(), 2u);
  for (const auto& [reported_at, e] : episodes) {
    EXPECT_EQ(e.at("verdict"), "audio-upload");
    EXPECT_EQ(e.at("process"), "assistant");
    EXPECT_EQ(e.at("destination"), "voice.example");
    EXPECT_GT(e.at("session_id").get<std::uint64_t>(), 0u);
  }
  EXPECT_NEAR(episodes[0].second.at("seconds").get<double>(), 6, 1);
  EXPECT_NEAR(episodes[1].second.at("seconds").get<double>(), 10, 1);
  EXPECT_LE(episodes[0].first, 26 + 5);  // within a few seconds of its end
  EXPECT_LE(episodes[1].first, 70 + 5);
  auto open = monitor.sessions_json().at("open");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].at("episodes_total"), 2);
  EXPECT_EQ(open[0].at("episodes").size(), 2u);
  EXPECT_EQ(monitor.episode_counts().at({"assistant", "voice.example", Verdict::audio_upload, true}),
            2u);
  EXPECT_NEAR(monitor.last_episodes().at({"assistant", "voice.example"}).seconds, 10, 1);
}

// A capture during which the capturing process fetches video over QUIC:
// 1 MB/s in 1300-byte datagrams, a 40-byte acknowledgement for every two.
// The acknowledgements are payload in the voice band, explained by what
// came back: no episode, and the session is not an audio upload.
TEST(Monitor, AQuicDownloadDuringACaptureIsNeitherAnEpisodeNorAnAudioSession) {
  Monitor monitor(config());
  monitor.capture_opened(kSecond, kMicHandle, 1, assistant);
  EgressReading reading;
  Counters flow;
  EventLines lines;
  for (int t = 2; t <= 30; ++t) {
    if (t >= 5 && t < 15) {
      flow.ingress_packets += 770;
      flow.ingress_payload += 770 * 1300;
      flow.packets += 385;
      flow.ack_sized_packets += 385;
      flow.ack_sized_payload += 385 * 40;
      flow.payload_bytes += 385 * 40;
      flow.bytes += 385 * 68;
      flow.window_bytes[static_cast<int>(Window::self)] += 385 * 68;
    }
    reading.flows = {{voice_flow(), flow}};
    reading.bytes_seen = flow.bytes;
    auto out = harvest(monitor, t * kSecond, reading, (t - 1) * 16000);
    lines.insert(lines.end(), out.begin(), out.end());
  }
  monitor.capture_closed(30 * kSecond + kSecond / 2, {kMicHandle, 480000, 960000});
  for (int t = 31; t <= 36; ++t) {
    auto out = harvest(monitor, t * kSecond, reading, 480000);
    lines.insert(lines.end(), out.begin(), out.end());
  }
  for (const auto& line : lines) {
    EXPECT_NE(line.at("event"), "upload_episode") << line.dump();
    if (line.at("event") == "session") {
      EXPECT_NE(line.at("verdict"), "audio-upload") << line.dump();
    }
  }
  EXPECT_TRUE(monitor.episode_counts().empty());
  EXPECT_FALSE(monitor.session_counts().contains({"assistant", Verdict::audio_upload}));
}

// earshot's own replies (a scrape of /metrics, 13 KB in a second, every
// second for 10 s during a capture) are never an episode or session evidence.
TEST(Monitor, TheDaemonsOwnRepliesAreNeverASuspect) {
  MonitorConfig c = config();
  c.self_tgid = 200;
  Monitor monitor(c);
  monitor.capture_opened(kSecond, kMicHandle, 1, assistant);
  EgressReading reading;
  Counters replies;
  EventLines lines;
  FlowId scrape_flow = voice_flow();
  scrape_flow.cookie = 10;
  const ProcessKey self{200, 3};
  for (int t = 2; t <= 20; ++t) {
    if (t >= 5 && t < 15) {
      replies.packets += 40;
      replies.payload_bytes += 13'000;
      replies.bytes += 13'000 + 40 * 52;
      replies.window_bytes[static_cast<int>(Window::other)] += 13'000 + 40 * 52;
    }
    reading.flows = {{scrape_flow, replies}};
    reading.bytes_seen = replies.bytes;
    auto growth = monitor.egress_growth(reading, [&](std::uint64_t) { return self; });
    std::vector<NamedGrowth> named;
    for (const auto& g : growth) named.push_back({g, "earshot", "", "10.0.0.9"});
    auto out = monitor.harvested(t * kSecond, named, reading,
                                 {{kMicHandle, std::uint64_t(t) * 16000, std::uint64_t(t) * 32000}},
                                 LostCounts{});
    lines.insert(lines.end(), out.begin(), out.end());
  }
  for (const auto& line : lines) EXPECT_NE(line.at("event"), "upload_episode") << line.dump();
  EXPECT_TRUE(monitor.episode_counts().empty());
  auto open = monitor.sessions_json().at("open");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].at("verdict"), "quiet") << open[0].dump(2);
  // Still counted: earshot's bytes are in its series like anyone's.
  EXPECT_EQ(monitor.egress().series().begin()->first.process, "earshot");
}

TEST(Monitor, AnUploadOutsideEveryCaptureIsNoEpisodeOfOne) {
  Monitor monitor(config());
  EgressReading reading;
  Counters sent;
  for (int t = 2; t <= 40; ++t) {
    if (t >= 10 && t < 20) {
      sent.bytes += 4000;
      sent.payload_bytes += 4000;
    }
    reading.flows = {{voice_flow(), sent}};
    for (auto& line : harvest(monitor, t * kSecond, reading, 0))
      EXPECT_NE(line.at("event"), "upload_episode");
  }
  EXPECT_TRUE(monitor.episode_counts().empty());
}

TEST(Monitor, KeepsTheKernelsLostCountsPerReason) {
  Monitor monitor(config());
  EgressReading reading;
  LostCounts lost{};
  lost[static_cast<int>(LostReason::dns_ringbuf_full)] = 3;
  monitor.harvested(kSecond, {}, reading, {}, lost);
  EXPECT_EQ(monitor.lost()[static_cast<int>(LostReason::dns_ringbuf_full)], 3u);
  EXPECT_EQ(monitor.lost()[static_cast<int>(LostReason::ringbuf_full)], 0u);
}

}  // namespace
}  // namespace earshot::model::monitor_test
