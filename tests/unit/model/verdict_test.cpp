#include "model/verdict.h"

#include <gtest/gtest.h>

#include <vector>

namespace earshot::model::verdict_test {
namespace {

StreamEvidence evidence(std::uint64_t bytes, double expected,
                        const std::vector<double>& per_second) {
  return {bytes, expected, per_second};
}

TEST(Verdict, Names) {
  EXPECT_EQ(to_string(Verdict::quiet), "quiet");
  EXPECT_EQ(to_string(Verdict::upload), "upload");
  EXPECT_EQ(to_string(Verdict::audio_upload), "audio-upload");
  EXPECT_EQ(to_string(Verdict::video_upload), "video-upload");
}

TEST(Verdict, VideoNeedsMostSecondsInTheVideoBand) {
  VerdictRules rules;
  std::vector<double> steady{250'000, 250'000, 250'000, 0, 0};  // 2 Mbit/s, 60%
  EXPECT_TRUE(looks_like_video(evidence(750'000, 0, steady), rules));
  std::vector<double> voice{4000, 4000, 4000};  // 32 kbit/s: below the video band
  EXPECT_FALSE(looks_like_video(evidence(12'000, 0, voice), rules));
  std::vector<double> edges{12'500, 6'250'000};  // 100 kbit/s and 50 Mbit/s
  EXPECT_TRUE(looks_like_video(evidence(6'262'500, 0, edges), rules));
  std::vector<double> flood{7'000'000, 7'000'000};  // 56 Mbit/s: a file copy
  EXPECT_FALSE(looks_like_video(evidence(14'000'000, 0, flood), rules));
  std::vector<double> one_second{250'000};
  EXPECT_FALSE(looks_like_video(evidence(250'000, 0, one_second), rules));
}

TEST(Verdict, ClassifyJudgesACameraAgainstVideoAndAMicrophoneAgainstAudio) {
  VerdictRules rules;
  std::vector<double> video{250'000, 250'000, 250'000};
  std::vector<double> audio{4000, 4000, 4000};
  std::vector<StreamEvidence> video_stream{evidence(750'000, 0, video)};
  std::vector<StreamEvidence> audio_stream{evidence(12'000, 0, audio)};
  EXPECT_EQ(classify(video_stream, rules, DeviceKind::camera), Verdict::video_upload);
  EXPECT_EQ(classify(video_stream, rules, DeviceKind::microphone), Verdict::upload);
  EXPECT_EQ(classify(audio_stream, rules, DeviceKind::camera), Verdict::upload);
  EXPECT_EQ(classify(audio_stream, rules), Verdict::audio_upload) << "microphone by default";
}

TEST(Verdict, ExcessMustBeatTheAbsoluteFloor) {
  VerdictRules rules;
  std::vector<double> none;
  EXPECT_FALSE(is_above_baseline(evidence(1024, 0, none), rules)) << "exactly 1 KiB is not above";
  EXPECT_TRUE(is_above_baseline(evidence(1025, 0, none), rules));
}

TEST(Verdict, ExcessMustBeatTenPercentOfABusyBaseline) {
  VerdictRules rules;
  std::vector<double> none;
  // Expected 100 KB: the threshold is 10 KB, not 1 KiB.
  EXPECT_FALSE(is_above_baseline(evidence(110'000, 100'000, none), rules));
  EXPECT_TRUE(is_above_baseline(evidence(110'001, 100'000, none), rules));
  EXPECT_EQ(excess_bytes(evidence(90'000, 100'000, none)), 0u);
}

TEST(Verdict, AudioNeedsMostSecondsInTheCodecBand) {
  VerdictRules rules;
  std::vector<double> steady{4000, 4000, 4000, 0, 0};  // 3 of 5 = 60%
  EXPECT_TRUE(looks_like_audio(evidence(12'000, 0, steady), rules));
  std::vector<double> patchy{4000, 4000, 0, 0, 0};  // 2 of 5 = 40%
  EXPECT_FALSE(looks_like_audio(evidence(8'000, 0, patchy), rules));
  std::vector<double> too_slow{1000, 1000, 1000, 1000};  // 8 kbit/s
  EXPECT_FALSE(looks_like_audio(evidence(4'000, 0, too_slow), rules));
  std::vector<double> too_fast{100'000, 100'000, 100'000};  // 800 kbit/s: a file, not a voice
  EXPECT_FALSE(looks_like_audio(evidence(300'000, 0, too_fast), rules));
  std::vector<double> edges{1500, 37500};
  EXPECT_TRUE(looks_like_audio(evidence(39'000, 0, edges), rules));
  std::vector<double> one_second{4000};
  EXPECT_FALSE(looks_like_audio(evidence(4'000, 0, one_second), rules))
      << "a single second is not a stream";
}

TEST(Verdict, ClassifyTakesTheStrongestStream) {
  VerdictRules rules;
  std::vector<double> audio{4000, 4000, 4000};
  std::vector<double> burst{50'000, 0, 0};
  std::vector<double> flat{100, 100, 100};
  std::vector<StreamEvidence> quiet{evidence(300, 300, flat)};
  EXPECT_EQ(classify(quiet, rules), Verdict::quiet);
  std::vector<StreamEvidence> upload{evidence(300, 300, flat), evidence(50'000, 0, burst)};
  EXPECT_EQ(classify(upload, rules), Verdict::upload);
  std::vector<StreamEvidence> both{evidence(50'000, 0, burst), evidence(12'000, 0, audio)};
  EXPECT_EQ(classify(both, rules), Verdict::audio_upload);
  EXPECT_EQ(classify({}, rules), Verdict::quiet);
}

}  // namespace
}  // namespace earshot::model::verdict_test
