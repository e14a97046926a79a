#include "model/session_builder.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "session_feed.h"

namespace earshot::model::session_builder_test {
namespace {

using namespace testing;

constexpr std::uint64_t kFramesPerSecond = 16'000;  // 16 kHz mono
constexpr std::uint64_t kUploadPerSecond = 4'000;   // 32 kbit/s, an Opus voice stream

// The assistant: opens the microphone at 10 s, reads frames in (20 s, 25 s],
// uploads 4 KB each of those seconds, closes at 26 s.
void assistant_turn(SessionFeed& feed, double t, Window upload_window = Window::self) {
  if (t == 10) feed.open(t, 1, kAssistant);
  if (t > 10 && t <= 26) {
    auto seconds_read = static_cast<std::uint64_t>(std::clamp(t - 20, 0.0, 5.0));
    feed.frames(t, 1, kFramesPerSecond * seconds_read);
  }
  if (t > 20 && t <= 25) {
    feed.send(t, kAssistant, "voice.example.com", kUploadPerSecond, upload_window);
  }
  if (t == 26) feed.close(t, 1);
}

TEST(SessionBuilder, AssistantUploadingVoiceIsAudioUpload) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) { assistant_turn(feed, t); });
  ASSERT_EQ(feed.finished.size(), 1u);
  const Session& session = feed.finished[0];
  EXPECT_EQ(session.process.name, "assistant");
  EXPECT_EQ(session.device, "pcmC0D0c");
  EXPECT_EQ(session.start, seconds(20))
      << "frames flowed from the harvest before the first progress";
  EXPECT_EQ(session.end, seconds(26));
  EXPECT_EQ(session.ended_by, SessionEnd::close);
  EXPECT_EQ(session.frames, 5 * kFramesPerSecond);
  EXPECT_EQ(session.audio_bytes, 10 * kFramesPerSecond);
  EXPECT_TRUE(session.finished);
  EXPECT_EQ(session.verdict, Verdict::audio_upload);
  ASSERT_EQ(session.destinations.size(), 1u);
  const auto& voice = session.destinations[0];
  EXPECT_EQ(voice.destination, "voice.example.com");
  EXPECT_EQ(voice.self.bytes, 5 * kUploadPerSecond);
  EXPECT_EQ(voice.self.baseline_bytes_per_second, 0);
  EXPECT_TRUE(voice.self.audio_like);
  EXPECT_TRUE(voice.others.empty());
  const auto& counts = feed.builder.finished_counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.at({"assistant", Verdict::audio_upload}), 1u);
}

TEST(SessionBuilder, SessionStaysOpenUntilItsGracePeriodHasPassed) {
  SessionFeed feed;
  feed.run(1, 30, [&](double t) { assistant_turn(feed, t); });
  EXPECT_TRUE(feed.finished.empty()) << "ended at 26 s, grace runs to 31 s";
  auto open = feed.builder.open_sessions();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_FALSE(open[0].finished);
  EXPECT_EQ(open[0].ended_by, SessionEnd::close);
  EXPECT_EQ(open[0].verdict, Verdict::audio_upload);
  feed.tick(31);
  EXPECT_EQ(feed.finished.size(), 1u);
  EXPECT_TRUE(feed.builder.open_sessions().empty());
}

TEST(SessionBuilder, LiveSessionIsListedWhileCapturing) {
  SessionFeed feed;
  feed.run(1, 23, [&](double t) { assistant_turn(feed, t); });
  auto open = feed.builder.open_sessions();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].ended_by, SessionEnd::open);
  EXPECT_EQ(open[0].start, seconds(20));
  EXPECT_EQ(open[0].end, seconds(23));
  EXPECT_EQ(open[0].frames, 3 * kFramesPerSecond);
  ASSERT_EQ(open[0].destinations.size(), 1u);
  EXPECT_EQ(open[0].destinations[0].self.bytes, 3 * kUploadPerSecond);
}

TEST(SessionBuilder, ListenerThatSendsNothingIsQuiet) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 3, kListener);
    if (t > 10 && t <= 26) feed.frames(t, 3, kFramesPerSecond * static_cast<std::uint64_t>(t - 10));
    if (t == 26) feed.close(t, 3);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].verdict, Verdict::quiet);
  EXPECT_TRUE(feed.finished[0].destinations.empty());
  EXPECT_EQ(feed.finished[0].start, seconds(10));
  EXPECT_EQ(feed.finished[0].frames, 16 * kFramesPerSecond);
}

TEST(SessionBuilder, ChattyHeartbeatIsBaselineNotExcess) {
  // The chatty process sends 200 B every second throughout; the kernel tags
  // them none before the capture, other during it and grace after it.
  SessionFeed feed;
  feed.run(1, 60, [&](double t) {
    if (t == 10) feed.open(t, 3, kListener);
    if (t > 20 && t <= 25) feed.frames(t, 3, kFramesPerSecond * static_cast<std::uint64_t>(t - 20));
    if (t == 26) feed.close(t, 3);
    Window window = t <= 20   ? Window::none
                          : t <= 26 ? Window::other
                          : t <= 31 ? Window::grace
                                    : Window::none;
    feed.send(t, kChatty, "telemetry.example", 200, window);
  });
  EXPECT_TRUE(feed.finished_by("chatty").empty()) << "sending is not capturing";
  ASSERT_EQ(feed.finished.size(), 1u);
  const Session& session = feed.finished[0];
  EXPECT_EQ(session.verdict, Verdict::quiet);
  const auto* telemetry = find_destination(session, "telemetry.example");
  ASSERT_NE(telemetry, nullptr);
  EXPECT_EQ(telemetry->self.bytes, 0u);
  ASSERT_EQ(telemetry->others.size(), 1u);
  EXPECT_EQ(telemetry->others[0].process.name, "chatty");
  EXPECT_EQ(telemetry->others[0].bytes, 11 * 200u) << "harvests 21..31: session and grace";
  EXPECT_DOUBLE_EQ(telemetry->others[0].baseline_bytes_per_second, 200.0);
  EXPECT_EQ(telemetry->others[0].excess_bytes, 0u);
  EXPECT_FALSE(telemetry->others[0].above_baseline);
}

TEST(SessionBuilder, ChattyNextToAnAssistantDoesNotChangeItsVerdict) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    assistant_turn(feed, t);
    feed.send(t, kChatty, "telemetry.example", 200,
              t > 20 && t <= 26 ? Window::other : Window::none);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  const Session& session = feed.finished[0];
  EXPECT_EQ(session.verdict, Verdict::audio_upload);
  ASSERT_EQ(session.destinations.size(), 2u);
  EXPECT_EQ(session.destinations[0].destination, "voice.example.com") << "largest first";
  EXPECT_FALSE(session.destinations[1].others.at(0).above_baseline);
}

TEST(SessionBuilder, RelayUploaderBytesAppearInTheCapturersSession) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 4, kRelayCapture);
    if (t > 20 && t <= 25) {
      feed.frames(t, 4, kFramesPerSecond * static_cast<std::uint64_t>(t - 20));
      feed.send(t, kRelayUpload, "upload.example", kUploadPerSecond, Window::other);
    }
    if (t == 26) feed.close(t, 4);
  });
  EXPECT_TRUE(feed.finished_by("relay-b").empty());
  ASSERT_EQ(feed.finished.size(), 1u);
  const Session& session = feed.finished[0];
  EXPECT_EQ(session.process.name, "relay-a");
  EXPECT_EQ(session.verdict, Verdict::audio_upload);
  const auto* upload = find_destination(session, "upload.example");
  ASSERT_NE(upload, nullptr);
  EXPECT_EQ(upload->self.bytes, 0u);
  ASSERT_EQ(upload->others.size(), 1u);
  EXPECT_EQ(upload->others[0].process.name, "relay-b");
  EXPECT_EQ(upload->others[0].bytes, 5 * kUploadPerSecond);
  EXPECT_TRUE(upload->others[0].audio_like);
}

TEST(SessionBuilder, IdleGapSplitsOneOpenIntoTwoSessions) {
  SessionFeed feed;
  std::uint64_t total = 0;
  feed.run(1, 50, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if ((t > 20 && t <= 23) || (t > 28 && t <= 31)) total += kFramesPerSecond;
    if (t > 10 && t <= 35) feed.frames(t, 1, total);
    if (t == 35) feed.close(t, 1);
  });
  ASSERT_EQ(feed.finished.size(), 2u);
  EXPECT_EQ(feed.finished[0].start, seconds(20));
  EXPECT_EQ(feed.finished[0].end, seconds(23)) << "ends at its last frame progress";
  EXPECT_EQ(feed.finished[0].ended_by, SessionEnd::idle);
  EXPECT_EQ(feed.finished[0].frames, 3 * kFramesPerSecond);
  EXPECT_EQ(feed.finished[1].start, seconds(28));
  EXPECT_EQ(feed.finished[1].end, seconds(35));
  EXPECT_EQ(feed.finished[1].ended_by, SessionEnd::close);
  EXPECT_EQ(feed.finished[1].frames, 3 * kFramesPerSecond);
  EXPECT_NE(feed.finished[0].id, feed.finished[1].id);
}

TEST(SessionBuilder, PauseShorterThanIdleGapKeepsOneSession) {
  SessionFeed feed;
  std::uint64_t total = 0;
  feed.run(1, 50, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if ((t > 20 && t <= 23) || (t > 26 && t <= 28)) total += kFramesPerSecond;
    if (t > 10) feed.frames(t, 1, total);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].end, seconds(28));
  EXPECT_EQ(feed.finished[0].frames, 5 * kFramesPerSecond);
}

TEST(SessionBuilder, BytesAfterAnIdleSessionsGraceAreNotInIt) {
  // The handle stays open (the kernel keeps tagging the process's bytes
  // self), but frames stopped at 23 s: bytes harvested after 28 s are not the
  // session's, even though they arrived before it was known to be idle.
  SessionFeed feed;
  std::uint64_t total = 0;
  feed.run(1, 50, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if (t > 20 && t <= 23) total += kFramesPerSecond;
    if (t > 10) feed.frames(t, 1, total);
    if (t > 20) feed.send(t, kAssistant, "voice.example.com", 1000, Window::self);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].ended_by, SessionEnd::idle);
  EXPECT_EQ(feed.finished[0].destinations.at(0).self.bytes, 8 * 1000u) << "harvests 21..28";
}

TEST(SessionBuilder, OpenWithoutVisibleFramesStartsAtOpen) {
  SessionFeed feed;
  feed.run(1, 30, [&](double t) {
    if (t == 10) feed.open(t, 7, kAssistant, /*frames_visible=*/false);
    if (t == 15) feed.close(t, 7);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].start, seconds(10));
  EXPECT_EQ(feed.finished[0].end, seconds(15));
  EXPECT_FALSE(feed.finished[0].frames_visible);
  EXPECT_EQ(feed.finished[0].frames, 0u);
}

TEST(SessionBuilder, AnOpenThatNeverDeliversFramesIsOneSessionFromOpenToClose) {
  SessionFeed feed;
  feed.run(1, 30, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if (t > 10 && t < 20) feed.frames(t, 1, 0);
    if (t == 20) feed.close(t, 1);
    feed.send(t, kAssistant, "voice.example.com", 100, t > 10 && t <= 20 ? Window::self : Window::none);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  const Session& s = feed.finished[0];
  EXPECT_EQ(s.start, seconds(10));
  EXPECT_EQ(s.end, seconds(20));
  EXPECT_EQ(s.frames, 0u);
  EXPECT_EQ(s.ended_by, SessionEnd::close);
  // It sent at its usual rate: nothing above baseline.
  EXPECT_EQ(s.verdict, Verdict::quiet);
}

TEST(SessionBuilder, AnOpenWaitingForFramesIsNotEndedByIdleness) {
  SessionFeed feed;
  feed.run(1, 30, [&](double t) {
    if (t == 5) feed.open(t, 1, kAssistant);
    if (t > 5) feed.frames(t, 1, 0);
  });
  EXPECT_TRUE(feed.finished.empty());
  ASSERT_EQ(feed.builder.open_sessions().size(), 1u);
  EXPECT_EQ(feed.builder.open_sessions()[0].frames, 0u);
}

TEST(SessionBuilder, FramesStartingLaterStartTheSessionThenAndDropEarlierBytes) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    std::uint64_t frames = t > 15 && t <= 20 ? static_cast<std::uint64_t>(t - 15) * 16000 : (t > 20 ? 80000 : 0);
    if (t > 10) feed.frames(t, 1, frames);
    if (t == 22) feed.close(t, 1);
    if (t == 12) feed.send(t, kAssistant, "voice.example.com", 9000, Window::self);
    if (t > 15 && t <= 20) feed.send(t, kAssistant, "voice.example.com", 4000, Window::self);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].start, seconds(15));
  EXPECT_EQ(feed.finished[0].frames, 80000u);
  EXPECT_EQ(feed.finished[0].destinations.at(0).self.bytes, 5u * 4000);
}

TEST(SessionBuilder, GraceBytesAreIncludedAndLaterBytesAreNot) {
  SessionFeed feed;
  feed.run(1, 45, [&](double t) {
    assistant_turn(feed, t);
    if (t == 28) feed.send(t, kAssistant, "voice.example.com", 3000, Window::grace);
    if (t == 31) feed.send(t, kAssistant, "voice.example.com", 700, Window::grace);
    if (t == 40) feed.send(t, kAssistant, "voice.example.com", 5000, Window::none);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].destinations.at(0).self.bytes, 5 * kUploadPerSecond + 3000 + 700);
}

TEST(SessionBuilder, BytesTaggedNoneAreNeverInASession) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    assistant_turn(feed, t);
    if (t == 23) feed.send(t, kChatty, "elsewhere.example", 9000, Window::none);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(find_destination(feed.finished[0], "elsewhere.example"), nullptr);
}

TEST(SessionBuilder, PidReuseIsADifferentProcess) {
  // The assistant (pid 100) captures and exits; a new process gets pid 100
  // and sends in the grace period: its bytes are another process's.
  const ProcessRef reused{kAssistant.tgid, seconds(27), "assistant"};
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    assistant_turn(feed, t);
    if (t == 28) feed.send(t, reused, "voice.example.com", 3000, Window::grace);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  const auto& voice = feed.finished[0].destinations.at(0);
  EXPECT_EQ(voice.self.bytes, 5 * kUploadPerSecond);
  ASSERT_EQ(voice.others.size(), 1u);
  EXPECT_EQ(voice.others[0].process.tgid, kAssistant.tgid);
  EXPECT_EQ(voice.others[0].process.start_ns, seconds(27));
  EXPECT_EQ(voice.others[0].bytes, 3000u);
}

TEST(SessionBuilder, OrderWithinAHarvestDoesNotMatter) {
  // The sample of the first harvest with frames arrives before the frames.
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if (t > 20 && t <= 25) {
      feed.send(t, kAssistant, "voice.example.com", kUploadPerSecond, Window::self);
      feed.frames(t, 1, kFramesPerSecond * static_cast<std::uint64_t>(t - 20));
    }
    if (t == 26) feed.close(t, 1);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].destinations.at(0).self.bytes, 5 * kUploadPerSecond);
}

TEST(SessionBuilder, UploadAboveTheUsualRateIsExcess) {
  // The assistant usually sends 1 KB/s to its vendor; during the capture it
  // sends 5 KB/s there: the excess (4 KB/s) is the audio.
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    assistant_turn(feed, t, Window::self);
    bool capture = t > 20 && t <= 25;
    feed.send(t, kAssistant, "voice.example.com", 1000,
              capture             ? Window::self
              : t > 25 && t <= 31 ? Window::grace
                                  : Window::none);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  const auto& voice = feed.finished[0].destinations.at(0);
  EXPECT_DOUBLE_EQ(voice.self.baseline_bytes_per_second, 1000.0);
  EXPECT_EQ(voice.self.bytes, 5 * kUploadPerSecond + 11 * 1000u);
  EXPECT_EQ(voice.self.excess_bytes, 5 * kUploadPerSecond);
  EXPECT_EQ(feed.finished[0].verdict, Verdict::audio_upload);
}

TEST(SessionBuilder, OneBurstIsUploadNotAudio) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if (t > 20 && t <= 25) feed.frames(t, 1, kFramesPerSecond * static_cast<std::uint64_t>(t - 20));
    if (t == 26) feed.close(t, 1);
    if (t == 22) feed.send(t, kAssistant, "photos.example", 500'000, Window::self);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  EXPECT_EQ(feed.finished[0].verdict, Verdict::upload);
}

TEST(SessionBuilder, RecentKeepsTheLastSessionsAndCountsAll) {
  SessionConfig config = test_config();
  config.sessions_kept = 2;
  SessionFeed feed(config);
  feed.run(1, 100, [&](double t) {
    int slot = static_cast<int>(t) / 20;  // a 5 s capture in each 20 s
    int phase = static_cast<int>(t) % 20;
    std::uint64_t handle = static_cast<std::uint64_t>(slot + 1);
    if (phase == 1) feed.open(t, handle, kListener);
    if (phase > 1 && phase <= 6)
      feed.frames(t, handle, kFramesPerSecond * static_cast<std::uint64_t>(phase));
    if (phase == 7) feed.close(t, handle);
  });
  EXPECT_EQ(feed.finished.size(), 5u);
  ASSERT_EQ(feed.builder.recent().size(), 2u);
  EXPECT_EQ(feed.builder.recent().back().id, feed.finished.back().id);
  EXPECT_EQ(feed.builder.finished_counts().at({"listener", Verdict::quiet}), 5u);
}

TEST(SessionBuilder, FramesForAnUnknownHandleAreCounted) {
  SessionFeed feed;
  feed.frames(5, 99, 100);
  feed.close(6, 99);
  EXPECT_EQ(feed.builder.unknown_handle_events(), 2u);
}

}  // namespace
}  // namespace earshot::model::session_builder_test
