#include "model/device_bursts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace earshot::model::device_bursts_test {
namespace {

constexpr MonotonicNs kSecond = 1'000'000'000ULL;

NamedDeviceGrowth growth(std::uint8_t last_mac_byte, const std::string& device,
                         const std::string& destination, std::uint64_t bytes,
                         std::uint64_t payload) {
  NamedDeviceGrowth g;
  g.flow.mac = {0x02, 0, 0, 0xaa, 0xbb, last_mac_byte};
  g.flow.family = 2;
  g.device = device;
  g.destination = destination;
  g.growth.packets = std::max<std::uint64_t>(1, payload / 100);  // voice-sized frames
  g.growth.bytes = bytes;
  g.growth.payload_bytes = payload;
  return g;
}

// A second of datagrams both ways, as the kernel counts them: `sent` of
// `sent_size` bytes of payload (ack-sized ones, 1-64 bytes, counted apart)
// and `received` of `received_size`.
NamedDeviceGrowth datagrams(std::uint8_t last_mac_byte, const std::string& device,
                            const std::string& destination, std::uint64_t sent,
                            std::uint64_t sent_size, std::uint64_t received,
                            std::uint64_t received_size) {
  NamedDeviceGrowth g = growth(last_mac_byte, device, destination, 0, 0);
  g.growth.packets = sent;
  g.growth.payload_bytes = sent * sent_size;
  g.growth.bytes = sent * (sent_size + 28);  // IPv4 and UDP headers
  if (sent_size >= 1 && sent_size <= 64) {
    g.growth.ack_sized_packets = sent;
    g.growth.ack_sized_payload = sent * sent_size;
  }
  g.growth.ingress_packets = received;
  g.growth.ingress_payload = received * received_size;
  return g;
}

// One harvest a second, at t + 0.5 s, of what `at(t)` gives; every line.
std::vector<nlohmann::json> feed(
    DeviceBursts& bursts, std::uint64_t from, std::uint64_t to,
    const std::function<std::vector<NamedDeviceGrowth>(std::uint64_t)>& at) {
  std::vector<nlohmann::json> lines;
  for (std::uint64_t t = from; t < to; ++t)
    for (auto& l : bursts.harvested(t * kSecond + kSecond / 2, at(t))) lines.push_back(l);
  return lines;
}

TEST(DeviceBursts, AVoiceUploadIsOneBurstNamedByDeviceAndDestination) {
  DeviceBurstsConfig config;
  config.upload_allowed = {"voice.example"};
  DeviceBursts bursts(config);
  auto lines = feed(bursts, 0, 40, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    if (t >= 10 && t < 15) g.push_back(growth(1, "kitchen", "voice.example", 4400, 4000));
    if (t % 5 == 0) g.push_back(growth(1, "kitchen", "heartbeat.example", 92, 40));
    return g;
  });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], "session");
  EXPECT_EQ(lines[0]["source"], "traffic");
  EXPECT_EQ(lines[0]["device"], "kitchen");
  EXPECT_EQ(lines[0]["mac"], "02:00:00:aa:bb:01");
  EXPECT_EQ(lines[0]["destination"], "voice.example");
  EXPECT_EQ(lines[0]["verdict"], "audio-upload");
  EXPECT_EQ(lines[0]["bytes"], 20000);
  ASSERT_EQ(bursts.recent().size(), 1u);
  EXPECT_NEAR(bursts.recent()[0].seconds(), 5, 1);
  ASSERT_EQ(bursts.counts().size(), 1u);
  auto [key, n] = *bursts.counts().begin();
  EXPECT_EQ(key.device, "kitchen");
  EXPECT_EQ(key.verdict, Verdict::audio_upload);
  EXPECT_TRUE(key.allowed);
  EXPECT_EQ(n, 1u);
  auto json = bursts.json();
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["device"], "kitchen");
  EXPECT_FALSE(json[0].contains("event"));
}

// A video download's acknowledgements: ~52 bytes a packet at a voice-like
// byte rate, no payload. Bytes alone would look like an upload.
TEST(DeviceBursts, AcknowledgementsOfADownloadAreNoBurst) {
  DeviceBursts bursts;
  auto lines = feed(bursts, 0, 40, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    if (t >= 10 && t < 20) g.push_back(growth(2, "tv", "video.example", 4160, 0));
    return g;
  });
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(bursts.counts().empty());
}

// A QUIC-like video download: 1 MB/s in 1300-byte datagrams, the device
// acknowledging every second one with a 40-byte ACK (15 kB/s of payload, a
// voice rate in voice-sized packets). What came back explains the ACKs: no
// burst. Without it (what the gateway counted before it counted what
// devices receive) the same ACKs are a voice-shaped upload.
TEST(DeviceBursts, AQuicVideoDownloadsAcknowledgementsAreNoBurst) {
  constexpr std::uint64_t kReceived = 1'000'000 / 1300;
  auto download = [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    if (t >= 10 && t < 30)
      g.push_back(datagrams(3, "tv", "video.example", kReceived / 2, 40, kReceived, 1300));
    return g;
  };
  DeviceBursts bursts;
  auto lines = feed(bursts, 0, 50, download);
  EXPECT_TRUE(lines.empty()) << nlohmann::json(lines).dump(2);
  EXPECT_TRUE(bursts.counts().empty());

  DeviceBursts blind;
  lines = feed(blind, 0, 50, [&](std::uint64_t t) {
    auto g = download(t);
    for (auto& one : g) one.growth.ingress_packets = one.growth.ingress_payload = 0;
    return g;
  });
  ASSERT_EQ(lines.size(), 1u) << nlohmann::json(lines).dump(2);
  EXPECT_EQ(lines[0]["verdict"], "audio-upload");
}

// A camera streaming upstream: 2 Mbit/s in 1200-byte datagrams for 20 s,
// a 40-byte ACK coming back for every second one. One burst, video-upload,
// counted under that verdict.
TEST(DeviceBursts, AVideoStreamUpstreamIsOneVideoBurst) {
  constexpr std::uint64_t kSent = 250'000 / 1200;
  DeviceBursts bursts;
  auto lines = feed(bursts, 0, 50, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    if (t >= 10 && t < 30)
      g.push_back(datagrams(4, "doorbell", "camera.example", kSent, 1200, kSent / 2, 40));
    return g;
  });
  ASSERT_EQ(lines.size(), 1u) << nlohmann::json(lines).dump(2);
  EXPECT_EQ(lines[0]["device"], "doorbell");
  EXPECT_EQ(lines[0]["destination"], "camera.example");
  EXPECT_EQ(lines[0]["verdict"], "video-upload");
  EXPECT_NEAR(lines[0]["seconds"].get<double>(), 20, 1.5);
  ASSERT_EQ(bursts.counts().size(), 1u);
  const auto& [key, n] = *bursts.counts().begin();
  EXPECT_EQ(key.device, "doorbell");
  EXPECT_EQ(key.verdict, Verdict::video_upload);
  EXPECT_EQ(to_string(key.verdict), "video-upload");
  EXPECT_EQ(n, 1u);
}

TEST(DeviceBursts, ABulkUploadIsNoBurstAndAForbiddenDestinationIsNotAllowed) {
  DeviceBurstsConfig config;
  config.upload_allowed = {"voice.example"};
  DeviceBursts bursts(config);
  auto lines = feed(bursts, 0, 60, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    if (t >= 5 && t < 8) g.push_back(growth(1, "kitchen", "backup.example", 3'000'000, 2'900'000));
    if (t >= 30 && t < 36) g.push_back(growth(1, "kitchen", "elsewhere.example", 4400, 4000));
    return g;
  });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["destination"], "elsewhere.example");
  ASSERT_EQ(bursts.counts().size(), 1u);
  EXPECT_FALSE(bursts.counts().begin()->first.allowed);
}

// A sync that sends chunks of 3-20 kB with two quiet seconds between some:
// one uneven upload, not a row of one-second voice uploads.
TEST(DeviceBursts, AnUnevenUploadThatPausesForTwoSecondsIsNoBurst) {
  DeviceBursts bursts;
  auto lines = feed(bursts, 0, 40, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    const std::uint64_t chunks[][2] = {
        {10, 9000}, {13, 12000}, {16, 3000}, {17, 20000}, {20, 8000}};
    for (const auto& [at, bytes] : chunks)
      if (t == at) g.push_back(growth(1, "kitchen", "sync.example", bytes + 400, bytes));
    return g;
  });
  EXPECT_TRUE(lines.empty()) << nlohmann::json(lines).dump(2);
}

// Voice uploads four seconds apart are still two bursts.
TEST(DeviceBursts, VoiceUploadsFourSecondsApartAreTwoBursts) {
  DeviceBursts bursts;
  auto lines = feed(bursts, 0, 40, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    if ((t >= 10 && t < 15) || (t >= 19 && t < 22))
      g.push_back(growth(1, "kitchen", "voice.example", 3300, 3000));
    return g;
  });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NEAR(lines[0]["seconds"].get<double>(), 5, 1);
  EXPECT_NEAR(lines[1]["seconds"].get<double>(), 3, 1);
}

TEST(DeviceBursts, KeepsTheLastBurstsAndBoundsItsSeries) {
  DeviceBurstsConfig config;
  config.kept = 2;
  config.max_series = 2;
  DeviceBursts bursts(config);
  // Four devices, each one voice upload, 20 s apart.
  feed(bursts, 0, 100, [](std::uint64_t t) {
    std::vector<NamedDeviceGrowth> g;
    std::uint64_t n = t / 20;
    if (t % 20 >= 5 && t % 20 < 10)
      g.push_back(growth(static_cast<std::uint8_t>(n), "dev" + std::to_string(n), "voice.example",
                         4400, 4000));
    return g;
  });
  ASSERT_EQ(bursts.recent().size(), 2u);
  EXPECT_EQ(bursts.json()[0]["device"], "dev4");
  EXPECT_EQ(bursts.json()[1]["device"], "dev3");
  std::uint64_t total = 0;
  for (const auto& [key, n] : bursts.counts()) total += n;
  EXPECT_EQ(total, 5u);
  EXPECT_LE(bursts.counts().size(), 3u);
  EXPECT_TRUE(bursts.counts().contains({"other", "other", Verdict::audio_upload, true}));
}

}  // namespace
}  // namespace earshot::model::device_bursts_test
