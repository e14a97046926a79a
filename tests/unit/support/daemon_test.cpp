#include "daemon.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace earshot::test::daemon_test {
namespace {

TEST(ListeningLine, FindsTheAddressInTheJsonLogLine) {
  EXPECT_EQ(
      parse_listening_address(
          R"({"ts":"2026-01-01T00:00:00Z","level":"info","msg":"listening","address":"127.0.0.1:40123"})"),
      "127.0.0.1:40123");
  EXPECT_EQ(parse_listening_address(R"({"msg":"starting","address":"127.0.0.1:1"})"), std::nullopt);
  EXPECT_EQ(parse_listening_address(R"({"msg":"listening"})"), std::nullopt);
  EXPECT_EQ(parse_listening_address("level=info msg=listening address=127.0.0.1:1"), std::nullopt);
  EXPECT_EQ(parse_listening_address(R"({"msg":"listening","address":9737})"), std::nullopt);
}

TEST(ListeningLine, TakesThePortOfV4AndV6Addresses) {
  EXPECT_EQ(port_of_address("127.0.0.1:9737"), 9737);
  EXPECT_EQ(port_of_address("[::1]:80"), 80);
  EXPECT_THROW(port_of_address("127.0.0.1"), Error);
  EXPECT_THROW(port_of_address("127.0.0.1:0"), Error);
  EXPECT_THROW(port_of_address("127.0.0.1:70000"), Error);
}

DaemonOptions fake(std::string config) {
  return {.binary = EARSHOT_FAKE_DAEMON_BINARY, .config_yaml = std::move(config)};
}

TEST(DaemonProcess, LearnsThePortScrapesAndStops) {
  DaemonProcess daemon(fake("earshot_build_info{version=\"x\"} 1\n"));
  EXPECT_GT(daemon.port(), 0);
  EXPECT_EQ(daemon.address(), "127.0.0.1:" + std::to_string(daemon.port()));
  EXPECT_EQ(daemon.scrape().sum("earshot_build_info", {{"version", "x"}}), 1);
  EXPECT_TRUE(
      daemon.wait_for([](const MetricsScrape& m) { return m.sum("fake_scrapes_total") >= 3; },
                      std::chrono::seconds(5), std::chrono::milliseconds(10)));
  EXPECT_GE(daemon.last_scrape().sum("fake_scrapes_total"), 3);
  EXPECT_FALSE(daemon.wait_for([](const MetricsScrape& m) { return m.has("never"); },
                               std::chrono::milliseconds(200), std::chrono::milliseconds(20)));
  EXPECT_EQ(daemon.get("/nope").status, 404);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  EXPECT_NE(daemon.log().find("\"msg\":\"stopping\""), std::string::npos) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(DaemonProcess, ReportsTheLogWhenTheDaemonExitsBeforeListening) {
  try {
    DaemonProcess daemon(fake("exit_before_listening: true\n"));
    ADD_FAILURE() << "started";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("exited with 3"), std::string::npos) << message;
    EXPECT_NE(message.find("told to fail"), std::string::npos) << message;
  }
}

TEST(DaemonProcess, GivesUpOnADaemonThatNeverListens) {
  DaemonOptions options = fake("never_listen: true\n");
  options.start_timeout = std::chrono::milliseconds(300);
  try {
    DaemonProcess daemon(options);
    ADD_FAILURE() << "started";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no \"listening\" line"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace earshot::test::daemon_test
