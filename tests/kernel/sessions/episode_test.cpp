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
// Detection: short captures, each with one of: a voice upload by the
// capturing process, a voice upload by another process (a relay), or a
// decoy (a download, a heartbeat, a bulk upload of a few MB, nothing).
// Precision and recall of the audio-upload verdict over the trials must be
// >= 0.95. The kernel lane runs a small sample; the `detection` label runs
// enough trials for the figure (README, "Detection").
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <iostream>
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
    for (auto [port, proto] : {std::pair{kTcpPort, "tcp"}, std::pair{kUdpPort, "udp"}}) {
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
        .netns_path = pair_->a().path});
  }

  // A speaker run in A against the peer: listen arguments after --proto.
  std::unique_ptr<ChildProcess> start(const std::string& binary, bool tcp,
                                      std::vector<std::string> arguments) {
    std::vector<std::string> argv = {binary,   "listen",
                                     "--peer", pair_->b().ipv4,
                                     "--port", std::to_string(tcp ? kTcpPort : kUdpPort),
                                     "--proto", tcp ? "tcp" : "udp"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto child = std::make_unique<ChildProcess>(argv, ChildOptions{.netns_path = pair_->a().path});
    EXPECT_TRUE(child->wait_for_output("opened", 20s)) << child->stderr_text();
    return child;
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

enum class Trial { voice_self, voice_relay, download, heartbeat, bulk, silent };
const char* to_string(Trial t) {
  switch (t) {
    case Trial::voice_self:
      return "voice_self";
    case Trial::voice_relay:
      return "voice_relay";
    case Trial::download:
      return "download";
    case Trial::heartbeat:
      return "heartbeat";
    case Trial::bulk:
      return "bulk";
    case Trial::silent:
      return "silent";
  }
  return "?";
}

TEST_F(EpisodeTest, EARSHOT_DETECTION_TEST) {
  const std::uint32_t seed = seed_for_this_run();
  std::mt19937 random(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  constexpr int kTrials = EARSHOT_DETECTION_TRIALS;
  // Half of the trials voice uploads, half decoys, shuffled.
  std::vector<Trial> trials;
  const Trial kinds[] = {Trial::voice_self, Trial::download,   Trial::voice_relay,
                         Trial::heartbeat,  Trial::voice_self, Trial::bulk,
                         Trial::voice_relay, Trial::silent};
  for (int i = 0; i < kTrials; ++i) trials.push_back(kinds[i % std::size(kinds)]);
  std::shuffle(trials.begin(), trials.end(), random);

  const std::string name = process_name(speaker_);
  int true_positive = 0, false_positive = 0, false_negative = 0, true_negative = 0;
  std::ostringstream log;
  log << "seed " << seed << ", " << kTrials << " trials\n";
  std::size_t sessions_before = 0;
  for (int i = 0; i < kTrials; ++i) {
    const Trial trial = trials[i];
    const bool tcp = random() % 2 == 0;
    const double capture = uniform(8, 11), at = uniform(1.5, 3), len = uniform(2.5, 5);
    const int rate = static_cast<int>(uniform(2000, 8000));
    auto action = [&](int r) {
      return std::to_string(at) + ":" + std::to_string(len) + ":" + std::to_string(r);
    };
    std::vector<std::string> args = {"--device", microphone_, "--seconds",
                                     std::to_string(capture)};
    if (trial != Trial::heartbeat) args.insert(args.end(), {"--keepalive-ms", "0"});
    if (trial == Trial::voice_self) args.insert(args.end(), {"--upload", action(rate)});
    if (trial == Trial::download)
      args.insert(args.end(), {"--download", action(tcp ? 300'000 : 100'000)});
    if (trial == Trial::heartbeat)
      args.insert(args.end(), {"--keepalive-ms", "1000", "--keepalive-size", "100"});
    if (trial == Trial::bulk)
      args.insert(args.end(), {"--upload", action(static_cast<int>(uniform(1'000'000, 2'000'000)))});
    auto speaker = start(speaker_, tcp, args);
    std::unique_ptr<ChildProcess> relay;
    if (trial == Trial::voice_relay)
      relay = start(relay_, tcp, {"--seconds", std::to_string(at + len + 0.5), "--keepalive-ms",
                                  "0", "--upload", action(rate)});
    ASSERT_EQ(speaker->wait(60s), 0) << speaker->stderr_text();
    if (relay) {
      ASSERT_EQ(relay->wait(60s), 0) << relay->stderr_text();
    }
    // Its session, once the grace period is over.
    std::vector<json> sessions;
    ASSERT_TRUE(poll_until(
        [&] {
          sessions = select_events(read_event_lines(events_), "session", name);
          return sessions.size() > sessions_before;
        },
        30s))
        << "no session line for trial " << i << "; daemon log:\n"
        << daemon_->log();
    sessions_before = sessions.size();
    const std::uint64_t session_id = sessions.back().value("id", std::uint64_t{0});
    bool flagged = false;
    std::string verdicts;
    for (const auto& e : select_events(read_event_lines(events_), "upload_episode")) {
      if (e.value("session_id", std::uint64_t{0}) != session_id) continue;
      verdicts += e.value("verdict", "") + " (" + e.value("process", "") + ") ";
      flagged = flagged || e.value("verdict", "") == "audio-upload";
    }
    const bool voice = trial == Trial::voice_self || trial == Trial::voice_relay;
    (voice ? (flagged ? true_positive : false_negative)
           : (flagged ? false_positive : true_negative))++;
    log << "trial " << i << " " << to_string(trial) << (tcp ? " tcp" : " udp") << " rate "
        << rate << " len " << len << ": " << (verdicts.empty() ? "no episode" : verdicts)
        << (voice != flagged ? "  <- WRONG" : "") << "\n";
  }
  const double precision =
      true_positive + false_positive ? double(true_positive) / (true_positive + false_positive) : 1;
  const double recall =
      true_positive + false_negative ? double(true_positive) / (true_positive + false_negative) : 1;
  log << "audio-upload: tp " << true_positive << " fp " << false_positive << " fn "
      << false_negative << " tn " << true_negative << ", precision " << precision << " recall "
      << recall << "\n";
  std::cout << log.str() << std::flush;
  ::testing::Test::RecordProperty("detection", log.str());
  EXPECT_GE(precision, 0.95) << log.str();
  EXPECT_GE(recall, 0.95) << log.str();
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
}

}  // namespace
}  // namespace earshot::test::episode_test
