// The pure parts of earshot-speaker (tests/tools/speaker): the shapes of
// voice, video, segments and music, QUIC-like acks and packets, and the
// parsers of what comes back (replies, HTTP).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <string>

#include "common/error.h"
#include "speaker/action_random.h"
#include "speaker/fetch_schedule.h"
#include "speaker/http_reply.h"
#include "speaker/quic_packet.h"
#include "speaker/reply_stream.h"
#include "speaker/scrape.h"
#include "speaker/video_schedule.h"
#include "speaker/voice_schedule.h"

namespace earshot::test::speaker_shapes_test {
namespace {

using namespace earshot::speaker;
using namespace std::chrono_literals;
using std::chrono::microseconds;

std::uint64_t total_bytes(const auto& frames) {
  return std::accumulate(frames.begin(), frames.end(), std::uint64_t{0},
                         [](std::uint64_t sum, const auto& f) { return sum + f.bytes; });
}

class VoiceScheduleTest : public ::testing::TestWithParam<int> {};

TEST_P(VoiceScheduleTest, AveragesTheRateInSpurtsAndComfortNoise) {
  const auto frame = std::chrono::milliseconds(GetParam());
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto random = seeded_random(seed, Draw::voice, 0);
    const auto frames = voice_schedule({30s, frame, 4000}, random);
    ASSERT_FALSE(frames.empty());
    EXPECT_NEAR(static_cast<double>(total_bytes(frames)) / 30, 4000, 4000 * 0.2);

    std::vector<std::uint32_t> speech;
    for (const auto& f : frames)
      if (f.speech) speech.push_back(f.bytes);
    const double mean = static_cast<double>(std::accumulate(speech.begin(), speech.end(), 0.0)) /
                        static_cast<double>(speech.size());
    for (auto bytes : speech) {
      // About 0.4-1.8x: the walk's bounds, less what scaling to the rate moves.
      EXPECT_GE(bytes, 0.35 * mean);
      EXPECT_LE(bytes, 1.85 * mean);
    }
    // Some loudness: not all frames alike.
    EXPECT_GT(*std::max_element(speech.begin(), speech.end()),
              1.3 * *std::min_element(speech.begin(), speech.end()));

    // Spurts: a frame every frame length, 0.3-2.5 s long; pauses: 3-8 byte
    // frames every 400 ms and nothing else, 0.15-1.2 s long.
    std::size_t i = 0;
    EXPECT_TRUE(frames[0].speech && frames[0].spurt_start);
    while (i < frames.size()) {
      ASSERT_TRUE(frames[i].speech && frames[i].spurt_start) << "at frame " << i;
      std::size_t j = i + 1;
      while (j < frames.size() && frames[j].speech && !frames[j].spurt_start) {
        EXPECT_EQ(frames[j].at - frames[j - 1].at, microseconds(frame));
        ++j;
      }
      const auto spurt = frames[j - 1].at - frames[i].at + microseconds(frame);
      if (j < frames.size()) {  // the last spurt may be cut by the end
        EXPECT_GE(spurt, 300ms - frame);
        EXPECT_LE(spurt, 2500ms + frame);
      }
      std::size_t k = j;
      for (; k < frames.size() && !frames[k].speech; ++k) {
        EXPECT_GE(frames[k].bytes, 3u);
        EXPECT_LE(frames[k].bytes, 8u);
        EXPECT_EQ(frames[k].at - frames[k - 1].at, k == j ? microseconds(frame) : 400ms);
      }
      if (j < frames.size() && k < frames.size()) {
        const auto pause = frames[k].at - frames[j - 1].at - microseconds(frame);
        EXPECT_GE(pause, 150ms - frame);
        EXPECT_LE(pause, 1200ms + frame);
      }
      i = k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(FrameLengths, VoiceScheduleTest, ::testing::Values(20, 40, 60));

TEST(VoiceSchedule, RepeatsForASeedAndDiffersBetweenActions) {
  auto a = seeded_random(5, Draw::voice, 0), b = seeded_random(5, Draw::voice, 0),
       c = seeded_random(5, Draw::voice, 1);
  const VoiceShape shape{10s, 20ms, 3000};
  const auto first = voice_schedule(shape, a), again = voice_schedule(shape, b),
             other = voice_schedule(shape, c);
  ASSERT_EQ(first.size(), again.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].at, again[i].at);
    EXPECT_EQ(first[i].bytes, again[i].bytes);
  }
  bool differs = first.size() != other.size();
  for (std::size_t i = 0; !differs && i < first.size(); ++i)
    differs = first[i].bytes != other[i].bytes;
  EXPECT_TRUE(differs);
}

TEST(ActionRandom, TheFirstBurstyUploadDrawsFromTheBareSeed) {
  auto bursty = seeded_random(42, Draw::bursty_upload, 0);
  std::mt19937 before(42);
  EXPECT_EQ(bursty(), before());
  EXPECT_NE(seeded_random(42, Draw::bursty_upload, 1)(), std::mt19937(42)());
}

TEST(VideoSchedule, KeyFramesEveryOneToTwoSecondsAtTheRate) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto random = seeded_random(seed, Draw::video_upload, 0);
    const auto frames = video_schedule(20s, 100000, random);
    EXPECT_NEAR(static_cast<double>(total_bytes(frames)) / 20, 100000, 100000 * 0.01);
    const auto step = frames[1].at - frames[0].at;
    EXPECT_TRUE(frames.size() == 500 || frames.size() == 600) << frames.size();
    EXPECT_NEAR(static_cast<double>(step.count()), frames.size() == 500 ? 40000 : 33333, 1);
    ASSERT_TRUE(frames[0].key);
    std::vector<double> deltas;
    for (const auto& f : frames)
      if (!f.key) deltas.push_back(f.bytes);
    const double delta =
        std::accumulate(deltas.begin(), deltas.end(), 0.0) / static_cast<double>(deltas.size());
    microseconds last_key{0};
    for (std::size_t i = 1; i < frames.size(); ++i) {
      if (!frames[i].key) continue;
      EXPECT_GE(frames[i].at - last_key, 1s - step);
      EXPECT_LE(frames[i].at - last_key, 2s + step);
      EXPECT_GE(frames[i].bytes, 5 * 0.7 * delta);
      EXPECT_LE(frames[i].bytes, 10 * 1.3 * delta);
      last_key = frames[i].at;
    }
  }
}

TEST(SegmentPlan, ARequestEveryTwoToFourSecondsForItsPeriodsBytes) {
  auto random = seeded_random(3, Draw::segments, 0);
  const auto plan = segment_plan(60s, 250000, random);
  ASSERT_GE(plan.size(), 15u);
  ASSERT_LE(plan.size(), 30u);
  EXPECT_EQ(plan[0].at, microseconds(0));
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& s = plan[i];
    EXPECT_GE(s.period, 2s);
    EXPECT_LE(s.period, 4s);
    if (i > 0) {
      EXPECT_EQ(s.at, plan[i - 1].at + plan[i - 1].period);
    }
    EXPECT_NEAR(static_cast<double>(s.bytes),
                250000 * std::chrono::duration<double>(s.period).count(), 1);
    EXPECT_GE(s.burst_rate, 3 * 250000u - 1);
    EXPECT_LE(s.burst_rate, 6 * 250000u + 1);
    EXPECT_GE(s.request_size, 60u);
    EXPECT_LE(s.request_size, 200u);
  }
  EXPECT_LT(plan.back().at, microseconds(60s));
}

TEST(MusicChunks, EveryHundredToTwoHundredFiftyMsExactlyTheTotal) {
  std::mt19937 random(9);
  const auto chunks = music_chunks(10000, 32000, random);
  EXPECT_EQ(total_bytes(chunks), stream_bytes(10000, 32000));
  for (std::size_t i = 1; i + 1 < chunks.size(); ++i) {
    EXPECT_GE(chunks[i].at - chunks[i - 1].at, 100ms);
    EXPECT_LE(chunks[i].at - chunks[i - 1].at, 250ms);
    EXPECT_NEAR(static_cast<double>(chunks[i].bytes),
                32000 * std::chrono::duration<double>(chunks[i].at - chunks[i - 1].at).count(), 1);
  }
  EXPECT_LE(chunks.back().at, 10000ms);
}

TEST(AckScheduler, AcksEverySecondDatagramOrALoneOneAfterTheDelay) {
  AckScheduler acks;
  const auto t0 = Clock::now();
  EXPECT_FALSE(acks.on_data(t0));
  ASSERT_TRUE(acks.due());
  EXPECT_EQ(*acks.due(), t0 + 25ms);
  EXPECT_TRUE(acks.on_data(t0 + 1ms));
  EXPECT_FALSE(acks.due());
  EXPECT_FALSE(acks.on_timer(t0 + 100ms));

  EXPECT_FALSE(acks.on_data(t0 + 200ms));
  EXPECT_FALSE(acks.on_timer(t0 + 224ms));
  EXPECT_TRUE(acks.on_timer(t0 + 225ms));
  EXPECT_FALSE(acks.due());
  // After a timer's ack, counting starts over.
  EXPECT_FALSE(acks.on_data(t0 + 300ms));
  EXPECT_TRUE(acks.on_data(t0 + 301ms));
}

TEST(QuicPacket, RoundTripsWithTwentyFiveBytesOfOverhead) {
  const char body[] = {'a', 'b', 'c'};
  auto datagram = encode_quic(0xdeadbeef, 0x123456, kVoice, sizeof body, body);
  EXPECT_EQ(datagram.size(), sizeof body + 25);
  auto packet = decode_quic(datagram);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->connection_id, 0xdeadbeefu);
  EXPECT_EQ(packet->number, 0x123456u);
  EXPECT_EQ(packet->type, kVoice);
  EXPECT_EQ(std::string(packet->body.begin(), packet->body.end()), "abc");
  EXPECT_FALSE(decode_quic(std::vector<char>(24, 'x')));
  EXPECT_FALSE(decode_quic(frame(kUpload, 40)));  // a UDP frame is no QUIC packet
}

TEST(ReplyStream, TellsRawDownloadBytesFromTaggedFramesSplitAnywhere) {
  std::string stream(1000, kDownloadData);
  auto segment = reply_frame(kSegmentData, 3, 5000);
  stream.append(segment.begin(), segment.end());
  stream.append(70, kDownloadData);
  auto music = reply_frame(kMusicData, 4, 0);
  stream.append(music.begin(), music.end());
  auto more = reply_frame(kSegmentData, 3, 100);
  stream.append(more.begin(), more.end());
  for (std::size_t piece : {1, 3, 7, 64, 100000}) {
    SCOPED_TRACE("pieces of " + std::to_string(piece));
    ReplyStream parser;
    std::map<std::pair<char, int>, std::size_t> seen;
    for (std::size_t at = 0; at < stream.size(); at += piece)
      parser.feed({stream.data() + at, std::min(piece, stream.size() - at)},
                  [&](char type, std::uint16_t tag, std::size_t n) {
                    seen[{type, tag}] += n;
                  });
    EXPECT_EQ((seen[{kDownloadData, 0}]), 1070u);
    EXPECT_EQ((seen[{kSegmentData, 3}]), 5100u);
    EXPECT_EQ((seen[{kMusicData, 4}]), 0u);
  }
}

TEST(ReplyDatagram, ReadsRawDownloadsAndTaggedReplies) {
  std::map<std::pair<char, int>, std::size_t> seen;
  auto count = [&](char type, std::uint16_t tag, std::size_t n) { seen[{type, tag}] += n; };
  read_reply_datagram(std::vector<char>(1200, kDownloadData), count);
  read_reply_datagram(reply_frame(kMusicData, 2, 1000), count);
  EXPECT_EQ((seen[{kDownloadData, 0}]), 1200u);
  EXPECT_EQ((seen[{kMusicData, 2}]), 1000u);
}

std::size_t feed_in_pieces(HttpReply& reply, const std::string& text, std::size_t piece) {
  std::size_t used = 0;
  for (std::size_t at = 0; at < text.size() && !reply.complete(); at += piece)
    used += reply.feed({text.data() + at, std::min(piece, text.size() - at)});
  return used;
}

TEST(HttpReply, ReadsASizedBodyAndKeepsTheConnection) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n";
  for (std::size_t piece : {1, 5, 1000}) {
    HttpReply reply;
    EXPECT_EQ(feed_in_pieces(reply, head + "hello world" + "HTTP/1.1 next", piece),
              head.size() + 11);
    ASSERT_TRUE(reply.complete());
    EXPECT_EQ(reply.status(), 200);
    EXPECT_EQ(reply.body_bytes(), 11u);
    EXPECT_TRUE(reply.keep_alive());
  }
}

TEST(HttpReply, DecodesAChunkedBodyAndHonoursConnectionClose) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";
  for (std::size_t piece : {1, 2, 9, 1000}) {
    HttpReply reply;
    EXPECT_EQ(feed_in_pieces(reply, text, piece), text.size());
    ASSERT_TRUE(reply.complete());
    EXPECT_EQ(reply.body_bytes(), 31u);
    EXPECT_FALSE(reply.keep_alive());
  }
}

TEST(HttpReply, ReadsToTheEndWithoutALength) {
  HttpReply reply;
  reply.feed(std::string_view("HTTP/1.0 200 OK\r\n\r\nsome body"));
  EXPECT_FALSE(reply.complete());
  reply.end_of_stream();
  ASSERT_TRUE(reply.complete());
  EXPECT_EQ(reply.body_bytes(), 9u);
  EXPECT_FALSE(reply.keep_alive());

  HttpReply cut;
  cut.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
  cut.end_of_stream();
  EXPECT_FALSE(cut.complete());
  EXPECT_EQ(cut.body_bytes(), 5u);

  HttpReply junk;
  junk.feed(std::string_view("SSH-2.0-OpenSSH\r\n\r\n"));
  EXPECT_TRUE(junk.malformed());
}

TEST(ScrapeUrl, TakesIpv4AndBracketedIpv6) {
  auto v4 = parse_scrape_url("http://10.0.0.1:9737/metrics");
  EXPECT_EQ(v4.address.family(), AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(v4.address.get())->sin_port), 9737);
  EXPECT_EQ(v4.host, "10.0.0.1:9737");
  EXPECT_EQ(v4.path, "/metrics");
  auto v6 = parse_scrape_url("http://[fd00::2]:80/a/b?c=1");
  EXPECT_EQ(v6.address.family(), AF_INET6);
  EXPECT_EQ(v6.host, "[fd00::2]:80");
  EXPECT_EQ(v6.path, "/a/b?c=1");
  EXPECT_EQ(parse_scrape_url("http://[::1]").path, "/");
  EXPECT_THROW(parse_scrape_url("https://10.0.0.1/"), Error);
  EXPECT_THROW(parse_scrape_url("http://example.com/"), Error);
  EXPECT_THROW(parse_scrape_url("http://10.0.0.1:0/"), Error);
  EXPECT_THROW(parse_scrape_url("http://[::1/"), Error);
}

}  // namespace
}  // namespace earshot::test::speaker_shapes_test
