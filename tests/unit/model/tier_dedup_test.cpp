// Two tiers seeing one open count it once (model/tier_dedup.h).
#include "model/tier_dedup.h"

#include <gtest/gtest.h>

namespace earshot::model::tier_dedup_test {
namespace {

constexpr Tier kFentry = Tier::fentry, kLsm = Tier::lsm, kSyscall = Tier::syscalls,
               kLibasound = Tier::libasound, kProcfs = Tier::procfs;
constexpr std::uint32_t kMic = (116u << 20) | 25u, kOtherMic = (116u << 20) | 26u;

TEST(TierDedup, ArecordOnHwSeenByFourTiersIsOneCapture) {
  TierDedup d;
  HandleId kernel{100, kFentry, 0xffff8880aa}, fd{100, kSyscall, 4}, pcm{100, kLibasound, 0x5555},
      poll{100, kProcfs, 7};
  EXPECT_EQ(d.opened(kernel, kMic), std::nullopt);  // first: counted
  EXPECT_EQ(d.opened(fd, kMic), kernel);
  EXPECT_EQ(d.opened(pcm, 0), kernel);
  EXPECT_EQ(d.opened(poll, kMic), kernel);
  // snd_pcm_close runs first, then close(fd), then the kernel's release.
  EXPECT_FALSE(d.closed(pcm));
  EXPECT_FALSE(d.closed(fd));
  EXPECT_TRUE(d.closed(kernel));
  EXPECT_FALSE(d.closed(poll));  // the poller notices later
  EXPECT_EQ(d.tracked(), 0u);
}

TEST(TierDedup, LowerTiersOnlyStillOneCapture) {
  TierDedup d;
  HandleId fd{7, kSyscall, 3}, pcm{7, kLibasound, 0x10}, poll{7, kProcfs, 1};
  EXPECT_EQ(d.opened(fd, kMic), std::nullopt);
  EXPECT_EQ(d.opened(pcm, 0), fd);
  EXPECT_EQ(d.opened(poll, kMic), fd);
}

TEST(TierDedup, LibasoundThenKernelJoinByUnknownDevice) {
  TierDedup d;
  HandleId pcm{7, kLibasound, 0x10}, poll{7, kProcfs, 1};
  EXPECT_EQ(d.opened(pcm, 0), std::nullopt);
  EXPECT_EQ(d.opened(poll, kMic), pcm);
}

TEST(TierDedup, DifferentProcessesAreDifferentCaptures) {
  TierDedup d;
  EXPECT_EQ(d.opened({1, kFentry, 1}, kMic), std::nullopt);
  EXPECT_EQ(d.opened({2, kSyscall, 3}, kMic), std::nullopt);
}

TEST(TierDedup, TwoDevicesOfOneProcessAreTwoCaptures) {
  TierDedup d;
  EXPECT_EQ(d.opened({1, kFentry, 1}, kMic), std::nullopt);
  EXPECT_EQ(d.opened({1, kFentry, 2}, kOtherMic), std::nullopt);
  EXPECT_EQ(d.opened({1, kSyscall, 5}, kOtherMic), (HandleId{1, kFentry, 2}));
}

TEST(TierDedup, SecondOpenFromTheSameTierIsItsOwnCapture) {
  TierDedup d;
  EXPECT_EQ(d.opened({1, kLsm, 1}, kMic), std::nullopt);
  EXPECT_EQ(d.opened({1, kLsm, 2}, kMic), std::nullopt);
}

TEST(TierDedup, ReopenAfterCloseIsCountedAgain) {
  TierDedup d;
  HandleId a{1, kFentry, 1}, fd{1, kSyscall, 3};
  d.opened(a, kMic);
  d.opened(fd, kMic);
  EXPECT_FALSE(d.closed(fd));
  EXPECT_TRUE(d.closed(a));
  HandleId b{1, kFentry, 9};
  EXPECT_EQ(d.opened(b, kMic), std::nullopt);
  EXPECT_EQ(d.opened({1, kSyscall, 3}, kMic), b);
}

TEST(TierDedup, EndedGroupTakesNoNewMembers) {
  TierDedup d;
  HandleId fd{1, kSyscall, 3}, pcm{1, kLibasound, 8};
  d.opened(fd, kMic);
  d.opened(pcm, 0);
  EXPECT_TRUE(d.closed(fd));  // the primary ends the capture; pcm lingers
  EXPECT_EQ(d.opened({1, kProcfs, 4}, kMic), std::nullopt);
}

TEST(TierDedup, AClientStreamOfASoundServerJoinsOnlyAnAlsaApplicationsOpen) {
  TierDedup d;
  // arecord -D pulse: snd_pcm_open, then the plugin's record stream.
  HandleId pcm{1, kLibasound, 0x10}, stream{1, Tier::libpulse, 0x20};
  EXPECT_EQ(d.opened(pcm, 0), std::nullopt);
  EXPECT_EQ(d.opened(stream, 0), pcm);
  // A process capturing from a device and, besides, through PipeWire: two captures.
  HandleId kernel{2, kFentry, 0xffff}, pw{2, Tier::libpipewire, 0x30};
  EXPECT_EQ(d.opened(kernel, kMic), std::nullopt);
  EXPECT_EQ(d.opened(pw, 0), std::nullopt);
  // Nothing joins a client stream: a later snd_pcm_open of hw is its own.
  HandleId pcm2{2, kLibasound, 0x40};
  EXPECT_EQ(d.opened(pcm2, 0), kernel);
  HandleId pw_only{3, Tier::libpipewire, 0x50}, pcm3{3, kLibasound, 0x60};
  EXPECT_EQ(d.opened(pw_only, 0), std::nullopt);
  EXPECT_EQ(d.opened(pcm3, 0), std::nullopt);
}

TEST(TierDedup, UnknownCloseIsLeftToTheLedger) {
  TierDedup d;
  EXPECT_TRUE(d.closed({3, kSyscall, 9}));
}

TEST(TierDedup, ProcessExitForgetsEverything) {
  TierDedup d;
  d.opened({1, kSyscall, 3}, kMic);
  d.opened({1, kLibasound, 8}, 0);
  d.opened({2, kSyscall, 3}, kMic);
  d.process_exited(1);
  EXPECT_EQ(d.tracked(), 1u);
  EXPECT_EQ(d.opened({1, kSyscall, 3}, kMic), std::nullopt);
}

}  // namespace
}  // namespace earshot::model::tier_dedup_test
