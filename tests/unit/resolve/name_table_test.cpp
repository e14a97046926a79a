#include "resolve/name_table.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "dns_message.h"

namespace earshot::resolve::name_table_test {
namespace {

using testing::DnsMessage;

constexpr std::uint64_t kSecond = 1'000'000'000;

IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress address;
  address.family = kFamilyIpv4;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

DnsResponse response_a(std::string_view name, std::uint32_t ttl, std::uint8_t last_octet) {
  DnsMessage m(1, 1);
  m.question(name);
  m.pointer(12).record(1, ttl, {192, 0, 2, last_octet});
  return parse_dns_response(m.bytes());
}

TEST(NameTable, NamesAnAddressUntilItsTtlRunsOut) {
  NameTable table;
  EXPECT_EQ(table.learn(response_a("api.example.com", 30, 5), 100 * kSecond), 1u);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 5), 100 * kSecond), "api.example.com");
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 5), 129 * kSecond), "api.example.com");
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 5), 130 * kSecond), std::nullopt);
  EXPECT_EQ(table.size(), 0u) << "the expired entry is dropped when met";
}

TEST(NameTable, UnknownAddressAndOtherFamilyAreNotNamed) {
  NameTable table;
  table.learn(response_a("api.example.com", 30, 5), 0);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 6), 0), std::nullopt);
  IpAddress v6 = ipv4(192, 0, 2, 5);
  v6.family = kFamilyIpv6;
  EXPECT_EQ(table.lookup(v6, 0), std::nullopt);
}

TEST(NameTable, AaaaAnswerNamesAnIpv6Address) {
  DnsMessage m(1, 1);
  m.question("v6.example", 28);
  m.pointer(12).record(28, 60, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  NameTable table;
  table.learn(parse_dns_response(m.bytes()), 0);
  IpAddress address;
  address.family = kFamilyIpv6;
  address.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(table.lookup(address, 0), "v6.example");
}

TEST(NameTable, CnameChainGivesTheQuestionNameWithTheShortestTtl) {
  DnsMessage m(1, 3);
  m.question("voice.vendor.example");
  m.cname("voice.vendor.example", 300, "voice.edge.cdn.example");
  m.cname("voice.edge.cdn.example", 40, "node7.cdn.example");
  m.a("node7.cdn.example", 120, {198, 51, 100, 7});
  NameTable table;
  EXPECT_EQ(table.learn(parse_dns_response(m.bytes()), 0), 1u);
  EXPECT_EQ(table.lookup(ipv4(198, 51, 100, 7), 39 * kSecond), "voice.vendor.example");
  EXPECT_EQ(table.lookup(ipv4(198, 51, 100, 7), 40 * kSecond), std::nullopt)
      << "the chain breaks when its 40 s link expires";
}

TEST(NameTable, CnameLoopEndsTheWalk) {
  DnsMessage m(1, 3);
  m.question("asked.example");
  m.cname("a.example", 60, "b.example");
  m.cname("b.example", 60, "a.example");
  m.a("a.example", 60, {192, 0, 2, 9});
  NameTable table;
  table.learn(parse_dns_response(m.bytes()), 0);
  auto name = table.lookup(ipv4(192, 0, 2, 9), 0);
  ASSERT_TRUE(name.has_value());
  EXPECT_TRUE(*name == "a.example" || *name == "b.example") << *name;
}

TEST(NameTable, ErrorResponsesAndZeroTtlTeachNothing) {
  DnsMessage nx(1, 1, 0x8183);
  nx.question("gone.example");
  nx.pointer(12).record(1, 60, {192, 0, 2, 1});
  NameTable table;
  EXPECT_EQ(table.learn(parse_dns_response(nx.bytes()), 0), 0u);
  EXPECT_EQ(table.learn(response_a("zero.example", 0, 2), 0), 0u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(NameTable, TtlIsClampedToTheConfiguredRange) {
  NameTable table({.capacity = 16, .min_ttl_seconds = 10, .max_ttl_seconds = 100});
  table.learn(response_a("short.example", 1, 1), 0);
  table.learn(response_a("long.example", 100000, 2), 0);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 1), 9 * kSecond), "short.example");
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 2), 99 * kSecond), "long.example");
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 2), 100 * kSecond), std::nullopt);
}

TEST(NameTable, NewerAnswerRenamesAnAddress) {
  NameTable table;
  table.learn(response_a("old.example", 60, 1), 0);
  table.learn(response_a("new.example", 60, 1), kSecond);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 1), 2 * kSecond), "new.example");
  EXPECT_EQ(table.size(), 1u);
}

TEST(NameTable, FullTableEvictsTheEntryLearntLongestAgo) {
  NameTable table({.capacity = 2});
  table.learn(response_a("one.example", 60, 1), 0);
  table.learn(response_a("two.example", 60, 2), 0);
  table.learn(response_a("one.example", 60, 1), kSecond);  // relearnt: now the newest
  table.learn(response_a("three.example", 60, 3), 2 * kSecond);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.evictions(), 1u);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 2), 3 * kSecond), std::nullopt);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 1), 3 * kSecond), "one.example");
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 3), 3 * kSecond), "three.example");
}

TEST(NameTable, ExpireDropsOnlyExpiredEntries) {
  NameTable table;
  table.learn(response_a("brief.example", 5, 1), 0);
  table.learn(response_a("lasting.example", 500, 2), 0);
  table.expire(10 * kSecond);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.lookup(ipv4(192, 0, 2, 2), 10 * kSecond), "lasting.example");
}

TEST(NameTable, RejectsImpossibleConfig) {
  EXPECT_THROW(NameTable({.capacity = 0}), Error);
  EXPECT_THROW(NameTable({.capacity = 1, .min_ttl_seconds = 10, .max_ttl_seconds = 5}), Error);
}

}  // namespace
}  // namespace earshot::resolve::name_table_test
