#include "config/values.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace earshot::config::values_test {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("5s"), milliseconds(5'000));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(Duration, ReadsDescendingCombinations) {
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("1h2m3s4ms"), milliseconds(3'723'004));
  EXPECT_EQ(parse_duration("1s500ms"), milliseconds(1'500));
}

TEST(Duration, RejectsMissingUnitsAndJunk) {
  for (const char* text : {"", "5", "500", "soon", "s", "5 s", "5S", "1.5s", "-5s", "+5s", "5sec",
                           "5s ", " 5s", "30s1m", "1s1s", "5ms5s", "1d"}) {
    EXPECT_THROW(parse_duration(text), Error) << "'" << text << "'";
  }
}

TEST(Duration, RejectsOverflow) {
  EXPECT_THROW(parse_duration("99999999999999999999ms"), Error);
  EXPECT_THROW(parse_duration("9223372036854775807h"), Error);
}

TEST(Duration, ErrorNamesTheTextAndTheForm) {
  try {
    parse_duration("soon");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "must be a duration like 500ms, 5s, 2m (got 'soon')");
  }
}

TEST(Duration, FormatReadsBack) {
  for (const std::int64_t count : {0, 1, 999, 1'000, 1'500, 60'000, 90'000, 3'723'004, 7'200'000}) {
    const milliseconds duration(count);
    EXPECT_EQ(parse_duration(format_duration(duration)), duration) << format_duration(duration);
  }
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
  EXPECT_EQ(format_duration(milliseconds(100)), "100ms");
}

TEST(Choices, ReadAndPrintEveryName) {
  for (const Tier tier : kTiers) {
    EXPECT_EQ(parse_tier(to_string(tier)), tier);
  }
  for (const LogLevel level :
       {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    EXPECT_EQ(parse_log_level(to_string(level)), level);
  }
  EXPECT_EQ(parse_log_format("json"), LogFormat::json);
  EXPECT_EQ(to_string(LogFormat::logfmt), "logfmt");
  EXPECT_EQ(to_string(Tier::libasound), "libasound");
}

TEST(Choices, ErrorListsTheChoices) {
  try {
    parse_log_level("verbose");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "must be one of trace|debug|info|warn|error (got 'verbose')");
  }
  EXPECT_THROW(parse_tier("kprobe"), Error);
  EXPECT_THROW(parse_log_format("text"), Error);
}

}  // namespace
}  // namespace earshot::config::values_test
