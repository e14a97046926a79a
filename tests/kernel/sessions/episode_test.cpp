// Kernel lane: upload episodes against the real daemon, in two network
// namespaces made here (the speaker in A, its cloud peer in B).
//
// AlwaysListening: one process reads a watched capture node for the whole
// run, as a wake-word engine does, keeps one connection (TCP) or socket
// (UDP) to the peer with a 40-byte keep-alive every 5 s, uploads twice at a
// voice rate and downloads in between (only acknowledgements go out, or
// nothing for UDP). Rates (16-64 kbit/s), lengths and timing are random
// (the seed is printed; EARSHOT_TEST_SEED repeats a run). Each upload must
// be its own audio-upload episode, reported within grace + 10 s of its end
// while the capture is still open; the download and keep-alives never.
//
// Detection: short captures, each with one trial drawn from kinds shaped as
// real clients send them, over IPv4 or IPv6: voice as variable-bit-rate
// speech (20-60 ms frames, talk spurts and pauses with comfort noise) over
// TCP, UDP or a QUIC-like stream the server acknowledges, alone or while
// music comes back on the same connection, by the capturing process or by
// another (a relay), and the older steady voice upload; decoys: a video
// player fetching segments over QUIC (1-8 Mbit/s), a QUIC or TCP download,
// music over QUIC, heartbeats, a bulk upload of a few MB, a scraper polling
// the daemon, nothing. Precision and recall of the audio-upload verdict
// over the trials must be >= 0.95; per kind they are printed with the seed.
// The kernel lane runs a small sample; the `detection` label runs enough
// trials for the figure (docs/detection.md).
//
// Scraped: a capture that goes on while a scraper polls the daemon's
// /metrics every 5 s (30 s in the kernel lane, 10 minutes under the
// `detection` label): no upload episode of earshot's own, none at all.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <random>
#include <thread>

#include "daemon.h"
#include "event_log.h"
#include "in_netns.h"
#include "netns.h"
#include "poll_until.h"
#include "process.h"
#include "run_tag.h"
#include "temp_dir.h"

namespace earshot::test::episode_test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kSpeaker = EARSHOT_SPEAKER_BINARY;
constexpr std::uint16_t kTcpPort = 6100;
constexpr std::uint16_t kUdpPort = 6101;
constexpr std::uint16_t kQuicPort = 6102;
constexpr double kGraceSeconds = 2;

std::uint32_t seed_for_this_run() {
  if (const char* env = std::getenv("EARSHOT_TEST_SEED")) return std::stoul(env);
  return std::random_device{}();
}

// The pair of namespaces, the peers in B, the capture node and the daemon in A.
class EpisodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::not_needed)) GTEST_SKIP() << *reason;
    pair_ = std::make_unique<NetnsPair>();
    dir_ = std::make_unique<TempDir>("earshot-episodes");
    microphone_ = dir_->file("mic");
    // A capture node with the numbers of /dev/zero: it opens and reads.
    ASSERT_EQ(::mknod(microphone_.c_str(), S_IFCHR | 0600, makedev(1, 5)), 0)
        << "mknod " << microphone_ << ": " << std::strerror(errno);
    events_ = dir_->file("events.jsonl");
    speaker_ = dir_->copy_executable(kSpeaker, "speaker-" + run_tag());
    relay_ = dir_->copy_executable(kSpeaker, "relay-" + run_tag());
    for (auto [port, proto] : {std::pair{kTcpPort, "tcp"}, std::pair{kUdpPort, "udp"},
                               std::pair{kQuicPort, "quic"}}) {
      peers_.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{dir_->copy_executable(kSpeaker, std::string("peer-") + proto),
                                   "peer", std::to_string(port), "--proto", proto},
          ChildOptions{.netns_path = pair_->b().path}));
      ASSERT_TRUE(peers_.back()->wait_for_output("ready", 10s)) << peers_.back()->stderr_text();
    }
    daemon_ = std::make_unique<DaemonProcess>(DaemonOptions{
        .binary = kDaemon,
        .config_yaml = "harvest:\n  interval: 200ms\n"
                       "capture:\n  sysfs: false\n  extra_devices: [\"" +
                       microphone_ +
                       "\"]\n"
                       "correlation:\n  grace: 2s\n  idle_gap: 1s\n  baseline: 30s\n"
                       "events:\n  file: \"" +
                       events_ + "\"\ndestinations: []\n",
        .netns_path = pair_->a().path,
        // Reachable from B, where the scraper runs, as from the LAN.
        .listen_address = "0.0.0.0:0"});
  }

  // A speaker run in A against the peer: listen arguments after --proto.
  std::unique_ptr<ChildProcess> start(const std::string& binary, bool tcp,
                                      std::vector<std::string> arguments) {
    return start(binary, tcp ? "tcp" : "udp", false, std::move(arguments));
  }
  std::unique_ptr<ChildProcess> start(const std::string& binary, const std::string& proto,
                                      bool ipv6, std::vector<std::string> arguments) {
    const std::uint16_t port = proto == "tcp" ? kTcpPort : proto == "udp" ? kUdpPort : kQuicPort;
    std::vector<std::string> argv = {binary,   "listen",
                                     "--peer", ipv6 ? pair_->b().ipv6 : pair_->b().ipv4,
                                     "--port", std::to_string(port),
                                     "--proto", proto};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto child = std::make_unique<ChildProcess>(argv, ChildOptions{.netns_path = pair_->a().path});
    EXPECT_TRUE(child->wait_for_output("opened", 20s)) << child->stderr_text();
    return child;
  }
  // A scraper in B polling the daemon as a Prometheus on the LAN does.
  std::unique_ptr<ChildProcess> scraper(double seconds, int every_ms) {
    const std::string url =
        "http://" + pair_->a().ipv4 + ":" + std::to_string(daemon_->port()) + "/metrics";
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{kSpeaker, "scrape", "--url", url, "--every-ms",
                                 std::to_string(every_ms), "--seconds", std::to_string(seconds)},
        ChildOptions{.netns_path = pair_->b().path});
  }

  std::vector<json> episodes_of(const std::string& process) const {
    return select_events(read_event_lines(events_), "upload_episode", process);
  }
  std::string process_name(const std::string& binary) const {
    return binary.substr(binary.find_last_of('/') + 1);
  }

  std::unique_ptr<NetnsPair> pair_;
  std::unique_ptr<TempDir> dir_;
  std::string microphone_, events_, speaker_, relay_;
  std::vector<std::unique_ptr<ChildProcess>> peers_;
  std::unique_ptr<DaemonProcess> daemon_;
};

#ifndef EARSHOT_DETECTION_ONLY
// "key=value" from a tool's output line, or -1.
double value_of(const std::string& line, const std::string& key) {
  auto at = line.find(key + "=");
  return at == std::string::npos ? -1 : std::strtod(line.c_str() + at + key.size() + 1, nullptr);
}

std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

class AlwaysListeningTest : public EpisodeTest, public ::testing::WithParamInterface<bool> {};

TEST_P(AlwaysListeningTest, EachUploadIsItsOwnEpisodeReportedWhileTheCaptureGoesOn) {
  const bool tcp = GetParam();
  const std::uint32_t seed = seed_for_this_run();
  std::mt19937 random(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  auto rate = [&] { return static_cast<int>(uniform(2000, 8000)); };  // 16-64 kbit/s
  const double u1_at = uniform(6, 10), u1_len = uniform(3, 8);
  const double d_at = u1_at + u1_len + uniform(4, 6), d_len = uniform(5, 8);
  const double u2_at = d_at + d_len + uniform(4, 6), u2_len = uniform(3, 8);
  const double seconds = u2_at + u2_len + kGraceSeconds + 14;
  const int r1 = rate(), r2 = rate(), download = tcp ? 200'000 : 100'000;
  auto action = [](double at, double len, int r) {
    return std::to_string(at) + ":" + std::to_string(len) + ":" + std::to_string(r);
  };
  std::ostringstream plan;
  plan << "seed " << seed << (tcp ? " tcp" : " udp") << ": upload " << u1_at << "+" << u1_len
       << " s at " << r1 << " B/s, download " << d_at << "+" << d_len << " s, upload " << u2_at
       << "+" << u2_len << " s at " << r2 << " B/s, capture " << seconds << " s";
  std::cout << plan.str() << std::endl;
  ::testing::Test::RecordProperty("plan", plan.str());

  const std::string name = process_name(speaker_);
  const auto started = Clock::now();
  auto speaker = start(speaker_, tcp,
                       {"--device", microphone_, "--seconds", std::to_string(seconds),
                        "--keepalive-ms", "5000", "--keepalive-size", "40", "--upload",
                        action(u1_at, u1_len, r1), "--download", action(d_at, d_len, download),
                        "--upload", action(u2_at, u2_len, r2)});
  // Watch the event log while the capture runs: when did each episode come?
  std::vector<double> reported_at;
  json open_session;
  while (speaker->running() && Clock::now() - started < std::chrono::seconds(int(seconds) + 30)) {
    auto seen = episodes_of(name);
    while (reported_at.size() < seen.size())
      reported_at.push_back(std::chrono::duration<double>(Clock::now() - started).count());
    if (seen.size() == 2 && open_session.is_null()) {
      run_in_netns(pair_->a().path, [&] {
        auto body = json::parse(daemon_->get("/api/sessions").body, nullptr, false);
        for (const auto& s : body.value("open", json::array()))
          if (s.value("process", "") == name) open_session = s;
      });
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(speaker->wait(30s), 0) << speaker->stderr_text();
  const std::string out = speaker->stdout_text();
  auto uploads = lines_starting(out, "upload ");
  ASSERT_EQ(uploads.size(), 2u) << out;

  auto episodes = episodes_of(name);
  ASSERT_EQ(episodes.size(), 2u) << "expected one episode an upload, none for the download or "
                                    "the keep-alives:\n"
                                 << json(episodes).dump(2) << "\n" << plan.str();
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE("upload " + std::to_string(i + 1) + ": " + uploads[i]);
    const json& e = episodes[i];
    const double begin = value_of(uploads[i], "begin_ms") / 1000;
    const double end = value_of(uploads[i], "end_ms") / 1000;
    const double bytes = value_of(uploads[i], "bytes");
    EXPECT_EQ(e.value("verdict", ""), "audio-upload") << e.dump(2);
    EXPECT_NEAR(e.value("seconds", 0.0), end - begin, 2.0) << e.dump(2);
    // The upload's payload, and the frames around it (and a keep-alive).
    EXPECT_NEAR(e.value("bytes", 0.0), bytes, 0.1 * bytes + 200) << e.dump(2);
    EXPECT_GT(e.value("session_id", 0), 0) << e.dump(2);
    // Reported while the capture went on, within grace + 10 s of its end.
    ASSERT_GT(reported_at.size(), i);
    EXPECT_LT(reported_at[i], end + kGraceSeconds + 10 + 1 /* start-up */) << e.dump(2);
    EXPECT_LT(reported_at[i], seconds) << "reported only after the capture ended";
  }
  ASSERT_FALSE(open_session.is_null()) << "no open session listed once both were reported";
  EXPECT_EQ(open_session.value("episodes_total", 0), 2) << open_session.dump(2);
  EXPECT_EQ(open_session["episodes"].size(), 2u) << open_session.dump(2);
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
}

INSTANTIATE_TEST_SUITE_P(Protocols, AlwaysListeningTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "tcp" : "udp"; });
#endif

enum class Trial {
  voice_self,
  voice_music,
  voice_relay,
  voice_steady,
  quic_video,
  quic_download,
  tcp_download,
  music,
  heartbeat,
  bulk,
  scrape,
  silent
};
const char* to_string(Trial t) {
  switch (t) {
    case Trial::voice_self:
      return "voice_self";
    case Trial::voice_music:
      return "voice_music";
    case Trial::voice_relay:
      return "voice_relay";
    case Trial::voice_steady:
      return "voice_steady";
    case Trial::quic_video:
      return "quic_video";
    case Trial::quic_download:
      return "quic_download";
    case Trial::tcp_download:
      return "tcp_download";
    case Trial::music:
      return "music";
    case Trial::heartbeat:
      return "heartbeat";
    case Trial::bulk:
      return "bulk";
    case Trial::scrape:
      return "scrape";
    case Trial::silent:
      return "silent";
  }
  return "?";
}
bool is_voice(Trial t) {
  return t == Trial::voice_self || t == Trial::voice_music || t == Trial::voice_relay ||
         t == Trial::voice_steady;
}

struct Tally {
  int true_positive = 0, false_positive = 0, false_negative = 0, true_negative = 0;
  void add(bool voice, bool flagged) {
    (voice ? (flagged ? true_positive : false_negative)
           : (flagged ? false_positive : true_negative))++;
  }
  double precision() const {
    return true_positive + false_positive
               ? double(true_positive) / (true_positive + false_positive)
               : 1;
  }
  double recall() const {
    return true_positive + false_negative
               ? double(true_positive) / (true_positive + false_negative)
               : 1;
  }
  std::string text() const {
    std::ostringstream out;
    out << "tp " << true_positive << " fp " << false_positive << " fn " << false_negative
        << " tn " << true_negative << ", precision " << precision() << " recall " << recall();
    return out.str();
  }
};

TEST_F(EpisodeTest, EARSHOT_DETECTION_TEST) {
  const std::uint32_t seed = seed_for_this_run();
  std::mt19937 random(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(*(options.begin() + random() % options.size()));
  };
  constexpr int kTrials = EARSHOT_DETECTION_TRIALS;
  // Half of the trials voice uploads, half decoys, shuffled.
  std::vector<Trial> trials;
  const Trial voices[] = {Trial::voice_self, Trial::voice_music, Trial::voice_relay,
                          Trial::voice_self, Trial::voice_steady};
  const Trial decoys[] = {Trial::quic_video, Trial::quic_download, Trial::scrape,
                          Trial::music,      Trial::tcp_download,  Trial::quic_video,
                          Trial::heartbeat,  Trial::bulk,          Trial::silent};
  for (int i = 0; i < kTrials; ++i)
    trials.push_back(i % 2 == 0 ? voices[(i / 2) % std::size(voices)]
                                : decoys[(i / 2) % std::size(decoys)]);
  std::shuffle(trials.begin(), trials.end(), random);

  const std::string name = process_name(speaker_);
  Tally all, sessions;
  std::map<std::string, Tally> by_kind;
  std::ostringstream log;
  log << "seed " << seed << ", " << kTrials << " trials\n";
  std::size_t sessions_before = 0;
  for (int i = 0; i < kTrials; ++i) {
    const Trial trial = trials[i];
    const bool ipv6 = random() % 2 == 0;
    const double capture = uniform(9, 13), at = uniform(1.5, 3), len = uniform(2.5, 6);
    const int rate = static_cast<int>(uniform(2000, 8000));  // 16-64 kbit/s
    auto action = [&](double start, double seconds, int r) {
      return std::to_string(start) + ":" + std::to_string(seconds) + ":" + std::to_string(r);
    };
    std::string proto = "tcp";
    std::vector<std::string> args = {"--device", microphone_, "--seconds", std::to_string(capture),
                                     "--seed", std::to_string(random())};
    if (trial != Trial::heartbeat) args.insert(args.end(), {"--keepalive-ms", "0"});
    std::string detail;
    switch (trial) {
      case Trial::voice_self:
      case Trial::voice_relay:
        proto = pick({"tcp", "udp", "quic"});
        break;
      case Trial::voice_music:
        proto = pick({"tcp", "quic"});
        args.insert(args.end(), {"--voice", action(at, len, rate), "--music",
                                 action(0.5, capture - 1, static_cast<int>(uniform(16e3, 40e3)))});
        break;
      case Trial::voice_steady:
        proto = pick({"tcp", "udp"});
        args.insert(args.end(), {"--upload", action(at, len, rate)});
        break;
      case Trial::quic_video: {
        proto = "quic";
        const int video = static_cast<int>(uniform(125e3, 1e6));  // 1-8 Mbit/s
        args.insert(args.end(), {"--segments", action(0.5, capture - 1.5, video)});
        detail = " video " + std::to_string(video) + " B/s";
        break;
      }
      case Trial::quic_download:
        proto = "quic";
        args.insert(args.end(),
                    {"--download", action(at, len, static_cast<int>(uniform(250e3, 1e6)))});
        break;
      case Trial::tcp_download:
        args.insert(args.end(), {"--download", action(at, len, 300'000)});
        break;
      case Trial::music:
        proto = pick({"tcp", "quic"});
        args.insert(args.end(), {"--music", action(0.5, capture - 1,
                                                   static_cast<int>(uniform(16e3, 40e3)))});
        break;
      case Trial::heartbeat:
        args.insert(args.end(), {"--keepalive-ms", "1000", "--keepalive-size", "100"});
        break;
      case Trial::bulk:
        args.insert(args.end(),
                    {"--upload", action(at, len, static_cast<int>(uniform(1'000'000, 2'000'000)))});
        break;
      case Trial::scrape:
      case Trial::silent:
        break;
    }
    if (trial == Trial::voice_self) args.insert(args.end(), {"--voice", action(at, len, rate)});
    auto speaker = start(speaker_, proto, ipv6, args);
    std::unique_ptr<ChildProcess> relay, poller;
    if (trial == Trial::voice_relay)
      relay = start(relay_, proto, ipv6,
                    {"--seconds", std::to_string(at + len + 0.5), "--keepalive-ms", "0", "--seed",
                     std::to_string(random()), "--voice", action(at, len, rate)});
    if (trial == Trial::scrape)
      poller = scraper(capture, static_cast<int>(uniform(1000, 5000)));
    ASSERT_EQ(speaker->wait(60s), 0) << speaker->stderr_text();
    if (relay) {
      ASSERT_EQ(relay->wait(60s), 0) << relay->stderr_text();
    }
    if (poller) {
      ASSERT_EQ(poller->wait(60s), 0) << poller->stderr_text();
      const std::string out = poller->stdout_text();
      const auto at = out.find("scrapes=");
      detail = at == std::string::npos ? " (no scrape summary)"
                                       : " " + out.substr(at, out.find('\n', at) - at);
    }
    // Its session, once the grace period is over.
    std::vector<json> session_lines;
    ASSERT_TRUE(poll_until(
        [&] {
          session_lines = select_events(read_event_lines(events_), "session", name);
          return session_lines.size() > sessions_before;
        },
        30s))
        << "no session line for trial " << i << "; daemon log:\n"
        << daemon_->log();
    sessions_before = session_lines.size();
    const json& session = session_lines.back();
    const std::uint64_t session_id = session.value("id", std::uint64_t{0});
    bool flagged = false;
    std::string verdicts;
    for (const auto& e : select_events(read_event_lines(events_), "upload_episode")) {
      if (e.value("session_id", std::uint64_t{0}) != session_id) continue;
      verdicts += e.value("verdict", "") + " (" + e.value("process", "") + ", " +
                  std::to_string(e.value("seconds", 0.0)).substr(0, 4) + " s) ";
      flagged = flagged || e.value("verdict", "") == "audio-upload";
    }
    const bool voice = is_voice(trial);
    const bool session_flagged = session.value("verdict", "") == "audio-upload";
    all.add(voice, flagged);
    sessions.add(voice, session_flagged);
    by_kind[to_string(trial)].add(voice, flagged);
    log << "trial " << i << " " << to_string(trial) << " " << proto << (ipv6 ? "/6" : "/4")
        << " rate " << rate << " len " << len << detail << ": "
        << (verdicts.empty() ? "no episode; " : verdicts) << "session "
        << session.value("verdict", "") << (voice != flagged ? "  <- WRONG" : "") << "\n";
  }
  log << "audio-upload episodes: " << all.text() << "\n";
  log << "session verdicts: " << sessions.text() << "\n";
  for (const auto& [kind, tally] : by_kind) log << "  " << kind << ": " << tally.text() << "\n";
  std::cout << log.str() << std::flush;
  ::testing::Test::RecordProperty("detection", log.str());
  EXPECT_GE(all.precision(), 0.95) << log.str();
  EXPECT_GE(all.recall(), 0.95) << log.str();
  EXPECT_GE(sessions.precision(), 0.95) << log.str();
  EXPECT_GE(sessions.recall(), 0.95) << log.str();
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
}

// A wake-word process captures the whole time while a scraper polls
// /metrics every 5 s, as a Prometheus on the LAN does: earshot's replies
// (12 KB and more within a second, each) are never an upload episode.
TEST_F(EpisodeTest, EARSHOT_SCRAPE_TEST) {
  constexpr double kSeconds = EARSHOT_SCRAPE_SECONDS;
  auto speaker = start(speaker_, "tcp", false,
                       {"--device", microphone_, "--seconds", std::to_string(kSeconds + 4),
                        "--keepalive-ms", "5000", "--keepalive-size", "40"});
  auto poller = scraper(kSeconds, 5000);
  ASSERT_EQ(poller->wait(std::chrono::seconds(static_cast<int>(kSeconds) + 60)), 0)
      << poller->stderr_text();
  const std::string scraped = poller->stdout_text();
  std::cout << "scraper: " << scraped << std::flush;
  ASSERT_EQ(speaker->wait(60s), 0) << speaker->stderr_text();
  ASSERT_EQ(scraped.find("failed=0"), scraped.find("failed=")) << scraped;
  ASSERT_NE(scraped.find("scrapes="), std::string::npos) << scraped;
  // The session ends, its grace passes: every episode of it is reported.
  ASSERT_TRUE(poll_until(
      [&] { return !select_events(read_event_lines(events_), "session", process_name(speaker_)).empty(); },
      30s))
      << daemon_->log();
  const auto episodes = select_events(read_event_lines(events_), "upload_episode");
  EXPECT_TRUE(episodes.empty()) << json(episodes).dump(2);
  const auto sessions = select_events(read_event_lines(events_), "session");
  for (const auto& s : sessions) EXPECT_EQ(s.value("verdict", ""), "quiet") << s.dump(2);
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
}

}  // namespace
}  // namespace earshot::test::episode_test
