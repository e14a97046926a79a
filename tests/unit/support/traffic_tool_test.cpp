// The traffic tool over loopback, without privileges: what the kernel tests
// rely on (exact byte counts, dual-stack sinks, ready lines) is checked here.
#include <gtest/gtest.h>

#include "process.h"
#include "temp_dir.h"

namespace earshot::test::traffic_tool_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTool = EARSHOT_TRAFFIC_BINARY;

class TrafficToolTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TrafficToolTest, TcpSendsExactlyTheBytesAsked) {
  // Port 0 is not allowed for a sink; pick one from the pid to avoid
  // collisions between parallel test processes.
  std::string port = std::to_string(20000 + ::getpid() % 20000);
  ChildProcess sink({kTool, "tcp-sink", port, "--timeout-ms", "10000"});
  ASSERT_TRUE(sink.wait_for_output("ready", 5s)) << sink.stderr_text();
  ChildProcess sender({kTool, "tcp-send", GetParam(), port, "1048576"});
  EXPECT_EQ(sender.wait(10s), 0) << sender.stderr_text();
  EXPECT_EQ(sink.wait(10s), 0) << sink.stderr_text();
  EXPECT_EQ(sender.stdout_text().rfind("ready\nsent_bytes=1048576 retransmitted_bytes=", 0), 0u)
      << sender.stdout_text();
  EXPECT_EQ(sink.stdout_text(), "ready\nreceived_bytes=1048576\n");
}

TEST_P(TrafficToolTest, UdpSendsCountDatagramsOfSize) {
  std::string port = std::to_string(20000 + ::getpid() % 20000);
  ChildProcess sink({kTool, "udp-sink", port, "100", "--timeout-ms", "10000"});
  ASSERT_TRUE(sink.wait_for_output("ready", 5s)) << sink.stderr_text();
  ChildProcess sender({kTool, "udp-send", GetParam(), port, "100", "1024"});
  EXPECT_EQ(sender.wait(10s), 0) << sender.stderr_text();
  EXPECT_EQ(sink.wait(10s), 0) << sink.stderr_text();
  EXPECT_NE(sender.stdout_text().find("sent_datagrams=100 sent_bytes=102400"), std::string::npos);
  EXPECT_NE(sink.stdout_text().find("received_datagrams=100 received_bytes=102400"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Loopback, TrafficToolTest, ::testing::Values("127.0.0.1", "::1"));

TEST(TrafficTool, UdpSinkExitsTwoWhenDatagramsAreMissing) {
  std::string port = std::to_string(20000 + ::getpid() % 20000);
  ChildProcess sink({kTool, "udp-sink", port, "1", "--timeout-ms", "100"});
  EXPECT_EQ(sink.wait(5s), 2);
  EXPECT_NE(sink.stdout_text().find("received_datagrams=0"), std::string::npos);
}

TEST(TrafficTool, OpenDeviceWaitsForTheGoFileThenReadsAtTheRate) {
  TempDir dir;
  std::string go = dir.file("go");
  ChildProcess opener(
      {kTool, "open-device", "/dev/zero", "0.5", "--read", "10000", "--wait-file", go});
  ASSERT_TRUE(opener.wait_for_output("ready", 5s));
  EXPECT_FALSE(opener.wait_for_output("opened", 100ms)) << "opened before the go file existed";
  dir.write_file("go", "");
  ASSERT_TRUE(opener.wait_for_output("opened", 5s));
  EXPECT_EQ(opener.wait(5s), 0) << opener.stderr_text();
  // Five slices of 1000 bytes in half a second.
  EXPECT_NE(opener.stdout_text().find("closed read_bytes=5000"), std::string::npos)
      << opener.stdout_text();
}

TEST(TrafficTool, FailsOnBadArguments) {
  EXPECT_NE(ChildProcess({kTool, "tcp-send", "not-an-address", "1", "1"}).wait(5s), 0);
  EXPECT_NE(ChildProcess({kTool, "open-device", "/nonexistent/dev", "1"}).wait(5s), 0);
  EXPECT_NE(ChildProcess({kTool, "no-such-subcommand"}).wait(5s), 0);
}

}  // namespace
}  // namespace earshot::test::traffic_tool_test
