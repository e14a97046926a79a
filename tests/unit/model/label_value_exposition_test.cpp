// Sanitized label values through prometheus-cpp's text exposition: the
// escaping is exact and the page stays valid UTF-8 that promtool accepts.
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "model/label_value.h"
#include "promtool.h"
#include "utf8_check.h"

namespace earshot::model::label_value_exposition_test {
namespace {

using earshot::testing::is_valid_utf8;

std::string exposition_with_hostile_names() {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter()
                     .Name("earshot_egress_bytes_total")
                     .Help("Bytes each process sent, by destination.")
                     .Register(registry);
  const auto add = [&](std::string_view process, double bytes) {
    family.Add({{"process", sanitize_label_value(process)}, {"destination", "192.0.2.1"}})
        .Increment(bytes);
  };
  add("a\"b\\c\nd", 1);
  add("bad\xFF\xC0utf8", 2);
  add("\xF0\x9F\x8E\xA4 recorder", 3);
  add("esc\x1B]0;pwned\x07", 4);
  add(std::string(150, 'x'), 5);
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Exposition, HostileLabelValuesAreEscapedExactly) {
  const std::string text = exposition_with_hostile_names();
  SCOPED_TRACE(text);
  EXPECT_TRUE(has_line(
      text, R"(earshot_egress_bytes_total{destination="192.0.2.1",process="a\"b\\c\nd"} 1)"));
  EXPECT_TRUE(has_line(text,
                       "earshot_egress_bytes_total{destination=\"192.0.2.1\",process="
                       "\"bad\xEF\xBF\xBD\xEF\xBF\xBDutf8\"} 2"));
  EXPECT_TRUE(has_line(text,
                       "earshot_egress_bytes_total{destination=\"192.0.2.1\",process="
                       "\"\xF0\x9F\x8E\xA4 recorder\"} 3"));
  EXPECT_TRUE(has_line(text,
                       "earshot_egress_bytes_total{destination=\"192.0.2.1\",process="
                       "\"esc\xEF\xBF\xBD]0;pwned\xEF\xBF\xBD\"} 4"));
  EXPECT_TRUE(has_line(text, "earshot_egress_bytes_total{destination=\"192.0.2.1\",process=\"" +
                                 std::string(128, 'x') + "\"} 5"));
  EXPECT_TRUE(is_valid_utf8(text));
}

class Promtool : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = test::promtool_unavailable_reason()) GTEST_SKIP() << *reason;
  }
};

TEST_F(Promtool, AcceptsSanitizedPage) {
  const auto result = test::promtool_check_metrics(exposition_with_hostile_names());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out + result.err, "");
}

TEST_F(Promtool, RejectsUnsanitizedName) {
  // The control: without sanitizing, a process name with a stray byte breaks
  // the whole page, so the check above is not vacuous.
  prometheus::Registry registry;
  prometheus::BuildCounter()
      .Name("earshot_egress_bytes_total")
      .Help("Bytes each process sent, by destination.")
      .Register(registry)
      .Add({{"process", "bad\xFFname"}})
      .Increment();
  const auto result =
      test::promtool_check_metrics(prometheus::TextSerializer().Serialize(registry.Collect()));
  const std::string said = result.out + result.err;
  EXPECT_NE(result.exit_code, 0) << said;
  EXPECT_NE(said.find("invalid label value"), std::string::npos) << said;
}

}  // namespace
}  // namespace earshot::model::label_value_exposition_test
