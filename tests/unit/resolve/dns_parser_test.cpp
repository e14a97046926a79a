#include "resolve/dns_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "dns_message.h"

namespace earshot::resolve::dns_parser_test {
namespace {

using testing::DnsMessage;

constexpr std::uint16_t kQuestionOffset = 12;  // the question name follows the header

DnsResponse parse(const DnsMessage& message) {
  return parse_dns_response(message.bytes());
}

TEST(DnsParser, ARecordWithCompressedOwner) {
  DnsMessage m(1, 1);
  m.question("Example.COM");
  m.pointer(kQuestionOffset).record(1, 300, {192, 0, 2, 7});
  auto response = parse(m);
  ASSERT_EQ(response.questions.size(), 1u);
  EXPECT_EQ(response.questions[0], "example.com");
  ASSERT_EQ(response.answers.size(), 1u);
  const auto& answer = response.answers[0];
  EXPECT_EQ(answer.name, "example.com");
  EXPECT_EQ(answer.type, DnsRecordType::a);
  EXPECT_EQ(answer.ttl, 300u);
  EXPECT_EQ(answer.address[0], 192);
  EXPECT_EQ(answer.address[3], 7);
  EXPECT_EQ(answer.address[4], 0);
  EXPECT_EQ(response.id, 0x1234);
  EXPECT_EQ(response.rcode, 0);
}

TEST(DnsParser, AaaaRecord) {
  DnsMessage m(1, 1);
  m.question("v6.example", 28);
  m.pointer(kQuestionOffset)
      .record(28, 60, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42});
  auto response = parse(m);
  ASSERT_EQ(response.answers.size(), 1u);
  EXPECT_EQ(response.answers[0].type, DnsRecordType::aaaa);
  EXPECT_EQ(response.answers[0].address[0], 0x20);
  EXPECT_EQ(response.answers[0].address[15], 0x42);
}

TEST(DnsParser, CnameChainWithCompressedTarget) {
  DnsMessage m(1, 3);
  m.question("www.example.com");
  // www.example.com CNAME web.example.com: target "web" + pointer to "example.com".
  m.pointer(kQuestionOffset)
      .u16(5)
      .u16(1)
      .u32(120)
      .u16(6)
      .labels("web")
      .pointer(kQuestionOffset + 4);
  std::uint16_t web_offset = static_cast<std::uint16_t>(m.size() - 6);
  m.pointer(web_offset).u16(5).u16(1).u32(60).u16(14).name("edge.cdn.net");
  m.a("edge.cdn.net", 20, {203, 0, 113, 9});
  auto response = parse(m);
  ASSERT_EQ(response.answers.size(), 3u);
  EXPECT_EQ(response.answers[0].type, DnsRecordType::cname);
  EXPECT_EQ(response.answers[0].name, "www.example.com");
  EXPECT_EQ(response.answers[0].target, "web.example.com");
  EXPECT_EQ(response.answers[1].name, "web.example.com");
  EXPECT_EQ(response.answers[1].target, "edge.cdn.net");
  EXPECT_EQ(response.answers[2].name, "edge.cdn.net");
  EXPECT_EQ(response.answers[2].ttl, 20u);
}

TEST(DnsParser, EveryTruncationKeepsOnlyWholeRecords) {
  DnsMessage m(1, 2);
  m.question("example.com");
  m.pointer(kQuestionOffset).record(1, 300, {192, 0, 2, 1});
  std::size_t first_end = m.size();
  m.pointer(kQuestionOffset).record(1, 300, {192, 0, 2, 2});
  for (std::size_t length = 0; length <= m.size(); ++length) {
    std::span<const std::uint8_t> prefix(m.bytes().data(), length);
    auto response = parse_dns_response(prefix);
    std::size_t expected = length == m.size() ? 2 : length >= first_end ? 1 : 0;
    EXPECT_EQ(response.answers.size(), expected) << "prefix of " << length << " bytes";
  }
}

TEST(DnsParser, PointerToItselfIsRejected) {
  DnsMessage m(1, 1);
  m.question("example.com");
  std::uint16_t here = static_cast<std::uint16_t>(m.size());
  m.pointer(here).record(1, 300, {192, 0, 2, 1});
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, ForwardPointerIsRejected) {
  DnsMessage m(1, 2);
  m.question("example.com");
  std::uint16_t second_owner = static_cast<std::uint16_t>(m.size() + 2 + 14);
  m.pointer(second_owner).record(1, 300, {192, 0, 2, 1});
  ASSERT_EQ(m.size(), second_owner);
  m.name("later.example").record(1, 300, {192, 0, 2, 2});
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, LabelsRunningBackOntoTheirOwnPointerAreRejected) {
  // Owner: label "a" at offset X, then a pointer back to X: each jump lands on
  // labels that lead to the same pointer again, an endless name.
  DnsMessage m(1, 1);
  m.question("example.com");
  std::uint16_t start = static_cast<std::uint16_t>(m.size());
  m.labels("a").pointer(start).record(1, 300, {192, 0, 2, 1});
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, MutualPointersAreRejected) {
  DnsMessage m(0, 2);
  std::uint16_t first = static_cast<std::uint16_t>(m.size());
  m.pointer(first + 2);  // points forward to the second pointer
  m.pointer(first);
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, ReservedLabelTypeIsRejected) {
  DnsMessage m(1, 1);
  m.question("example.com");
  m.u8(0x41).u8('x').u8(0).record(1, 300, {192, 0, 2, 1});
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, NameLongerThan255BytesIsRejected) {
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, static_cast<char>('a' + i)) + ".";
  long_name += "com";  // 5 * 61 + 4 + 1 = 310 bytes on the wire
  DnsMessage m(0, 1);
  m.a(long_name, 300, {192, 0, 2, 1});
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, QueryGivesNothing) {
  DnsMessage m(1, 1, 0x0100);
  m.question("example.com");
  m.pointer(kQuestionOffset).record(1, 300, {192, 0, 2, 1});
  auto response = parse(m);
  EXPECT_TRUE(response.questions.empty());
  EXPECT_TRUE(response.answers.empty());
}

TEST(DnsParser, TooManyQuestionsGivesNothing) {
  DnsMessage m(kDnsMaxQuestions + 1, 0);
  for (std::size_t i = 0; i <= kDnsMaxQuestions; ++i) m.question("example.com");
  EXPECT_TRUE(parse(m).questions.empty());
}

TEST(DnsParser, AnswerCountAboveWhatIsThereKeepsWhatIsThere) {
  DnsMessage m(1, 0xFFFF);
  m.question("example.com");
  m.pointer(kQuestionOffset).record(1, 300, {192, 0, 2, 1});
  EXPECT_EQ(parse(m).answers.size(), 1u);
}

TEST(DnsParser, AnswerCountIsCapped) {
  DnsMessage m(0, kDnsMaxAnswers + 10);
  for (std::size_t i = 0; i < kDnsMaxAnswers + 10; ++i) m.a("x.example", 300, {192, 0, 2, 1});
  EXPECT_EQ(parse(m).answers.size(), kDnsMaxAnswers);
}

TEST(DnsParser, UnprintableOrWrongSizedRecordsAreSkippedNotFatal) {
  DnsMessage m(0, 4);
  m.a(std::string("bad\x01name", 8), 300, {192, 0, 2, 1});
  m.name("short.example").record(1, 300, {192, 0, 2});
  m.name("mx.example").record(15, 300, {0, 10, 0});
  m.a("good.example", 300, {192, 0, 2, 4});
  auto response = parse(m);
  ASSERT_EQ(response.answers.size(), 1u);
  EXPECT_EQ(response.answers[0].name, "good.example");
}

TEST(DnsParser, CnameTargetMustFillItsRdata) {
  DnsMessage m(0, 1);
  m.name("alias.example").u16(5).u16(1).u32(60).u16(20).name("target.example");
  for (int i = 0; i < 5; ++i) m.u8(0);  // rdlength claims 5 bytes past the name
  EXPECT_TRUE(parse(m).answers.empty());
}

TEST(DnsParser, TtlWithTopBitSetCountsAsZero) {
  DnsMessage m(0, 1);
  m.a("x.example", 0x80000001u, {192, 0, 2, 1});
  auto response = parse(m);
  ASSERT_EQ(response.answers.size(), 1u);
  EXPECT_EQ(response.answers[0].ttl, 0u);
}

TEST(DnsParser, FlagsAreReported) {
  DnsMessage m(0, 0, 0x8383);  // response, TC, NXDOMAIN
  auto response = parse(m);
  EXPECT_TRUE(response.truncated);
  EXPECT_EQ(response.rcode, 3);
}

TEST(DnsParser, ShortHeaderGivesNothing) {
  std::vector<std::uint8_t> bytes{0x12, 0x34, 0x81, 0x80, 0, 1};
  auto response = parse_dns_response(bytes);
  EXPECT_EQ(response.id, 0);
  EXPECT_TRUE(response.answers.empty());
}

}  // namespace
}  // namespace earshot::resolve::dns_parser_test
