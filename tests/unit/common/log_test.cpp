#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace earshot::log::log_test {
namespace {

TEST(Log, LogfmtQuotesWhatNeedsIt) {
  EXPECT_EQ(render_logfmt("T", "info", "listening", {{"address", "127.0.0.1:9737"}}),
            "ts=T level=info msg=listening address=127.0.0.1:9737");
  EXPECT_EQ(render_logfmt("T", "warn", "hook not attached", {{"reason", "say \"no\""}}),
            "ts=T level=warn msg=\"hook not attached\" reason=\"say \\\"no\\\"\"");
  EXPECT_EQ(render_logfmt("T", "info", "m", {{"empty", ""}}), "ts=T level=info msg=m empty=\"\"");
}

TEST(Log, JsonIsOneObjectALineAndSurvivesBadUtf8) {
  std::string line =
      render_json("T", "info", "listening", {{"address", "[::1]:0"}, {"bad", "\xff\n"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "listening");
  EXPECT_EQ(j["address"], "[::1]:0");
}

}  // namespace
}  // namespace earshot::log::log_test
