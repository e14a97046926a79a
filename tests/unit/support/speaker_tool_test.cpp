// earshot-speaker over loopback, without privileges: every action over every
// protocol and family comes out with its line and the bytes it should, and
// scrape reads a server's replies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "process.h"
#include "speaker/wire.h"
#include "temp_dir.h"

namespace earshot::test::speaker_tool_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSpeaker = EARSHOT_SPEAKER_BINARY;
constexpr const char* kFakeDaemon = EARSHOT_FAKE_DAEMON_BINARY;

// The value of key= in the output line starting with `line`; -1 when missing.
double value_in(const std::string& out, const std::string& line, const std::string& key) {
  auto at = out.find(line + " ");
  if (at == std::string::npos) return -1;
  auto end = out.find('\n', at);
  auto text = out.substr(at, end - at);
  auto k = text.find(" " + key + "=");
  return k == std::string::npos ? -1 : std::strtod(text.c_str() + k + key.size() + 2, nullptr);
}

struct Transport {
  const char* proto;
  const char* address;
  int port_offset;
};

class SpeakerToolTest : public ::testing::TestWithParam<Transport> {};

TEST_P(SpeakerToolTest, EveryActionEndsWithItsLineAndBytes) {
  const Transport t = GetParam();
  const std::string port = std::to_string(20000 + (::getpid() + t.port_offset) % 20000);
  ChildProcess peer({kSpeaker, "peer", port, "--proto", t.proto});
  ASSERT_TRUE(peer.wait_for_output("ready", 5s)) << peer.stderr_text();
  ChildProcess speaker({kSpeaker,         "listen",
                        "--peer",         t.address,
                        "--port",         port,
                        "--proto",        t.proto,
                        "--seconds",      "3",
                        "--keepalive-ms", "700",
                        "--upload",       "0:1:4000",
                        "--download",     "0:1:100000",
                        "--voice",        "0:2.5:4000",
                        "--video-upload", "0.5:2:50000",
                        "--segments",     "0:2.5:100000",
                        "--music",        "0.5:2:20000",
                        "--seed",         "4"});
  ASSERT_EQ(speaker.wait(20s), 0) << speaker.stderr_text();
  const std::string out = speaker.stdout_text();
  SCOPED_TRACE(out);
  EXPECT_EQ(out.rfind("ready\nopened\n", 0), 0u);
  EXPECT_EQ(value_in(out, "upload", "bytes"), 4000);
  EXPECT_GE(value_in(out, "download", "end_ms"), 1000);
  EXPECT_NEAR(value_in(out, "voice", "bytes"), 4000 * 2.5, 4000 * 2.5 * 0.2);
  EXPECT_NEAR(value_in(out, "voice", "end_ms") - value_in(out, "voice", "begin_ms"), 2500, 100);
  EXPECT_NEAR(value_in(out, "video-upload", "bytes"), 100000, 100);
  EXPECT_EQ(value_in(out, "music", "received"), 40000);
  // One request in 2.5 s of 2-4 s segments; its reply is the rate times its period.
  EXPECT_EQ(value_in(out, "segments", "requests"), 1);
  EXPECT_GE(value_in(out, "segments", "received"), 200000);
  EXPECT_LE(value_in(out, "segments", "received"), 400000);
  EXPECT_GT(value_in(out, "closed", "sent_bytes"), 4000 + 10000 + 100000);
}

INSTANTIATE_TEST_SUITE_P(Loopback, SpeakerToolTest,
                         ::testing::Values(Transport{"tcp", "127.0.0.1", 0},
                                           Transport{"udp", "::1", 1},
                                           Transport{"quic", "127.0.0.1", 2},
                                           Transport{"quic", "::1", 3}),
                         [](const auto& info) {
                           return std::string(info.param.proto) +
                                  (std::string(info.param.address) == "::1" ? "_ipv6" : "_ipv4");
                         });

TEST(SpeakerTool, UploadsAndKeepAlivesAsBefore) {
  const std::string port = std::to_string(20000 + (::getpid() + 7) % 20000);
  ChildProcess peer({kSpeaker, "peer", port, "--proto", "tcp"});
  ASSERT_TRUE(peer.wait_for_output("ready", 5s)) << peer.stderr_text();
  ChildProcess speaker({kSpeaker, "listen", "--peer", "127.0.0.1", "--port", port, "--seconds",
                        "1.2", "--keepalive-ms", "500", "--keepalive-size", "40", "--upload",
                        "0:1:8000"});
  ASSERT_EQ(speaker.wait(10s), 0) << speaker.stderr_text();
  // Two keep-alives of 35 bytes of body, the upload's 8000.
  EXPECT_NE(speaker.stdout_text().find("closed read_bytes=0 sent_bytes=8070\n"), std::string::npos)
      << speaker.stdout_text();
}

TEST(SpeakerTool, ScrapesAChunkedServerThatCloses) {
  TempDir dir;
  dir.write_file("config.yaml", "up 1\n");
  ChildProcess daemon({kFakeDaemon, "--config.file", dir.file("config.yaml")});
  ASSERT_TRUE(daemon.wait_for_output("listening", 5s, Stream::err)) << daemon.stderr_text();
  const std::string log = daemon.stderr_text();
  const auto at = log.find("127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string port = std::to_string(std::atoi(log.c_str() + at + 10));
  ChildProcess scraper({kSpeaker, "scrape", "--url", "http://127.0.0.1:" + port + "/metrics",
                        "--every-ms", "200", "--seconds", "1"});
  ASSERT_EQ(scraper.wait(5s), 0) << scraper.stderr_text();
  const std::string out = scraper.stdout_text();
  EXPECT_EQ(value_in(out, "scrapes=5", "failed"), 0) << out;
  // "up 1\nfake_scrapes_total N\n", 26 bytes for N < 10.
  EXPECT_EQ(value_in(out, "scrapes=5", "bytes"), 5 * 26) << out;
}

TEST(SpeakerTool, ScrapeStopsOnTimeWhenNothingAnswers) {
  ChildProcess scraper({kSpeaker, "scrape", "--url", "http://127.0.0.1:1/metrics", "--every-ms",
                        "300", "--seconds", "0.7"});
  ASSERT_EQ(scraper.wait(5s), 0) << scraper.stderr_text();
  EXPECT_NE(scraper.stdout_text().find("scrapes=3 failed=3 bytes=0"), std::string::npos)
      << scraper.stdout_text();
}

}  // namespace
}  // namespace earshot::test::speaker_tool_test
