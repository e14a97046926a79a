// Kernel lane: clients of sound servers, seen by the real daemon through
// the libpulse and libpipewire uprobes. The test starts the server itself
// (PulseAudio with a null sink; PipeWire with WirePlumber and a null
// source: no ALSA, no D-Bus) and, in namespace A of a pair:
//   recorder   parecord (or pw-record) records for a few seconds and sends
//              nothing: a session named after it, the server as `via`,
//              frames counted, verdict quiet;
//   uploader   earshot-sound-client records through the same server and
//              uploads 4000 B/s to B meanwhile: audio-upload, its own bytes.
// Names get a per-run tag, as in the session scenario. The daemon runs in
// A, so the machine's loopback traffic is not in the sessions.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "daemon.h"
#include "event_log.h"
#include "in_netns.h"
#include "metrics.h"
#include "netns.h"
#include "poll_until.h"
#include "process.h"
#include "run_tag.h"
#include "sound_servers.h"
#include "temp_dir.h"

namespace earshot::test::sound_server_test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kSpeaker = EARSHOT_SPEAKER_BINARY;
constexpr const char* kSoundClient = EARSHOT_SOUND_CLIENT_BINARY;
constexpr std::uint16_t kUploadPort = 6100;
constexpr std::uint64_t kDatagramSize = 200;  // every 50 ms: 4000 B/s, 32 kbit/s
constexpr const char* kOpens = "earshot_capture_opens_total";
constexpr const char* kFrames = "earshot_capture_frames_total";
constexpr const char* kSessions = "earshot_capture_sessions_total";
constexpr const char* kHooks = "earshot_hook_attached";

double number(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : -1;
}

std::uint64_t summary_value(const std::string& output, const std::string& key) {
  auto at = output.rfind(key + "=");
  if (at == std::string::npos) return 0;
  return std::strtoull(output.c_str() + at + key.size() + 1, nullptr, 10);
}

class SoundServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netns_test_unavailable_reason(Nft::not_needed)) GTEST_SKIP() << *reason;
    if (std::string(kSoundClient).empty())
      GTEST_SKIP() << "earshot-sound-client not built: libpulse-dev and libpipewire-0.3-dev "
                      "were missing when cmake ran (scripts/setup.sh installs them)";
    pair_.emplace();
    dir_.emplace("earshot-sound");
    events_ = dir_->file("events.jsonl");
    peer_.emplace(
        std::vector<std::string>{kSpeaker, "peer", std::to_string(kUploadPort), "--proto", "udp"},
        ChildOptions{.netns_path = pair_->b().path});
    ASSERT_TRUE(peer_->wait_for_output("ready", 10s)) << peer_->stderr_text();
  }
  void TearDown() override {
    if (daemon_) {
      if (HasFailure()) std::cout << "daemon log:\n" << daemon_->log() << std::endl;
      EXPECT_EQ(daemon_->stop(), 0);
    }
    daemon_.reset();
    peer_.reset();
  }

  void start_daemon(const std::string& tiers) {
    daemon_.emplace(DaemonOptions{
        .binary = kDaemon,
        .config_yaml = "harvest:\n  interval: 200ms\n"
                       "capture:\n  sysfs: false\n  tiers: " +
                       tiers +
                       "\ncorrelation:\n  grace: 2s\n  idle_gap: 1s\n  baseline: 30s\n"
                       "events:\n  file: \"" +
                       events_ + "\"\ndestinations: []\n",
        .extra_arguments = {"--log.level=debug"},
        .netns_path = pair_->a().path});
  }

  std::vector<json> sessions_of(const std::string& process) const {
    return select_events(read_event_lines(events_), "session", process);
  }
  // The one session of `process`, once its grace period is over.
  json wait_for_session(const std::string& process) {
    bool reported = poll_until([&] { return !sessions_of(process).empty(); }, 40s);
    EXPECT_TRUE(reported) << "no session line for " << process << " within 40 s";
    auto sessions = sessions_of(process);
    EXPECT_EQ(sessions.size(), 1U) << json(sessions).dump(2);
    return sessions.empty() ? json::object() : sessions[0];
  }
  MetricsScrape scrape() {
    MetricsScrape out;
    run_in_netns(pair_->a().path, [&] { out = daemon_->scrape(); });
    return out;
  }
  std::vector<std::string> upload_arguments() const {
    return {"--seconds",     "5",
            "--peer",        pair_->b().ipv4,
            "--port",        std::to_string(kUploadPort),
            "--size",        std::to_string(kDatagramSize),
            "--interval-ms", "50"};
  }

  // A recorder named `name`, stopped after it recorded for a while: its session.
  json record_quietly(ChildProcess& recorder, const std::string& name) {
    // Recording for 4 s: the open, then frames (the daemon counts them).
    EXPECT_TRUE(poll_until([&] { return !recorder.running(); }, 4s) == false)
        << name << " exited early:\n"
        << recorder.stderr_text();
    recorder.kill(SIGINT);
    recorder.wait(10s);
    return wait_for_session(name);
  }

  // The uploader's session: audio-upload, its own bytes to B, via the server.
  void expect_uploader(const json& session, const std::string& via, pid_t via_pid,
                       std::uint64_t datagrams) {
    EXPECT_EQ(session.value("verdict", ""), "audio-upload") << session.dump(2);
    EXPECT_EQ(session.value("via", ""), via) << session.dump(2);
    EXPECT_EQ(number(session, "via_pid"), via_pid) << session.dump(2);
    EXPECT_GT(number(session, "frames"), 0) << session.dump(2);
    const json* peer = find_destination(session, pair_->b().ipv4);
    ASSERT_NE(peer, nullptr) << session.dump(2);
    const double payload = static_cast<double>(datagrams * kDatagramSize);
    EXPECT_NEAR(number(*peer, "self_bytes"), payload, 0.05 * payload) << session.dump(2);
  }

  std::optional<NetnsPair> pair_;
  std::optional<TempDir> dir_;
  std::string events_;
  std::optional<ChildProcess> peer_;
  std::optional<DaemonProcess> daemon_;
};

TEST_F(SoundServerTest, PulseAudioClientsAreTheCapturersAndTheServerIsVia) {
  if (auto reason = PulseServer::unavailable_reason()) GTEST_SKIP() << *reason;
  const std::string tag = run_tag();
  const std::string recorder_name = "parecord-" + tag, uploader_name = "pa-upload-" + tag;
  PulseServer server;
  start_daemon("[libpulse]");
  {
    SCOPED_TRACE("the hook attached to libpulse");
    auto hooks = scrape();
    EXPECT_EQ(hooks.sum(kHooks, {{"hook", "uprobe_libpulse"}}), 1) << daemon_->log();
  }

  // parecord (pacat records when its name has "rec" in it), sending
  // nothing, in fragments of 100 ms (its default, 2 s, would be longer than
  // the idle gap that ends a session).
  ChildProcess recorder({dir_->copy_executable("/usr/bin/parecord", recorder_name), "-d",
                         PulseServer::kSource, "--raw", "--latency-msec=100"},
                        {.netns_path = pair_->a().path,
                         .stdout_path = "/dev/null",
                         .environment = server.client_environment()});
  json quiet = record_quietly(recorder, recorder_name);
  EXPECT_EQ(quiet.value("verdict", ""), "quiet") << quiet.dump(2);
  EXPECT_EQ(quiet.value("via", ""), "pulseaudio") << quiet.dump(2);
  EXPECT_EQ(number(quiet, "via_pid"), server.pid()) << quiet.dump(2);
  EXPECT_EQ(quiet.value("device", ""), std::string("pulseaudio:") + PulseServer::kSource);
  EXPECT_GT(number(quiet, "frames"), 0) << quiet.dump(2);
  auto opens = select_events(read_event_lines(events_), "capture_open", recorder_name);
  ASSERT_EQ(opens.size(), 1U) << json(opens).dump(2);
  EXPECT_EQ(opens[0].value("tier", ""), "libpulse");
  EXPECT_EQ(opens[0].value("via", ""), "pulseaudio");

  // A client that records through libpulse and uploads while it does.
  ChildProcess uploader = [&] {
    std::vector<std::string> argv = {dir_->copy_executable(kSoundClient, uploader_name), "pulse",
                                     "--source", PulseServer::kSource};
    for (auto& a : upload_arguments()) argv.push_back(a);
    return ChildProcess(
        argv, {.netns_path = pair_->a().path, .environment = server.client_environment()});
  }();
  ASSERT_EQ(uploader.wait(60s), 0) << uploader.stderr_text();
  const std::uint64_t datagrams = summary_value(uploader.stdout_text(), "sent_datagrams");
  EXPECT_GE(datagrams, 80U) << uploader.stdout_text();
  expect_uploader(wait_for_session(uploader_name), "pulseaudio", server.pid(), datagrams);

  MetricsScrape metrics = scrape();
  const std::string device = std::string("pulseaudio:") + PulseServer::kSource;
  EXPECT_EQ(metrics.sum(kOpens, {{"process", recorder_name}, {"device", device}}), 1)
      << metrics.text(kOpens, {});
  EXPECT_GT(metrics.sum(kFrames, {{"process", recorder_name}, {"device", device}}), 0)
      << metrics.text(kFrames, {});
  EXPECT_EQ(metrics.sum(kSessions, {{"process", recorder_name}, {"verdict", "quiet"}}), 1);
  EXPECT_EQ(metrics.sum(kSessions, {{"process", uploader_name}, {"verdict", "audio-upload"}}), 1);
  {
    SCOPED_TRACE("/api/sessions names the server too");
    HttpResponse api;
    run_in_netns(pair_->a().path, [&] { api = daemon_->get("/api/sessions"); });
    ASSERT_EQ(api.status, 200);
    json listed = json::parse(api.body, nullptr, false);
    ASSERT_TRUE(listed.is_object() && listed.contains("recent")) << api.body;
    int found = 0;
    for (const auto& session : listed["recent"]) {
      if (session.value("process", "") != recorder_name &&
          session.value("process", "") != uploader_name)
        continue;
      ++found;
      EXPECT_EQ(session.value("via", ""), "pulseaudio") << session.dump(2);
      EXPECT_EQ(number(session, "via_pid"), server.pid()) << session.dump(2);
    }
    EXPECT_EQ(found, 2) << api.body;
  }
  if (HasFailure()) std::cout << "pulseaudio log:\n" << server.log() << std::endl;
}

TEST_F(SoundServerTest, PipeWireClientsAreTheCapturersAndTheServerIsVia) {
  if (auto reason = PipeWireServer::unavailable_reason()) GTEST_SKIP() << *reason;
  const std::string tag = run_tag();
  const std::string recorder_name = "pw-record-" + tag, uploader_name = "pw-upload-" + tag;
  PipeWireServer server;
  start_daemon("[libpipewire]");
  {
    SCOPED_TRACE("the hook attached to libpipewire");
    auto hooks = scrape();
    EXPECT_EQ(hooks.sum(kHooks, {{"hook", "uprobe_libpipewire"}}), 1) << daemon_->log();
  }

  // pw-record is pw-cat --record; a copy under another name needs the flag.
  ChildProcess recorder({dir_->copy_executable("/usr/bin/pw-cat", recorder_name), "--record",
                         "--target", PipeWireServer::kSource, "-"},
                        {.netns_path = pair_->a().path,
                         .stdout_path = "/dev/null",
                         .environment = server.client_environment()});
  json quiet = record_quietly(recorder, recorder_name);
  EXPECT_EQ(quiet.value("verdict", ""), "quiet") << quiet.dump(2);
  EXPECT_EQ(quiet.value("via", ""), "pipewire") << quiet.dump(2);
  EXPECT_EQ(number(quiet, "via_pid"), server.pid()) << quiet.dump(2);
  EXPECT_EQ(quiet.value("device", ""), "pipewire");
  EXPECT_GT(number(quiet, "frames"), 0) << quiet.dump(2);
  auto opens = select_events(read_event_lines(events_), "capture_open", recorder_name);
  ASSERT_EQ(opens.size(), 1U) << json(opens).dump(2);
  EXPECT_EQ(opens[0].value("tier", ""), "libpipewire");

  ChildProcess uploader = [&] {
    std::vector<std::string> argv = {dir_->copy_executable(kSoundClient, uploader_name), "pipewire",
                                     "--target", PipeWireServer::kSource};
    for (auto& a : upload_arguments()) argv.push_back(a);
    return ChildProcess(
        argv, {.netns_path = pair_->a().path, .environment = server.client_environment()});
  }();
  ASSERT_EQ(uploader.wait(60s), 0) << uploader.stderr_text();
  const std::uint64_t datagrams = summary_value(uploader.stdout_text(), "sent_datagrams");
  EXPECT_GE(datagrams, 80U) << uploader.stdout_text();
  expect_uploader(wait_for_session(uploader_name), "pipewire", server.pid(), datagrams);

  MetricsScrape metrics = scrape();
  EXPECT_EQ(metrics.sum(kOpens, {{"process", recorder_name}, {"device", "pipewire"}}), 1)
      << metrics.text(kOpens, {});
  EXPECT_GT(metrics.sum(kFrames, {{"process", recorder_name}, {"device", "pipewire"}}), 0)
      << metrics.text(kFrames, {});
  EXPECT_EQ(metrics.sum(kSessions, {{"process", uploader_name}, {"verdict", "audio-upload"}}), 1);
  if (HasFailure()) std::cout << server.log() << std::endl;
}

// A library that is not one (here: an empty file given as capture.libpulse)
// fails its hook alone, with the reason; the other sound server hook and
// counting run.
TEST(SoundServerHooks, AHookWhoseLibraryCannotBeProbedFailsAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF";
  TempDir dir("earshot-sound-hooks");
  const std::string fake = dir.write_file("libpulse.so.0", "");
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = "harvest:\n  interval: 200ms\ncapture:\n  sysfs: false\n"
                                       "  libpulse: \"" +
                                       fake + "\"\n"});
  auto scrape = daemon.scrape();
  EXPECT_EQ(scrape.sum(kHooks, {{"hook", "uprobe_libpulse"}}), 0) << daemon.log();
  EXPECT_EQ(scrape.sum(kHooks, {{"hook", "uprobe_libpipewire"}}), 1) << daemon.log();
  EXPECT_EQ(scrape.sum(kHooks, {{"hook", "netfilter_ipv4"}}), 1) << daemon.log();
  EXPECT_NE(daemon.log().find(fake), std::string::npos)
      << "the reason names the file that could not be probed:\n"
      << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace earshot::test::sound_server_test
