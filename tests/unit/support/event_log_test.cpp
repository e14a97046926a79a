#include "event_log.h"

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace earshot::test::event_log_test {
namespace {

TEST(EventLog, ReadsCompleteJsonLinesOnly) {
  TempDir dir;
  const std::string path = dir.write_file("events.jsonl",
                                          "{\"event\":\"capture_open\",\"process\":\"arecord\"}\n"
                                          "not json\n"
                                          "[1,2]\n"
                                          "{\"event\":\"session\",\"process\":\"assistant\"}\n"
                                          "{\"event\":\"alert\",\"proc");  // still being written
  const auto lines = read_event_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], "capture_open");
  EXPECT_EQ(lines[1]["process"], "assistant");
  EXPECT_TRUE(read_event_lines(dir.file("absent.jsonl")).empty());
}

TEST(EventLog, SelectsByKindAndProcess) {
  const std::vector<nlohmann::json> lines = {
      {{"event", "session"}, {"process", "assistant"}},
      {{"event", "alert"}, {"process", "relay"}},
      {{"event", "session"}, {"process", "relay"}},
  };
  EXPECT_EQ(select_events(lines, "session").size(), 2u);
  const auto relay = select_events(lines, "session", "relay");
  ASSERT_EQ(relay.size(), 1u);
  EXPECT_EQ(relay[0], lines[2]);
  EXPECT_TRUE(select_events(lines, "capture_open").empty());
}

TEST(EventLog, FindsSessionDestinationsAndOthers) {
  const nlohmann::json session = nlohmann::json::parse(R"({
    "event": "session",
    "destinations": [
      {"destination": "voice.example", "others": [{"process": "relay-b", "bytes": 20000}]},
      {"destination": "telemetry.example", "others": []}
    ]})");
  const nlohmann::json* voice = find_destination(session, "voice.example");
  ASSERT_NE(voice, nullptr);
  const nlohmann::json* other = find_other(*voice, "relay-b");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ((*other)["bytes"], 20000);
  EXPECT_EQ(find_other(*voice, "chatty"), nullptr);
  EXPECT_EQ(find_destination(session, "nowhere.example"), nullptr);
  EXPECT_EQ(find_destination(nlohmann::json::object(), "voice.example"), nullptr);
}

}  // namespace
}  // namespace earshot::test::event_log_test
