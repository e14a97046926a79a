#include "config/listen_address.h"

#include <gtest/gtest.h>

#include <string>

#include "common/error.h"

namespace earshot::config::listen_address_test {
namespace {

std::string listen_error_of(const std::string& text) {
  try {
    parse_listen_address(text);
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for '" << text << "'";
  return "";
}

TEST(ListenAddress, V4) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:9737"), (ListenAddress{"127.0.0.1", 9737}));
  EXPECT_EQ(parse_listen_address("0.0.0.0:65535"), (ListenAddress{"0.0.0.0", 65535}));
}

TEST(ListenAddress, BracketedV6) {
  EXPECT_EQ(parse_listen_address("[::1]:9737"), (ListenAddress{"::1", 9737}));
  EXPECT_EQ(parse_listen_address("[::]:80"), (ListenAddress{"::", 80}));
  EXPECT_EQ(parse_listen_address("[fe80::1]:1").to_string(), "[fe80::1]:1");
}

TEST(ListenAddress, PortOnlyMeansEveryInterface) {
  EXPECT_EQ(parse_listen_address(":9737"), (ListenAddress{"", 9737}));
  EXPECT_EQ(parse_listen_address(":0"), (ListenAddress{"", 0}));
}

TEST(ListenAddress, HostName) {
  EXPECT_EQ(parse_listen_address("localhost:8080"), (ListenAddress{"localhost", 8080}));
}

TEST(ListenAddress, PrintsBackTheSameText) {
  for (const char* text : {"127.0.0.1:9737", "[::1]:9737", ":0", "localhost:1"}) {
    EXPECT_EQ(parse_listen_address(text).to_string(), text);
  }
}

TEST(ListenAddress, PortOutOfRange) {
  EXPECT_EQ(listen_error_of("127.0.0.1:99999"), "bad address '127.0.0.1:99999' (port must be 0-65535)");
  EXPECT_EQ(listen_error_of("[::1]:65536"), "bad address '[::1]:65536' (port must be 0-65535)");
  EXPECT_EQ(listen_error_of(":99999999999999999999999"),
            "bad address ':99999999999999999999999' (port must be 0-65535)");
}

TEST(ListenAddress, MissingPort) {
  EXPECT_EQ(listen_error_of("127.0.0.1"), "bad address '127.0.0.1' (missing port, expected host:port)");
  EXPECT_EQ(listen_error_of("127.0.0.1:"), "bad address '127.0.0.1:' (missing port, expected host:port)");
  EXPECT_EQ(listen_error_of("[::1]"), "bad address '[::1]' (missing port, expected [v6]:port)");
  EXPECT_EQ(listen_error_of(""), "bad address '' (missing port, expected host:port)");
}

TEST(ListenAddress, OtherMistakes) {
  EXPECT_EQ(listen_error_of("::1:9737"),
            "bad address '::1:9737' (an IPv6 address needs brackets, as in [::1]:9737)");
  EXPECT_EQ(listen_error_of("127.0.0.1:http"),
            "bad address '127.0.0.1:http' (port must be a number 0-65535)");
  EXPECT_EQ(listen_error_of("127.0.0.1:-1"), "bad address '127.0.0.1:-1' (port must be a number 0-65535)");
  EXPECT_EQ(listen_error_of("300.0.0.1:80"),
            "bad address '300.0.0.1:80' ('300.0.0.1' is not an IPv4 address)");
  EXPECT_EQ(listen_error_of("[nope]:80"), "bad address '[nope]:80' ('nope' is not an IPv6 address)");
  EXPECT_EQ(listen_error_of("[::1:80"), "bad address '[::1:80' (missing ']' after IPv6 address)");
  EXPECT_EQ(listen_error_of("local host:80"),
            "bad address 'local host:80' ('local host' is not a host name or address)");
}

}  // namespace
}  // namespace earshot::config::listen_address_test
