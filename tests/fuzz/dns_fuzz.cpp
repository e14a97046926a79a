// libFuzzer target: the passive DNS parser and the name table fed arbitrary
// bytes. Besides the sanitizers, it checks the parser's documented bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "resolve/dns_parser.h"
#include "resolve/name_table.h"

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace earshot::resolve;
  auto response = parse_dns_response(std::span<const std::uint8_t>(data, size));
  require(response.questions.size() <= kDnsMaxQuestions);
  require(response.answers.size() <= kDnsMaxAnswers);
  for (const auto& name : response.questions) require(!name.empty() && name.size() < 255);
  for (const auto& answer : response.answers) {
    require(!answer.name.empty() && answer.name.size() < 255);
    require(answer.type != DnsRecordType::cname || !answer.target.empty());
    require(answer.ttl <= 0x7FFFFFFFu);
  }

  NameTable table({.capacity = 4});
  constexpr std::uint64_t kSecond = 1'000'000'000;
  table.learn(response, 10 * kSecond);
  table.learn(response, 20 * kSecond);
  require(table.size() <= 4);
  for (const auto& answer : response.answers) {
    if (answer.type == DnsRecordType::cname) continue;
    IpAddress address;
    address.family = answer.type == DnsRecordType::a ? kFamilyIpv4 : kFamilyIpv6;
    for (std::size_t i = 0; i < (answer.type == DnsRecordType::a ? 4u : 16u); ++i) {
      address.bytes[i] = answer.address[i];
    }
    table.lookup(address, 25 * kSecond);
  }
  table.expire(1000 * kSecond);
  return 0;
}
