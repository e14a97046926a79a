#include "prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"

namespace earshot::test::prometheus_text_test {
namespace {

TEST(PrometheusText, ParsesSampleWithoutLabels) {
  auto samples = parse_prometheus_text("earshot_unattributed_egress_bytes_total 1234\n");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].name, "earshot_unattributed_egress_bytes_total");
  EXPECT_TRUE(samples[0].labels.empty());
  EXPECT_EQ(samples[0].value, 1234);
}

TEST(PrometheusText, SkipsCommentsAndBlankLines) {
  auto samples = parse_prometheus_text(
      "# HELP a_total Bytes.\n# TYPE a_total counter\n\n  \na_total{x=\"1\"} 2\n# trailing\n");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels.at("x"), "1");
}

TEST(PrometheusText, UnescapesLabelValues) {
  auto samples =
      parse_prometheus_text(R"(m{process="a\"b",path="c:\\d",text="line1\nline2",utf8="hé ✓"} 1)"
                            "\n");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels.at("process"), "a\"b");
  EXPECT_EQ(samples[0].labels.at("path"), "c:\\d");
  EXPECT_EQ(samples[0].labels.at("text"), "line1\nline2");
  EXPECT_EQ(samples[0].labels.at("utf8"), "hé ✓");
}

TEST(PrometheusText, ParsesSpecialValuesTimestampsAndTrailingComma) {
  auto samples = parse_prometheus_text(
      "h_bucket{le=\"+Inf\",} +Inf\nneg -Inf\nnan NaN 1700000000000\nsci 1.5e3\r\n");
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].labels.at("le"), "+Inf");
  EXPECT_TRUE(std::isinf(samples[0].value) && samples[0].value > 0);
  EXPECT_TRUE(std::isinf(samples[1].value) && samples[1].value < 0);
  EXPECT_TRUE(std::isnan(samples[2].value));
  EXPECT_EQ(samples[3].value, 1500);
}

TEST(PrometheusText, RejectsMalformedLinesNamingTheLine) {
  for (const char* bad : {"m{a=\"1\" 2\n", "m{a=1} 2\n", "m{a=\"\\x\"} 1\n", "m notanumber\n",
                          "m 1 2 3\n", "{a=\"1\"} 1\n", "m{a=\"1\",a=\"2\"} 1\n"}) {
    try {
      parse_prometheus_text(std::string("ok 1\n") + bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
    }
  }
}

TEST(MetricsScrape, SumsSelectsAndMatchesAbsentLabelsAsEmpty) {
  auto scrape = MetricsScrape::parse(
      "bytes{process=\"curl\",destination=\"a\"} 10\n"
      "bytes{process=\"curl\",destination=\"b\"} 5\n"
      "bytes{process=\"wget\",destination=\"a\"} 7\n"
      "bytes 1\n"
      "other{process=\"curl\"} 100\n");
  EXPECT_EQ(scrape.sum("bytes"), 23);
  EXPECT_EQ(scrape.sum("bytes", {{"process", "curl"}}), 15);
  EXPECT_EQ(scrape.sum("bytes", {{"process", "curl"}, {"destination", "b"}}), 5);
  EXPECT_EQ(scrape.sum("bytes", {{"process", ""}}), 1);
  EXPECT_EQ(scrape.sum("bytes", {{"process", "nobody"}}), 0);
  EXPECT_EQ(scrape.select("bytes", {{"destination", "a"}}).size(), 2u);
  EXPECT_TRUE(scrape.has("other"));
  EXPECT_FALSE(scrape.has("missing"));
  EXPECT_EQ(scrape.label_values("bytes", "process"), (std::vector<std::string>{"curl", "wget"}));
}

TEST(MetricsScrape, TextListsTheMatchingSamplesOneALine) {
  auto scrape = MetricsScrape::parse(
      "bytes{process=\"curl\",destination=\"a\"} 10\n"
      "bytes{process=\"wget\",destination=\"a\"} 7\n"
      "other{process=\"curl\"} 100\n");
  EXPECT_EQ(scrape.text("bytes", {{"process", "curl"}}), "destination=a process=curl 10.000000\n");
  EXPECT_EQ(scrape.text("missing"), "");
}

}  // namespace
}  // namespace earshot::test::prometheus_text_test
