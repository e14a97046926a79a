// Tier 5: parsing /proc/asound/.../status text, turning polls into
// opens/closes/frames, and walking a fake /proc/asound tree.
#include "kernel/procfs_poller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>

#include "common/error.h"
#include "temp_dir.h"

namespace earshot::kernel::procfs_poller_test {
namespace {

// As sound/core/pcm.c prints it (6.12), for a running capture.
constexpr const char* kRunning =
    "state: RUNNING\n"
    "owner_pid   : 4242\n"
    "trigger_time: 81.302846185\n"
    "tstamp      : 84.310171296\n"
    "delay       : 64\n"
    "avail       : 64\n"
    "avail_max   : 512\n"
    "-----\n"
    "hw_ptr      : 48064\n"
    "appl_ptr    : 48000\n";

TEST(ParsePcmStatus, Closed) {
  PcmStatus s = parse_pcm_status("closed\n");
  EXPECT_FALSE(s.open);
  EXPECT_EQ(s.owner_pid, 0u);
}

TEST(ParsePcmStatus, Running) {
  PcmStatus s = parse_pcm_status(kRunning);
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.state, "RUNNING");
  EXPECT_EQ(s.owner_pid, 4242u);
  EXPECT_EQ(s.hw_ptr, 48064u);
  EXPECT_EQ(s.appl_ptr, 48000u);
}

TEST(ParsePcmStatus, OpenBeforeHwParamsHasNoPointers) {
  PcmStatus s = parse_pcm_status("state: OPEN\nowner_pid   : 7\n");
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.state, "OPEN");
  EXPECT_EQ(s.owner_pid, 7u);
  EXPECT_EQ(s.appl_ptr, 0u);
}

TEST(ParsePcmStatus, MalformedIsAnErrorNamingTheKey) {
  EXPECT_THROW(parse_pcm_status(""), Error);
  try {
    parse_pcm_status("state: RUNNING\nowner_pid   : x12\n");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("owner_pid"), std::string::npos) << e.what();
  }
}

SubstreamReading reading(int card, int device, std::uint32_t owner, std::uint64_t appl,
                         bool open = true) {
  SubstreamReading r;
  r.id = {card, device, 0};
  r.dev = (116u << 20) | static_cast<std::uint32_t>(device + 24);
  r.tgid = owner;
  r.status.open = open;
  r.status.state = open ? "RUNNING" : "";
  r.status.owner_pid = open ? owner : 0;
  r.status.appl_ptr = appl;
  return r;
}

TEST(ProcfsTracker, OpenFramesClose) {
  ProcfsTracker t;
  auto c = t.update({reading(1, 1, 100, 1600)});
  ASSERT_EQ(c.opened.size(), 1u);
  EXPECT_EQ(c.opened[0].tgid, 100u);
  EXPECT_EQ(c.opened[0].dev, (116u << 20) | 25u);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].frames, 1600u);
  std::uint64_t handle = c.opened[0].handle;

  c = t.update({reading(1, 1, 100, 16000)});
  EXPECT_TRUE(c.opened.empty());
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].handle, handle);
  EXPECT_EQ(c.frames[0].frames, 16000u);

  c = t.update({reading(1, 1, 0, 0, false)});
  ASSERT_EQ(c.closed.size(), 1u);
  EXPECT_EQ(c.closed[0].handle, handle);
  EXPECT_TRUE(c.frames.empty());
}

TEST(ProcfsTracker, PrepareResetsApplPtrWithoutLosingFrames) {
  ProcfsTracker t;
  t.update({reading(0, 0, 5, 1000)});
  auto c = t.update({reading(0, 0, 5, 200)});  // re-prepared after an xrun, read 200 more
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].frames, 1200u);
}

TEST(ProcfsTracker, NewOwnerIsANewOpenWithANewHandle) {
  ProcfsTracker t;
  auto first = t.update({reading(0, 0, 5, 0)});
  auto c = t.update({reading(0, 0, 6, 0)});
  ASSERT_EQ(c.closed.size(), 1u);
  ASSERT_EQ(c.opened.size(), 1u);
  EXPECT_EQ(c.opened[0].tgid, 6u);
  EXPECT_NE(c.opened[0].handle, first.opened[0].handle);
}

TEST(ProcfsTracker, OpenWithoutReadingHasZeroFrames) {
  ProcfsTracker t;
  SubstreamReading r = reading(0, 0, 9, 0);
  r.status.state = "SETUP";
  auto c = t.update({r});
  ASSERT_EQ(c.opened.size(), 1u);
  EXPECT_EQ(c.frames[0].frames, 0u);
}

TEST(ProcfsTracker, SubstreamThatVanishesIsClosed) {
  ProcfsTracker t;
  t.update({reading(2, 0, 9, 10)});
  auto c = t.update({});
  EXPECT_EQ(c.closed.size(), 1u);
}

class FakeTree : public ::testing::Test {
 protected:
  void write(std::string_view relative, std::string_view text) { root_.write_file(relative, text); }
  test::TempDir root_{"earshot-procfs"};
};

TEST_F(FakeTree, WalksCaptureSubstreamsOnly) {
  write("asound/card1/pcm1c/sub0/status", kRunning);
  write("asound/card1/pcm1c/sub1/status", "closed\n");
  write("asound/card1/pcm0p/sub0/status", kRunning);  // playback: not a microphone
  write("asound/card1/pcm1c/info", "card: 1\n");
  write("asound/cards", "x\n");
  write("class/pcmC1D1c/dev", "116:30\n");
  write("proc/4242/status", "Name:\tarecord\nTgid:\t4240\nPid:\t4242\n");
  ProcfsPoller poller(root_.file("asound"), root_.file("class"), root_.file("proc"));
  auto readings = poller.read();
  ASSERT_EQ(readings.size(), 2u);
  std::sort(readings.begin(), readings.end(), [](auto& a, auto& b) { return a.id < b.id; });
  EXPECT_EQ(readings[0].id, (SubstreamId{1, 1, 0}));
  EXPECT_EQ(readings[0].dev, (116u << 20) | 30u);
  EXPECT_EQ(readings[0].tgid, 4240u);  // owner_pid is a thread; its process is what counts
  EXPECT_TRUE(readings[0].status.open);
  EXPECT_FALSE(readings[1].status.open);
}

TEST_F(FakeTree, NoAsoundDirectoryIsEmpty) {
  ProcfsPoller poller(root_.file("none"), root_.file("class"), root_.file("proc"));
  EXPECT_TRUE(poller.read().empty());
}

}  // namespace
}  // namespace earshot::kernel::procfs_poller_test
