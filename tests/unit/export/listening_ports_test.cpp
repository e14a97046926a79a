#include "export/listening_ports.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace earshot::exporter::listening_ports_test {
namespace {

TEST(ListeningPortsTest, EveryInterfaceIsPlusPort) {
  EXPECT_EQ(civetweb_listening_ports("", 9737, false), "+9737");
  EXPECT_EQ(shown_address("", 9737), "0.0.0.0:9737");
}

TEST(ListeningPortsTest, Ipv4LiteralIsHostColonPort) {
  EXPECT_EQ(civetweb_listening_ports("127.0.0.1", 0, false), "127.0.0.1:0");
  EXPECT_EQ(shown_address("127.0.0.1", 40919), "127.0.0.1:40919");
}

TEST(ListeningPortsTest, Ipv6LiteralNeedsCivetwebWithIpv6) {
  EXPECT_EQ(civetweb_listening_ports("::1", 9737, true), "[::1]:9737");
  EXPECT_EQ(shown_address("::1", 9737), "[::1]:9737");
  try {
    civetweb_listening_ports("::1", 9737, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[::1]:9737"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no IPv6"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace earshot::exporter::listening_ports_test
