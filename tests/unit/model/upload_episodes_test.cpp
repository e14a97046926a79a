#include "model/upload_episodes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <random>

namespace earshot::model::upload_episodes_test {
namespace {

constexpr MonotonicNs kSecond = 1'000'000'000ULL;
const EpisodeSender kSpeaker{"100:7", "wakeword", 100};
const std::string kCloud = "voice.example";

// A second's payload sent in packets of `packet` bytes, nothing received:
// voice frames of 100 bytes unless said otherwise.
FlowShape sent(std::uint64_t bytes, std::uint64_t packet = 100) {
  FlowShape shape;
  shape.payload_bytes = bytes;
  shape.packets = bytes ? std::max<std::uint64_t>(1, bytes / packet) : 0;
  if (packet <= 64) {
    shape.ack_sized_packets = shape.packets;
    shape.ack_sized_payload = bytes;
  }
  return shape;
}

// Feeds one harvest a second (at t + 0.5 s, as a 1 s harvest interval does)
// from `shape_at(t)` for t in [from, to), ticking after each; returns every
// episode reported, with the second it was reported in.
struct Fed {
  UploadEpisode episode;
  std::uint64_t reported_at = 0;
};
std::vector<Fed> feed_shapes(EpisodeDetector& d, std::uint64_t from, std::uint64_t to,
                             const std::function<FlowShape(std::uint64_t)>& shape_at) {
  std::vector<Fed> out;
  for (std::uint64_t t = from; t < to; ++t) {
    MonotonicNs harvest = t * kSecond + kSecond / 2;
    FlowShape shape = shape_at(t);
    if (shape.packets || shape.ingress_packets) d.add(kSpeaker, kCloud, harvest, shape);
    for (auto& e : d.tick(harvest)) out.push_back({e, t});
  }
  return out;
}

// The same from payload alone, in voice-sized packets (sent()).
std::vector<Fed> feed(EpisodeDetector& d, std::uint64_t from, std::uint64_t to,
                      const std::function<std::uint64_t(std::uint64_t)>& bytes_at) {
  return feed_shapes(d, from, to, [&](std::uint64_t t) { return sent(bytes_at(t)); });
}

std::uint64_t heartbeat(std::uint64_t t) {
  return t % 5 == 0 ? 40 : 0;
}

TEST(EpisodeDetector, ASteadyVoiceUploadIsOneAudioEpisodeReportedSoonAfterItEnds) {
  EpisodeDetector d;
  auto fed = feed(d, 0, 60, [](std::uint64_t t) {
    return (t >= 20 && t < 28 ? 4000 : 0) + heartbeat(t);  // 32 kbit/s for 8 s
  });
  ASSERT_EQ(fed.size(), 1u);
  const auto& e = fed[0].episode;
  EXPECT_EQ(e.verdict, Verdict::audio_upload);
  EXPECT_EQ(e.sender, kSpeaker);
  EXPECT_EQ(e.destination, kCloud);
  EXPECT_NEAR(e.seconds(), 8, 1);
  EXPECT_NEAR(static_cast<double>(e.start) / kSecond, 20, 1);
  EXPECT_NEAR(static_cast<double>(e.bytes), 8 * 4000, 100);  // and a keep-alive or two
  EXPECT_NEAR(e.bytes_per_second(), 4000, 600);
  EXPECT_LE(fed[0].reported_at, 28u + d.rules().end_gap_seconds + 2);
}

// 1.2 s at 24 kbit/s across a second boundary: 900 bytes in one harvest
// second, 2700 in the next. Both seconds are partial; neither says the
// upload was unsteady.
TEST(EpisodeDetector, AVoiceUploadOfAboutASecondAcrossTwoSecondsIsAudio) {
  EpisodeDetector d;
  auto fed = feed(d, 0, 30, [](std::uint64_t t) {
    return (t == 11 ? 900 : t == 12 ? 2700 : 0) + heartbeat(t);
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::audio_upload);
  EXPECT_EQ(fed[0].episode.bytes, 3600u);
}

// A connection that opens to upload: its first second is a partial one
// below the threshold (0.3 s of 2 KB/s). It must not become the pair's
// baseline, or the upload after it stands out by less than its rate.
TEST(EpisodeDetector, ANewPairsFirstPartialSecondIsNotItsBaseline) {
  for (std::uint64_t first : {300ULL, 700ULL}) {
    EpisodeDetector d;
    d.tick(kSecond);  // the detector ran before the pair appeared
    auto fed = feed(d, 2, 30, [&](std::uint64_t t) -> std::uint64_t {
      return t == 10 ? first : t > 10 && t < 14 ? 2040 : 0;
    });
    ASSERT_EQ(fed.size(), 1u) << first;
    EXPECT_EQ(fed[0].episode.verdict, Verdict::audio_upload) << first;
    EXPECT_LT(fed[0].episode.baseline_bytes_per_second, 50) << first;  // learnt, not seeded
  }
}

TEST(EpisodeDetector, HeartbeatsAndAnAcknowledgementStreamRaiseNothing) {
  EpisodeDetector d;
  // A download's acknowledgements carry no payload: only keep-alives are fed.
  EXPECT_TRUE(feed(d, 0, 300, heartbeat).empty());
  EXPECT_TRUE(d.ongoing().empty());
}

TEST(EpisodeDetector, ABulkTransferIsAnUploadNotAudio) {
  EpisodeDetector d;
  auto fed = feed(d, 0, 40, [](std::uint64_t t) { return t >= 10 && t < 14 ? 2'000'000 : 0; });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
  EXPECT_EQ(fed[0].episode.bytes, 8'000'000u);
}

TEST(EpisodeDetector, BurstyTrafficInTheVoiceBandOnAverageIsNotSteadyEnoughForAudio) {
  EpisodeDetector d;
  // 50 KB every other second: 25 KB/s on average, never near it in a second.
  auto fed = feed(d, 0, 60, [](std::uint64_t t) {
    return t >= 10 && t < 30 && t % 2 == 0 ? 50'000 : 0;
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
}

TEST(EpisodeDetector, SteadyTrafficInTheVoiceBandInFullSizeDatagramsIsNotAudio) {
  EpisodeDetector d;
  // 4 KB/s for 10 s, but in 1200-byte datagrams: a sync, not codec frames.
  auto fed = feed_shapes(d, 0, 30, [](std::uint64_t t) {
    return t >= 10 && t < 20 ? sent(4800, 1200) : FlowShape{};
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
}

// A QUIC download at 1 MB/s (1300-byte datagrams): the client sends one
// 40-byte acknowledgement for every two datagrams, 15 KB/s of payload in
// the voice band. What came back explains all of it.
FlowShape quic_download(std::uint64_t bytes_per_second) {
  FlowShape shape;
  shape.ingress_packets = bytes_per_second / 1300;
  shape.ingress_payload = bytes_per_second;
  shape.ack_sized_packets = shape.ingress_packets / 2;
  shape.ack_sized_payload = shape.ack_sized_packets * 40;
  shape.packets = shape.ack_sized_packets;
  shape.payload_bytes = shape.ack_sized_payload;
  return shape;
}

TEST(EpisodeDetector, AQuicDownloadsAcknowledgementsAreNoUpload) {
  EpisodeDetector d;
  auto fed = feed_shapes(d, 0, 60, [](std::uint64_t t) {
    return t >= 10 && t < 30 ? quic_download(1'000'000) : FlowShape{};
  });
  EXPECT_TRUE(fed.empty()) << fed[0].episode.bytes;
  EXPECT_TRUE(d.ongoing().empty());
}

// Segments of a video over QUIC: 4 s at 3x the rate, then a pause; each
// fetch starts with a 150-byte request.
TEST(EpisodeDetector, AVideoPlayersSegmentsOverQuicAreNoUpload) {
  EpisodeDetector d;
  auto fed = feed_shapes(d, 0, 120, [](std::uint64_t t) {
    if (t < 10 || t >= 100) return FlowShape{};
    std::uint64_t phase = (t - 10) % 12;
    FlowShape shape = phase < 4 ? quic_download(750'000) : FlowShape{};
    if (phase == 0) shape += sent(150, 150);
    return shape;
  });
  EXPECT_TRUE(fed.empty()) << fed[0].episode.bytes;
}

// Voice leaving on the connection that brings music back (one QUIC
// connection for everything): 65-byte frames every 20 ms (16 kbit/s Opus
// and its framing), music at 32 KB/s acknowledged by 40-byte packets.
TEST(EpisodeDetector, VoiceOnAConnectionThatBringsMusicBackIsStillAudio) {
  EpisodeDetector d;
  auto fed = feed_shapes(d, 0, 60, [](std::uint64_t t) {
    FlowShape shape = t >= 5 && t < 55 ? quic_download(32'000) : FlowShape{};
    if (t >= 20 && t < 26) shape += sent(50 * 65, 65);
    return shape;
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::audio_upload);
  EXPECT_NEAR(fed[0].episode.seconds(), 6, 1);
}

// A reply to a request, 13 KB within one second (a scrape of /metrics, an
// API answer): whether it is one GSO packet or ten, it has no shape of
// speech, and one second is too short to have any.
TEST(EpisodeDetector, AOneSecondReplyIsNotAudio) {
  for (std::uint64_t packet : {13'000ULL, 1'300ULL, 400ULL}) {
    EpisodeDetector d;
    auto fed = feed_shapes(d, 0, 120, [&](std::uint64_t t) {
      return t >= 10 && t % 5 == 0 ? sent(13'000, packet) : FlowShape{};
    });
    ASSERT_FALSE(fed.empty());
    for (const auto& f : fed) EXPECT_NE(f.episode.verdict, Verdict::audio_upload) << packet;
  }
}

// The same reply straddling two seconds, half in each, in ten packets.
TEST(EpisodeDetector, AReplyAcrossTwoSecondsIsNotAudio) {
  EpisodeDetector d;
  auto fed = feed_shapes(d, 0, 30, [](std::uint64_t t) {
    return t == 10 || t == 11 ? sent(6'500, 1'300) : FlowShape{};
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
}

// Speech as a codec sends it: 20 ms frames whose size follows the voice,
// talk spurts of 0.3-2.5 s (`seconds` of them in all) and pauses of
// 0.15-1.2 s between them with a 6-byte comfort-noise frame every 400 ms,
// summed per second.
std::vector<FlowShape> speech(std::mt19937& random, double seconds, double frame_bytes) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  std::vector<FlowShape> out;
  auto add = [&](double at, std::uint64_t bytes) {
    if (out.size() <= static_cast<std::size_t>(at)) out.resize(static_cast<std::size_t>(at) + 1);
    FlowShape& s = out[static_cast<std::size_t>(at)];
    s.payload_bytes += bytes;
    ++s.packets;
    if (bytes <= 64) {
      ++s.ack_sized_packets;
      s.ack_sized_payload += bytes;
    }
  };
  double t = 0, talked = 0, loudness = 1;
  while (talked < seconds) {
    double spurt = std::min(seconds - talked, uniform(0.3, 2.5));
    talked += spurt;
    for (double end = t + spurt; t < end; t += 0.02) {
      loudness = std::clamp(loudness + uniform(-0.15, 0.15), 0.4, 1.8);
      add(t, static_cast<std::uint64_t>(frame_bytes * loudness) + 25);
    }
    if (talked < seconds)
      for (double end = t + uniform(0.15, 1.2); t < end; t += 0.4) add(t, 6 + 25);
  }
  return out;
}

TEST(EpisodeDetector, VariableBitRateSpeechWithPausesIsAudio) {
  std::mt19937 random(29);
  for (int trial = 0; trial < 200; ++trial) {
    const double seconds = 2 + random() % 20, frame = 40 + random() % 120;
    auto voice = speech(random, seconds, frame);
    EpisodeDetector d;
    auto fed = feed_shapes(d, 0, 100, [&](std::uint64_t t) {
      FlowShape shape = sent(heartbeat(t), 40);
      if (t >= 20 && t - 20 < voice.size()) shape += voice[t - 20];
      return shape;
    });
    ASSERT_FALSE(fed.empty()) << "trial " << trial;
    bool audio = false;
    std::string seen;
    for (const auto& f : fed) {
      audio = audio || f.episode.verdict == Verdict::audio_upload;
      seen += std::string(to_string(f.episode.verdict)) + " " + std::to_string(f.episode.seconds()) +
              " s " + std::to_string(f.episode.bytes) + " B; ";
    }
    std::string series;
    for (const auto& v : voice)
      series += std::to_string(v.payload_bytes) + "/" + std::to_string(v.packets) + " ";
    EXPECT_TRUE(audio) << "trial " << trial << ": " << seconds << " s, frames of " << frame
                       << ": " << seen << "; bytes/packets a second: " << series;
  }
}

// A camera streaming upstream at 2 Mbit/s in 1200-byte datagrams for 20 s,
// with a little coming back (receiver reports).
TEST(EpisodeDetector, ACameraStreamingUpstreamIsVideo) {
  EpisodeDetector d;
  auto fed = feed_shapes(d, 0, 60, [](std::uint64_t t) {
    if (t < 10 || t >= 30) return FlowShape{};
    FlowShape shape = sent(250'000 + (t % 2) * 20'000, 1200);
    shape.ingress_packets = 5;
    shape.ingress_payload = 400;
    return shape;
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::video_upload);
}

TEST(EpisodeDetector, AShortFileUploadIsNotVideo) {
  EpisodeDetector d;
  auto fed = feed_shapes(d, 0, 30, [](std::uint64_t t) {
    return t >= 10 && t < 13 ? sent(500'000, 1200) : FlowShape{};
  });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
}

TEST(EpisodeDetector, ASenderStandsOutOnlyFromItsOwnBaseline) {
  EpisodeDetector d;
  // A process that starts streaming 5 KB/s and never stops: one long upload
  // while the baseline learns it, then 6 KB/s is not an episode, 20 KB/s is.
  auto fed = feed(d, 0, 900, [](std::uint64_t t) -> std::uint64_t {
    if (t >= 700 && t < 710) return 6000;
    if (t >= 800 && t < 810) return 20000;
    return 5000;
  });
  ASSERT_EQ(fed.size(), 2u);
  EXPECT_EQ(fed[0].episode.start, 0u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
  EXPECT_LT(fed[0].episode.seconds(), 600);
  EXPECT_NEAR(static_cast<double>(fed[1].episode.start) / kSecond, 800, 1);
  EXPECT_NEAR(fed[1].episode.baseline_bytes_per_second, 5000, 500);
  EXPECT_NEAR(static_cast<double>(fed[1].episode.excess_bytes), 10 * 15000, 10 * 1500);
}

// A 3 s bulk upload at 4 MB/s, then 20 s later a voice upload at 16
// kbit/s to the same destination: the bulk transfer must not have taught
// the baseline so much that the voice no longer stands out.
TEST(EpisodeDetector, AVoiceUploadSoonAfterABulkTransferStillStandsOut) {
  EpisodeDetector d;
  auto fed = feed(d, 0, 60, [](std::uint64_t t) -> std::uint64_t {
    if (t >= 10 && t < 13) return 4'000'000;
    return (t >= 33 && t < 38 ? 2000 : 0) + heartbeat(t);
  });
  ASSERT_EQ(fed.size(), 2u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
  EXPECT_EQ(fed[1].episode.verdict, Verdict::audio_upload);
  EXPECT_NEAR(static_cast<double>(fed[1].episode.start) / kSecond, 33, 1);
  EXPECT_LT(fed[1].episode.baseline_bytes_per_second, 100);
}

// A sync of files or logs, as the gateway trials' bursty decoy sends it:
// chunks of random size (log-uniform over 64x, scaled to an average of
// 4-32 KB/s) at random gaps of 0.1-1.8 s, each at once in 1448-byte TCP
// segments. Seen a second at a time some draws fall evenly into seconds;
// their packets are still no codec's frames, and they are no camera's
// stream either. Over 400 draws (gateway rules), at most 1 in 100 may
// pass for a voice or video upload.
TEST(EpisodeDetector, ABurstySyncIsSeldomVoiceAndNeverVideo) {
  std::mt19937 random(33);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  int audio = 0, video = 0, draws = 400;
  for (int draw = 0; draw < draws; ++draw) {
    const double rate = uniform(4000, 32000), seconds = uniform(5, 20);
    const double smallest = rate * 0.95 * std::log(64.0) / 63;
    std::vector<FlowShape> per_second(static_cast<std::size_t>(seconds) + 2);
    for (double t = 0; t < seconds; t += uniform(0.1, 1.8)) {
      auto chunk = static_cast<std::uint64_t>(smallest * std::exp(uniform(0, std::log(64.0))));
      FlowShape& s = per_second[static_cast<std::size_t>(t)];
      s.payload_bytes += chunk;
      s.packets += (chunk + 1447) / 1448;
    }
    EpisodeDetector d(EpisodeRules{.end_gap_seconds = 3});
    auto fed = feed_shapes(d, 0, 60, [&](std::uint64_t t) {
      return t >= 10 && t - 10 < per_second.size() ? per_second[t - 10] : FlowShape{};
    });
    for (const auto& f : fed) {
      audio += f.episode.verdict == Verdict::audio_upload;
      video += f.episode.verdict == Verdict::video_upload;
    }
  }
  std::cout << "bursty syncs judged voice: " << audio << ", video: " << video << " of " << draws
            << std::endl;
  EXPECT_LE(audio, draws / 100);
  EXPECT_EQ(video, 0);
}

TEST(EpisodeDetector, AnEpisodeUnderWayIsShownAsOngoing) {
  EpisodeDetector d;
  feed(d, 0, 25, [](std::uint64_t t) { return t >= 20 ? 4000 : 0; });
  auto now = d.ongoing();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_TRUE(now[0].ongoing);
  EXPECT_GE(now[0].bytes, 4u * 4000u);
}

TEST(EpisodeDetector, ShortBlipsAreNoise) {
  EpisodeDetector d;
  EXPECT_TRUE(feed(d, 0, 30, [](std::uint64_t t) { return t == 10 ? 1500 : 0; }).empty());
}

// 800 kbit/s, steady: a camera's rate, and so a video upload while it stands out.
TEST(EpisodeDetector, AStreamThatNeverStopsIsOneEpisodeThenItsSendersNormal) {
  EpisodeDetector d;
  auto fed = feed(d, 0, 3600, [](std::uint64_t) { return 100'000; });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::video_upload);
  EXPECT_TRUE(d.ongoing().empty());
  EXPECT_EQ(d.pairs(), 1u);
}

TEST(EpisodeDetector, AnEpisodeLongerThanTheLimitIsReportedInParts) {
  EpisodeRules rules;
  rules.max_episode_seconds = 300;
  rules.busy_baseline_seconds = 1e9;  // a stream that keeps standing out
  EpisodeDetector d(rules);
  auto fed = feed(d, 0, 3600, [](std::uint64_t) { return 100'000; });
  EXPECT_GE(fed.size(), 11u);
  for (const auto& f : fed) EXPECT_LE(f.episode.seconds(), 300);
}

// A wake-word process that listens for a week: a keep-alive every 5 s and
// a voice upload of random length and rate twice an hour. Every upload is
// found, as audio, and the detector's state stays one pair.
TEST(EpisodeDetector, AWeekOfListeningFindsEveryUploadInBoundedMemory) {
  std::mt19937 random(20261203);
  struct Upload {
    std::uint64_t start, seconds, rate;
  };
  std::vector<Upload> uploads;
  constexpr std::uint64_t kWeek = 7 * 24 * 3600;
  for (std::uint64_t slot = 0; slot + 1800 <= kWeek; slot += 1800) {
    uploads.push_back({slot + 600 + random() % 600, 2 + random() % 20,
                       2000 + random() % 6000});  // 16-64 kbit/s
  }
  std::size_t next = 0;
  EpisodeDetector d;
  auto fed = feed(d, 0, kWeek, [&](std::uint64_t t) -> std::uint64_t {
    while (next < uploads.size() && t >= uploads[next].start + uploads[next].seconds) ++next;
    bool uploading = next < uploads.size() && t >= uploads[next].start;
    return heartbeat(t) + (uploading ? uploads[next].rate : 0);
  });
  ASSERT_EQ(fed.size(), uploads.size());
  for (std::size_t i = 0; i < fed.size(); ++i) {
    EXPECT_EQ(fed[i].episode.verdict, Verdict::audio_upload) << "upload " << i;
    EXPECT_NEAR(static_cast<double>(fed[i].episode.start) / kSecond,
                static_cast<double>(uploads[i].start), 1)
        << "upload " << i;
  }
  EXPECT_EQ(d.pairs(), 1u);
}

TEST(EpisodeDetector, PairsBeyondTheLimitForgetTheLongestIdle) {
  EpisodeRules rules;
  rules.max_pairs = 3;
  EpisodeDetector d(rules);
  for (std::uint64_t i = 0; i < 10; ++i)
    d.add({std::to_string(i), "p", 1}, kCloud, (i + 1) * kSecond, sent(10));
  EXPECT_EQ(d.pairs(), 3u);
}

}  // namespace
}  // namespace earshot::model::upload_episodes_test
