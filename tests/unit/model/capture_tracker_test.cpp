#include "model/capture_tracker.h"

#include <gtest/gtest.h>

namespace earshot::model::capture_tracker_test {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ULL;
constexpr std::uint32_t kMic = (116u << 20) | 25u;
const ProcessRef kArecord{100, 5, "arecord"};

struct Tracker {
  SessionBuilder sessions;
  CaptureTracker tracker{sessions};
  int names_asked = 0;

  CaptureTracker::Opened open(MonotonicNs ts, HandleId id, std::uint32_t dev = kMic,
                              const std::string& device = "mic") {
    return tracker.opened(ts, id, dev, [&] {
      ++names_asked;
      return CaptureNames{kArecord, "arecord.service", device};
    });
  }
};

TEST(CaptureTracker, ACountedOpenIsNamedRecordedAndStartsASeries) {
  Tracker t;
  auto opened = t.open(kSecond, {100, Tier::syscalls, 4});
  EXPECT_FALSE(opened.counted_as);
  ASSERT_TRUE(opened.record);
  EXPECT_EQ(opened.record->kind, CaptureRecord::Kind::open);
  EXPECT_EQ(opened.record->process, "arecord");
  EXPECT_EQ(opened.record->unit, "arecord.service");
  EXPECT_EQ(opened.record->device, "mic");
  EXPECT_EQ(opened.record->tier, Tier::syscalls);
  EXPECT_EQ(t.tracker.ledger().series().at({"arecord", "arecord.service", "mic"}).opens, 1u);
  EXPECT_EQ(t.tracker.ledger().open_handles(), 1u);
}

TEST(CaptureTracker, AnOpenAnotherTierCountedIsNotNamedNorCountedAndItsCloseIsSwallowed) {
  Tracker t;
  HandleId kernel{100, Tier::fentry, 0xffff}, fd{100, Tier::syscalls, 4};
  t.open(kSecond, kernel);
  auto duplicate = t.open(kSecond, fd);
  EXPECT_EQ(duplicate.counted_as, kernel);
  EXPECT_FALSE(duplicate.record);
  EXPECT_EQ(t.names_asked, 1);
  EXPECT_FALSE(t.tracker.closed(2 * kSecond, {fd, 0, 0}));
  auto close = t.tracker.closed(2 * kSecond, {kernel, 0, 0});
  ASSERT_TRUE(close);
  EXPECT_EQ(close->kind, CaptureRecord::Kind::close);
  EXPECT_EQ(close->tier, Tier::fentry);
  EXPECT_EQ(t.tracker.ledger().series().begin()->second.opens, 1u);
  EXPECT_EQ(t.tracker.ledger().series().begin()->second.active, 0u);
}

TEST(CaptureTracker, FramesGrowCaptureTimeOnlyInHarvestsWhereTheyGrew) {
  Tracker t;
  HandleId fd{100, Tier::syscalls, 4};
  t.open(kSecond, fd);
  t.tracker.harvest(2 * kSecond, {{fd, 16000, 32000}});  // first harvest: no interval yet
  t.tracker.harvest(3 * kSecond, {{fd, 32000, 64000}});
  t.tracker.harvest(4 * kSecond, {{fd, 32000, 64000}});  // no growth: no time
  const auto& time = t.tracker.capture_time().at({"arecord", "arecord.service", "mic"});
  EXPECT_EQ(time.frames, 32000u);
  EXPECT_DOUBLE_EQ(time.seconds, 1.0);

  // The close brings the last frames since the last harvest, half a second.
  t.tracker.closed(4 * kSecond + kSecond / 2, {fd, 40000, 80000});
  EXPECT_EQ(time.frames, 40000u);
  EXPECT_DOUBLE_EQ(time.seconds, 1.5);
}

TEST(CaptureTracker, PolledFramesCountLikeAMapsAndStopAtTheClose) {
  Tracker t;
  HandleId poll{100, Tier::procfs, 7};
  t.open(kSecond, poll);
  t.tracker.harvest(2 * kSecond, {});
  t.tracker.polled_frames(poll, 8000);
  t.tracker.harvest(3 * kSecond, {});
  const auto& time = t.tracker.capture_time().at({"arecord", "arecord.service", "mic"});
  EXPECT_EQ(time.frames, 8000u);
  t.tracker.closed(3 * kSecond, {poll, 0, 0});
  t.open(4 * kSecond, {100, Tier::procfs, 8});
  t.tracker.harvest(5 * kSecond, {});  // the closed handle's polled frames are gone
  EXPECT_EQ(time.frames, 8000u);
}

TEST(CaptureTracker, AnExitClosesEveryCaptureOfTheProcessWithItsFinalFrames) {
  Tracker t;
  HandleId fd{100, Tier::syscalls, 4}, second{100, Tier::syscalls, 5},
      other{200, Tier::syscalls, 4};
  t.open(kSecond, fd);
  t.open(kSecond, second, kMic + 1, "second mic");
  t.open(kSecond, other);
  t.tracker.harvest(2 * kSecond, {{fd, 100, 200}});
  std::vector<HandleId> asked;
  auto exited = t.tracker.process_exited(3 * kSecond, 100, [&](const HandleId& id) {
    asked.push_back(id);
    return id == fd ? std::optional(HandleCount{fd, 900, 1800}) : std::nullopt;
  });
  EXPECT_EQ(exited.closed.size(), 2u);
  ASSERT_EQ(exited.records.size(), 2u);
  for (const auto& r : exited.records) {
    EXPECT_TRUE(r.process_exit);
    EXPECT_EQ(r.pid, 100u);
  }
  EXPECT_EQ(t.tracker.ledger().open_handles(), 1u);  // the other process's
  EXPECT_EQ(t.tracker.capture_time().at({"arecord", "arecord.service", "mic"}).frames, 900u);
  EXPECT_FALSE(t.tracker.closed(4 * kSecond, {fd, 0, 0}));  // already closed
}

}  // namespace
}  // namespace earshot::model::capture_tracker_test
