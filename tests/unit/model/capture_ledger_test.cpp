#include "model/capture_ledger.h"

#include <gtest/gtest.h>

namespace earshot::model::capture_ledger_test {
namespace {

const CaptureSeriesKey kMic{"arecord", "", "pcmC0D0c"};

TEST(CaptureLedger, OpenAndCloseMoveOpensAndActive) {
  CaptureLedger ledger;
  EXPECT_TRUE(ledger.opened({10, Tier::syscalls, 4}, kMic));
  EXPECT_EQ(ledger.series().at(kMic).opens, 1u);
  EXPECT_EQ(ledger.series().at(kMic).active, 1u);
  auto closed = ledger.closed({10, Tier::syscalls, 4});
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, kMic);
  EXPECT_EQ(ledger.series().at(kMic).opens, 1u);
  EXPECT_EQ(ledger.series().at(kMic).active, 0u);
}

TEST(CaptureLedger, TheSameHandleOpenedTwiceCountsOnce) {
  CaptureLedger ledger;
  EXPECT_TRUE(ledger.opened({10, Tier::syscalls, 4}, kMic));
  EXPECT_FALSE(ledger.opened({10, Tier::syscalls, 4}, kMic));
  EXPECT_EQ(ledger.series().at(kMic).opens, 1u);
}

TEST(CaptureLedger, CloseOfAnUnknownHandleChangesNothing) {
  CaptureLedger ledger;
  EXPECT_FALSE(ledger.closed({1, Tier::syscalls, 9}));
  EXPECT_TRUE(ledger.series().empty());
}

TEST(CaptureLedger, ProcessExitClosesOnlyThatProcessesHandles) {
  CaptureLedger ledger;
  ledger.opened({10, Tier::syscalls, 4}, kMic);
  ledger.opened({10, Tier::libasound, 0xabc}, {"arecord", "", "alsa:null"});
  ledger.opened({11, Tier::syscalls, 4}, {"other", "", "pcmC0D0c"});
  auto gone = ledger.process_exited(10);
  EXPECT_EQ(gone.size(), 2u);
  EXPECT_EQ(ledger.open_handles(), 1u);
  EXPECT_EQ(ledger.series().at(kMic).active, 0u);
  EXPECT_EQ(ledger.series().at({"other", "", "pcmC0D0c"}).active, 1u);
  EXPECT_TRUE(ledger.series_of({11, Tier::syscalls, 4}));
  EXPECT_FALSE(ledger.series_of({10, Tier::syscalls, 4}));
}

}  // namespace
}  // namespace earshot::model::capture_ledger_test
