#include "model/upload_episodes.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace earshot::model::upload_episodes_test {
namespace {

constexpr MonotonicNs kSecond = 1'000'000'000ULL;
const EpisodeSender kSpeaker{"100:7", "wakeword", 100};
const std::string kCloud = "voice.example";

// Feeds one harvest a second (at t + 0.5 s, as a 1 s harvest interval does)
// from `bytes_at(t)` for t in [from, to), ticking after each; returns every
// episode reported, with the second it was reported in.
struct Fed {
  UploadEpisode episode;
  std::uint64_t reported_at = 0;
};
std::vector<Fed> feed(EpisodeDetector& d, std::uint64_t from, std::uint64_t to,
                      const std::function<std::uint64_t(std::uint64_t)>& bytes_at) {
  std::vector<Fed> out;
  for (std::uint64_t t = from; t < to; ++t) {
    MonotonicNs harvest = t * kSecond + kSecond / 2;
    if (auto b = bytes_at(t)) d.add(kSpeaker, kCloud, harvest, b);
    for (auto& e : d.tick(harvest)) out.push_back({e, t});
  }
  return out;
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

TEST(EpisodeDetector, AStreamThatNeverStopsIsOneUploadThenItsSendersNormal) {
  EpisodeDetector d;
  auto fed = feed(d, 0, 3600, [](std::uint64_t) { return 100'000; });
  ASSERT_EQ(fed.size(), 1u);
  EXPECT_EQ(fed[0].episode.verdict, Verdict::upload);
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
    d.add({std::to_string(i), "p", 1}, kCloud, (i + 1) * kSecond, 10);
  EXPECT_EQ(d.pairs(), 3u);
}

}  // namespace
}  // namespace earshot::model::upload_episodes_test
