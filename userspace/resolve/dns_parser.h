#pragma once
// Passive DNS: the answers of a DNS response (the UDP payload), parsed from
// bytes that may be anything. Every read is bounds-checked; compression
// pointers may only point backwards and are followed a bounded number of
// times; names are limited to 255 bytes on the wire; section counts are
// capped. What could not be parsed is left out, never guessed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace earshot::resolve {

enum class DnsRecordType : std::uint16_t { a = 1, cname = 5, aaaa = 28 };

struct DnsAnswer {
  std::string name;  // owner name, lower case, no trailing dot
  DnsRecordType type = DnsRecordType::a;
  std::array<std::uint8_t, 16> address{};  // A: first 4 bytes; AAAA: all 16
  std::string target;                      // CNAME: the canonical name
  std::uint32_t ttl = 0;                   // seconds
};

struct DnsResponse {
  std::uint16_t id = 0;
  std::uint8_t rcode = 0;
  bool truncated = false;              // TC bit: the server cut the message
  std::vector<std::string> questions;  // question names, as the client asked
  std::vector<DnsAnswer> answers;      // A, AAAA and CNAME answers only
};

// Caps that bound the work a hostile message can cause.
inline constexpr std::size_t kDnsMaxQuestions = 4;
inline constexpr std::size_t kDnsMaxAnswers = 64;
inline constexpr std::size_t kDnsMaxPointerJumps = 16;
inline constexpr std::size_t kDnsMaxNameWireLength = 255;

// Parses a DNS response. A message that is not a response (QR bit clear), or
// whose header or question section is malformed, gives an empty result. In
// the answer section, records up to the first malformed one are returned.
// Names with bytes outside printable ASCII are skipped: they could not be a
// name a client resolves and would only pollute labels.
DnsResponse parse_dns_response(std::span<const std::uint8_t> message);

}  // namespace earshot::resolve
