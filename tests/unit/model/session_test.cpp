#include "model/session.h"

#include <gtest/gtest.h>

#include "session_feed.h"

namespace earshot::model::session_test {
namespace {

using namespace testing;

TEST(SessionJson, Rfc3339FromMonotonic) {
  // 2026-11-24T10:00:00Z is 1795514400 s after the epoch.
  std::int64_t offset = 1795514400LL * 1'000'000'000 - static_cast<std::int64_t>(seconds(20));
  EXPECT_EQ(rfc3339_utc(seconds(20), offset), "2026-11-24T10:00:00.000Z");
  EXPECT_EQ(rfc3339_utc(seconds(21.25), offset), "2026-11-24T10:00:01.250Z");
  EXPECT_EQ(rfc3339_utc(0, -1'500'000'000), "1969-12-31T23:59:58.500Z");
}

TEST(SessionJson, FinishedSessionHasTheDocumentedFields) {
  SessionFeed feed;
  feed.run(1, 40, [&](double t) {
    if (t == 10) feed.open(t, 4, kRelayCapture);
    if (t > 20 && t <= 26) {
      feed.frames(t, 4, 1000 * static_cast<std::uint64_t>(std::min(t, 25.0) - 20));
    }
    if (t > 20 && t <= 25) {
      feed.send(t, kRelayUpload, "upload.example", 4000, Window::other);
      feed.send(t, kRelayCapture, "upload.example", 50, Window::self);
    }
    if (t == 26) feed.close(t, 4);
  });
  ASSERT_EQ(feed.finished.size(), 1u);
  std::int64_t offset = 1795514400LL * 1'000'000'000 - static_cast<std::int64_t>(seconds(20));
  auto json = to_json(feed.finished[0], offset);
  EXPECT_EQ(json["process"], "relay-a");
  EXPECT_EQ(json["pid"], 400);
  EXPECT_EQ(json["device"], "pcmC0D0c");
  EXPECT_EQ(json["start"], "2026-11-24T10:00:00.000Z");
  EXPECT_EQ(json["end"], "2026-11-24T10:00:06.000Z");
  EXPECT_DOUBLE_EQ(json["duration_seconds"].get<double>(), 6.0);
  EXPECT_EQ(json["frames"], 5000);
  EXPECT_EQ(json["verdict"], "audio-upload");
  EXPECT_EQ(json["ended_by"], "close");
  EXPECT_EQ(json["finished"], true);
  ASSERT_EQ(json["destinations"].size(), 1u);
  const auto& destination = json["destinations"][0];
  EXPECT_EQ(destination["destination"], "upload.example");
  EXPECT_EQ(destination["self_bytes"], 250);
  EXPECT_EQ(destination["baseline_bytes_per_second"], 0.0);
  ASSERT_EQ(destination["others"].size(), 1u);
  EXPECT_EQ(destination["others"][0]["process"], "relay-b");
  EXPECT_EQ(destination["others"][0]["bytes"], 20000);
}

TEST(SessionJson, OpenSessionHasNullEnd) {
  SessionFeed feed;
  feed.run(1, 22, [&](double t) {
    if (t == 10) feed.open(t, 1, kAssistant);
    if (t > 20) feed.frames(t, 1, 100 * static_cast<std::uint64_t>(t - 20));
  });
  auto open = feed.builder.open_sessions();
  ASSERT_EQ(open.size(), 1u);
  auto json = to_json(open[0], 0);
  EXPECT_TRUE(json["end"].is_null());
  EXPECT_EQ(json["finished"], false);
  EXPECT_EQ(json["ended_by"], "open");
}

}  // namespace
}  // namespace earshot::model::session_test
