// Sessions of clients behind a sound server (PulseAudio, PipeWire): the
// client is the one capturing, the server is named as `via`; the server's
// own hold on the device stays a session, which lists its clients and is
// not judged on their uploads.
#include <gtest/gtest.h>

#include "model/capture_tracker.h"
#include "model/event_lines.h"
#include "model/session_builder.h"
#include "model/session_policy.h"
#include "session_feed.h"

namespace earshot::model::sound_server_sessions_test {
namespace {

using namespace testing;

const ProcessRef kServer{50, seconds(1), "pipewire"};
const ProcessRef kServerAsNamed{50, 0, "pipewire"};  // the collector knows no start time
const ProcessRef kClient{100, seconds(1), "assistant"};
const ProcessRef kQuietClient{300, seconds(1), "listener"};
constexpr std::uint64_t kFramesPerSecond = 16'000;
constexpr std::uint64_t kUploadPerSecond = 4'000;  // 32 kbit/s

// The server holds the device (handle 1) from 2 s to 40 s; the client
// records through it (handle 2) from 10 s, frames in (10 s, 20 s], and
// uploads in (12 s, 18 s] when `uploads`; it stops at 20 s.
std::vector<Session> server_and_client(bool uploads, const ProcessRef& client = kClient) {
  SessionFeed feed;
  feed.run(1, 60, [&](double t) {
    if (t == 2) feed.open(t, 1, kServer, true, "pcmC0D0c");
    if (t > 2 && t <= 40) feed.frames(t, 1, kFramesPerSecond * static_cast<std::uint64_t>(t - 2));
    if (t == 40) feed.close(t, 1);
    if (t == 10)
      feed.builder.on(CaptureOpened{seconds(t), 2, client, "pipewire", true, kServerAsNamed});
    if (t > 10 && t <= 20) feed.frames(t, 2, kFramesPerSecond * static_cast<std::uint64_t>(t - 10));
    if (t == 20) feed.close(t, 2);
    if (uploads && t > 12 && t <= 18)
      feed.send(t, client, "voice.example.com", kUploadPerSecond, Window::self);
  });
  return feed.finished;
}

const Session* session_of(const std::vector<Session>& sessions, const std::string& process) {
  for (const auto& session : sessions)
    if (session.process.name == process) return &session;
  return nullptr;
}

TEST(SoundServerSessions, AClientThatRecordsAndUploadsIsAudioUploadViaTheServer) {
  auto sessions = server_and_client(true);
  const Session* client = session_of(sessions, "assistant");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->verdict, Verdict::audio_upload);
  ASSERT_TRUE(client->via);
  EXPECT_EQ(client->via->name, "pipewire");
  EXPECT_EQ(client->via->tgid, 50u);
  EXPECT_EQ(client->device, "pipewire");
  EXPECT_EQ(client->frames, 10 * kFramesPerSecond);
  ASSERT_EQ(client->destinations.size(), 1u);
  EXPECT_EQ(client->destinations[0].self.bytes, 6 * kUploadPerSecond);
  EXPECT_TRUE(client->clients.empty());
}

TEST(SoundServerSessions, TheServersHoldStaysVisibleListsItsClientAndIsNotTheSuspect) {
  auto sessions = server_and_client(true);
  const Session* server = session_of(sessions, "pipewire");
  ASSERT_NE(server, nullptr) << "the server's own hold on the device is a session";
  EXPECT_FALSE(server->via);
  ASSERT_EQ(server->clients.size(), 1u);
  EXPECT_EQ(server->clients[0].name, "assistant");
  EXPECT_EQ(server->clients[0].tgid, 100u);
  // The client's upload is in the server's session as another's bytes, but
  // only the client's own session is judged on it.
  ASSERT_EQ(server->destinations.size(), 1u);
  ASSERT_EQ(server->destinations[0].others.size(), 1u);
  EXPECT_EQ(server->destinations[0].others[0].process.name, "assistant");
  EXPECT_EQ(server->verdict, Verdict::quiet);

  SessionPolicy policy({.capture_allowed = {}, .upload_allowed = {"cloud.example.com"}});
  EXPECT_TRUE(policy.check(*server).empty()) << "the server is not the upload suspect";
  auto alerts = policy.check(*session_of(sessions, "assistant"));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].process.name, "assistant");
  EXPECT_EQ(alerts[0].kind, PolicyViolation::upload_not_allowed);
}

TEST(SoundServerSessions, AClientThatSendsNothingIsQuiet) {
  auto sessions = server_and_client(false, kQuietClient);
  const Session* client = session_of(sessions, "listener");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->verdict, Verdict::quiet);
  ASSERT_TRUE(client->via);
  EXPECT_EQ(client->via->name, "pipewire");
  EXPECT_EQ(session_of(sessions, "pipewire")->verdict, Verdict::quiet);
}

TEST(SoundServerSessions, WithoutKnownClientsTheServerIsJudgedOnEverythingSentDuringIt) {
  // Another process uploads while the server captures and no client is
  // known (one the uprobes cannot see): the server's session shows it.
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 2) feed.open(t, 1, kServer);
    if (t > 2 && t <= 20) feed.frames(t, 1, kFramesPerSecond * static_cast<std::uint64_t>(t - 2));
    if (t == 20) feed.close(t, 1);
    if (t > 12 && t <= 18)
      feed.send(t, kClient, "voice.example.com", kUploadPerSecond, Window::other);
  });
  const Session* server = session_of(feed.finished, "pipewire");
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->clients.empty());
  EXPECT_NE(server->verdict, Verdict::quiet);
}

TEST(SoundServerSessions, AServerSessionStartedAfterItsClientStillListsIt) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 2)
      feed.builder.on(CaptureOpened{seconds(t), 2, kClient, "pipewire", true, kServerAsNamed});
    if (t > 2 && t <= 20) feed.frames(t, 2, kFramesPerSecond * static_cast<std::uint64_t>(t - 2));
    if (t == 5) feed.open(t, 1, kServer);
    if (t > 5 && t <= 20) feed.frames(t, 1, kFramesPerSecond * static_cast<std::uint64_t>(t - 5));
    if (t == 20) {
      feed.close(t, 1);
      feed.close(t, 2);
    }
  });
  const Session* server = session_of(feed.finished, "pipewire");
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->clients.size(), 1u);
  EXPECT_EQ(server->clients[0].name, "assistant");
}

TEST(SoundServerSessions, AServerNotFoundIsNamedByItsProtocolAndListsNoClients) {
  SessionFeed feed;
  const ProcessRef unknown{0, 0, "pulse"};
  feed.run(1, 30, [&](double t) {
    if (t == 2) feed.open(t, 1, kServer);
    if (t > 2 && t <= 10) feed.frames(t, 1, kFramesPerSecond * static_cast<std::uint64_t>(t - 2));
    if (t == 3)
      feed.builder.on(CaptureOpened{seconds(t), 2, kClient, "pulse:default", true, unknown});
    if (t > 3 && t <= 10) feed.frames(t, 2, kFramesPerSecond * static_cast<std::uint64_t>(t - 3));
    if (t == 10) {
      feed.close(t, 1);
      feed.close(t, 2);
    }
  });
  ASSERT_EQ(feed.finished.size(), 2u);
  const Session* client = session_of(feed.finished, "assistant");
  ASSERT_TRUE(client && client->via);
  EXPECT_EQ(client->via->name, "pulse");
  EXPECT_TRUE(session_of(feed.finished, "pipewire")->clients.empty());
}

TEST(SoundServerSessions, SessionJsonNamesTheServerAndTheClients) {
  auto sessions = server_and_client(true);
  nlohmann::json client = to_json(*session_of(sessions, "assistant"), 0);
  EXPECT_EQ(client["via"], "pipewire");
  EXPECT_EQ(client["via_pid"], 50);
  EXPECT_TRUE(client["clients"].empty());
  nlohmann::json server = to_json(*session_of(sessions, "pipewire"), 0);
  EXPECT_TRUE(server["via"].is_null());
  EXPECT_TRUE(server["via_pid"].is_null());
  ASSERT_EQ(server["clients"].size(), 1u);
  EXPECT_EQ(server["clients"][0]["process"], "assistant");
  EXPECT_EQ(server["clients"][0]["pid"], 100);
}

// The tracker: what the collector hands over for a sound server tier's open.
struct Tracker {
  SessionBuilder sessions{test_config()};
  CaptureTracker tracker{sessions};

  CaptureTracker::Opened open(double t, HandleId id, const std::string& device,
                              std::optional<ProcessRef> via) {
    return tracker.opened(seconds(t), id, 0, [&] {
      return CaptureNames{kClient, "", device, via};
    });
  }
};

TEST(SoundServerSessions, AClientOpenIsRecordedWithItsServer) {
  Tracker t;
  auto opened = t.open(1, {100, Tier::libpulse, 0x5000}, "pulseaudio:nul.monitor",
                       ProcessRef{60, 0, "pulseaudio"});
  ASSERT_TRUE(opened.record);
  ASSERT_TRUE(opened.record->via);
  nlohmann::json line = event_line(*opened.record, 0);
  EXPECT_EQ(line["via"], "pulseaudio");
  EXPECT_EQ(line["via_pid"], 60);
  EXPECT_EQ(line["tier"], "libpulse");
  EXPECT_EQ(line["device"], "pulseaudio:nul.monitor");
  auto closed = t.tracker.closed(seconds(2), {{100, Tier::libpulse, 0x5000}, 3200, 6400});
  ASSERT_TRUE(closed && closed->via);
  EXPECT_EQ(event_line(*closed, 0)["via"], "pulseaudio");
}

TEST(SoundServerSessions, AnAlsaApplicationOnTheServersPluginIsOneCaptureViaTheServer) {
  // arecord -D pulse: libasound sees snd_pcm_open first, then the plugin
  // connects a record stream through libpulse in the same process.
  Tracker t;
  HandleId pcm{100, Tier::libasound, 0x10}, stream{100, Tier::libpulse, 0x20};
  ASSERT_TRUE(t.open(1, pcm, "alsa:pulse", std::nullopt).record);
  auto duplicate = t.open(1.5, stream, "pulseaudio:default", ProcessRef{60, 0, "pulseaudio"});
  EXPECT_EQ(duplicate.counted_as, pcm);
  EXPECT_FALSE(duplicate.record);
  t.tracker.harvest(seconds(2), {{pcm, 16000, 32000}});
  auto open = t.sessions.open_sessions();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].device, "alsa:pulse");
  ASSERT_TRUE(open[0].via);
  EXPECT_EQ(open[0].via->name, "pulseaudio");
  EXPECT_EQ(t.tracker.ledger().open_handles(), 1u);
}

}  // namespace
}  // namespace earshot::model::sound_server_sessions_test
