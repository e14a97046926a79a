#include "config/cidr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace earshot::config::cidr_test {
namespace {

struct Address {
  int family;
  std::array<std::uint8_t, 16> bytes{};
};

// Test addresses in the kernel's layout: 16 bytes, IPv4 in the first 4.
Address address(const std::string& text) {
  Address result{AF_INET};
  if (inet_pton(AF_INET, text.c_str(), result.bytes.data()) == 1) return result;
  result.family = AF_INET6;
  if (inet_pton(AF_INET6, text.c_str(), result.bytes.data()) == 1) return result;
  ADD_FAILURE() << "bad test address " << text;
  return result;
}

bool contains(const std::string& cidr, const std::string& text) {
  const Address addr = address(text);
  return parse_cidr(cidr).contains(addr.family, addr.bytes.data());
}

TEST(Cidr, ParsesV4AndV6) {
  const Cidr v4 = parse_cidr("192.168.0.0/16");
  EXPECT_EQ(v4.family, AF_INET);
  EXPECT_EQ(v4.prefix_length, 16);
  EXPECT_EQ(v4.address[0], 192);
  EXPECT_EQ(v4.address[1], 168);
  EXPECT_EQ(v4.to_string(), "192.168.0.0/16");

  const Cidr v6 = parse_cidr("fd00::/8");
  EXPECT_EQ(v6.family, AF_INET6);
  EXPECT_EQ(v6.prefix_length, 8);
  EXPECT_EQ(v6.address[0], 0xfd);
  EXPECT_EQ(v6.to_string(), "fd00::/8");
}

TEST(Cidr, BareAddressIsOneHost) {
  EXPECT_EQ(parse_cidr("10.1.2.3").prefix_length, 32);
  EXPECT_EQ(parse_cidr("2001:db8::1").prefix_length, 128);
}

TEST(Cidr, ZeroPrefixHoldsEveryAddressOfItsFamilyOnly) {
  EXPECT_TRUE(contains("0.0.0.0/0", "0.0.0.0"));
  EXPECT_TRUE(contains("0.0.0.0/0", "255.255.255.255"));
  EXPECT_FALSE(contains("0.0.0.0/0", "::"));
  EXPECT_TRUE(contains("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_TRUE(contains("::/0", "::"));
  EXPECT_FALSE(contains("::/0", "10.0.0.1"));
}

TEST(Cidr, FullPrefixHoldsOneAddress) {
  EXPECT_TRUE(contains("10.1.2.3/32", "10.1.2.3"));
  EXPECT_FALSE(contains("10.1.2.3/32", "10.1.2.2"));
  EXPECT_FALSE(contains("10.1.2.3/32", "10.1.2.4"));
  EXPECT_TRUE(contains("2001:db8::1/128", "2001:db8::1"));
  EXPECT_FALSE(contains("2001:db8::1/128", "2001:db8::"));
  EXPECT_FALSE(contains("2001:db8::1/128", "2001:db8::1:0:0:1"));
}

TEST(Cidr, NonAlignedV4Prefix) {
  EXPECT_TRUE(contains("172.16.0.0/12", "172.16.0.0"));
  EXPECT_TRUE(contains("172.16.0.0/12", "172.31.255.255"));
  EXPECT_FALSE(contains("172.16.0.0/12", "172.32.0.0"));
  EXPECT_FALSE(contains("172.16.0.0/12", "172.15.255.255"));
  EXPECT_TRUE(contains("10.0.0.128/25", "10.0.0.255"));
  EXPECT_FALSE(contains("10.0.0.128/25", "10.0.0.127"));
  EXPECT_TRUE(contains("10.0.0.6/31", "10.0.0.7"));
  EXPECT_FALSE(contains("10.0.0.6/31", "10.0.0.8"));
}

TEST(Cidr, NonAlignedV6Prefix) {
  EXPECT_TRUE(contains("fc00::/7", "fc00::1"));
  EXPECT_TRUE(contains("fc00::/7", "fdff:ffff::"));
  EXPECT_FALSE(contains("fc00::/7", "fe00::"));
  EXPECT_FALSE(contains("fc00::/7", "fbff::"));
  EXPECT_TRUE(contains("fe80::/10", "febf:ffff::1"));
  EXPECT_FALSE(contains("fe80::/10", "fec0::"));
  // A prefix ending inside the last byte.
  EXPECT_TRUE(contains("2001:db8::f0/124", "2001:db8::ff"));
  EXPECT_FALSE(contains("2001:db8::f0/124", "2001:db8::ef"));
}

TEST(Cidr, V4RangeNeverHoldsV6AddressWithTheSameBytes) {
  Address v6 = address("::");
  v6.bytes[0] = 10;  // 0a00:: shares its first byte with 10.0.0.0/8
  EXPECT_FALSE(parse_cidr("10.0.0.0/8").contains(AF_INET6, v6.bytes.data()));
}

TEST(Cidr, RejectsBadInput) {
  for (const char* text : {"", "lan", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1",
                           "10.0.0.0/8x", "10.0.0/8", "300.0.0.0/8", "/8"}) {
    EXPECT_THROW(parse_cidr(text), Error) << "'" << text << "'";
  }
}

TEST(Cidr, HostBitsSetSuggestTheRange) {
  try {
    parse_cidr("192.168.1.1/16");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "bad CIDR '192.168.1.1/16' (host bits are set; did you mean 192.168.0.0/16?)");
  }
  EXPECT_THROW(parse_cidr("fe80::1/10"), Error);
}

}  // namespace
}  // namespace earshot::config::cidr_test
