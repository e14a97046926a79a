#include "resolve/destination_names.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "config/cidr.h"

namespace earshot::resolve::destination_names_test {
namespace {

IpAddress v4(const char* text) {
  IpAddress a;
  a.family = kFamilyIpv4;
  inet_pton(AF_INET, text, a.bytes.data());
  return a;
}

IpAddress v6(const char* text) {
  IpAddress a;
  a.family = kFamilyIpv6;
  inet_pton(AF_INET6, text, a.bytes.data());
  return a;
}

TEST(DestinationNamer, CidrNameElseTheAddress) {
  DestinationNamer namer({{config::parse_cidr("192.168.0.0/16"), "lan"}});
  EXPECT_EQ(namer.name(v4("192.168.4.20"), nullptr, 0), "lan");
  EXPECT_EQ(namer.name(v4("8.8.8.8"), nullptr, 0), "8.8.8.8");
  EXPECT_EQ(namer.name(v6("2001:db8::1"), nullptr, 0), "2001:db8::1");
}

TEST(DestinationNamer, FirstMatchingRangeWins) {
  DestinationNamer namer(
      {{config::parse_cidr("10.1.0.0/16"), "office"}, {config::parse_cidr("10.0.0.0/8"), "lan"}});
  EXPECT_EQ(namer.name(v4("10.1.2.3"), nullptr, 0), "office");
  EXPECT_EQ(namer.name(v4("10.2.2.3"), nullptr, 0), "lan");
}

TEST(DestinationNamer, ADnsAnswerBeatsTheRangeUntilItExpires) {
  DestinationNamer namer({{config::parse_cidr("10.0.0.0/8"), "lan"}});
  NameTable dns;
  DnsResponse answer;
  answer.questions.push_back("speaker-cloud.example");
  DnsAnswer a;
  a.name = "speaker-cloud.example";
  a.type = DnsRecordType::a;
  a.ttl = 60;
  inet_pton(AF_INET, "10.9.9.9", a.address.data());
  answer.answers.push_back(a);
  ASSERT_EQ(dns.learn(answer, 0), 1u);
  EXPECT_EQ(namer.name(v4("10.9.9.9"), &dns, 1'000'000'000), "speaker-cloud.example");
  EXPECT_EQ(namer.name(v4("10.9.9.9"), &dns, 61'000'000'000), "lan");
}

}  // namespace
}  // namespace earshot::resolve::destination_names_test
