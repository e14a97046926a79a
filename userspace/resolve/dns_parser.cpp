#include "resolve/dns_parser.h"

#include <optional>

namespace earshot::resolve {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::uint16_t kClassIn = 1;
constexpr std::size_t kMaxLabelLength = 63;

// A cursor over the message; every read checks the remaining length.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> message) : message_(message) {}

  std::size_t offset() const { return offset_; }
  bool skip(std::size_t count) {
    if (count > message_.size() - offset_) return false;
    offset_ += count;
    return true;
  }
  std::optional<std::uint8_t> u8() {
    if (offset_ >= message_.size()) return std::nullopt;
    return message_[offset_++];
  }
  std::optional<std::uint16_t> u16() {
    if (message_.size() - offset_ < 2) return std::nullopt;
    auto value = static_cast<std::uint16_t>(message_[offset_] << 8 | message_[offset_ + 1]);
    offset_ += 2;
    return value;
  }
  std::optional<std::uint32_t> u32() {
    auto high = u16();
    auto low = high ? u16() : std::nullopt;
    if (!low) return std::nullopt;
    return static_cast<std::uint32_t>(*high) << 16 | *low;
  }

 private:
  std::span<const std::uint8_t> message_;
  std::size_t offset_ = 0;
};

struct Name {
  std::string text;
  bool printable = true;
};

// Reads a (possibly compressed) name at the reader's position and leaves the
// reader after it. A pointer must point strictly before the start of the
// stretch of labels it ends (the name's start, or the previous pointer's
// target), so targets strictly decrease and no chain can loop, forwards or
// backwards; the jump cap bounds the walk anyway. Returns nullopt on a structural error (the rest
// of the message cannot be located).
std::optional<Name> read_name(std::span<const std::uint8_t> message, Reader& reader) {
  Name name;
  std::size_t position = reader.offset();
  std::size_t stretch_start = position;
  std::optional<std::size_t> resume;  // where the reader continues after the first pointer
  std::size_t jumps = 0;
  std::size_t wire_length = 0;
  while (true) {
    if (position >= message.size()) return std::nullopt;
    std::uint8_t length = message[position];
    if ((length & 0xC0) == 0xC0) {
      if (position + 1 >= message.size()) return std::nullopt;
      std::size_t target = static_cast<std::size_t>(length & 0x3F) << 8 | message[position + 1];
      if (target >= stretch_start || ++jumps > kDnsMaxPointerJumps) return std::nullopt;
      if (!resume) resume = position + 2;
      position = target;
      stretch_start = target;
      continue;
    }
    if ((length & 0xC0) != 0) return std::nullopt;  // 0x40, 0x80: reserved label types
    wire_length += 1 + length;
    if (wire_length > kDnsMaxNameWireLength) return std::nullopt;
    if (length == 0) {
      ++position;
      break;
    }
    if (length > kMaxLabelLength || message.size() - position - 1 < length) return std::nullopt;
    if (!name.text.empty()) name.text.push_back('.');
    for (std::size_t i = 0; i < length; ++i) {
      auto c = static_cast<char>(message[position + 1 + i]);
      if (c <= ' ' || c > '~' || c == '.') name.printable = false;
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      name.text.push_back(c);
    }
    position += 1 + length;
  }
  std::size_t end = resume ? *resume : position;
  if (!reader.skip(end - reader.offset())) return std::nullopt;
  return name;
}

// Reads one answer record; nullopt when the record is malformed, an answer
// without a value when it is well-formed but not one we keep.
std::optional<std::optional<DnsAnswer>> read_answer(std::span<const std::uint8_t> message,
                                                    Reader& reader) {
  auto owner = read_name(message, reader);
  if (!owner) return std::nullopt;
  auto type = reader.u16();
  auto klass = type ? reader.u16() : std::nullopt;
  auto ttl = klass ? reader.u32() : std::nullopt;
  auto rdlength = ttl ? reader.u16() : std::nullopt;
  if (!rdlength) return std::nullopt;
  std::size_t rdata_start = reader.offset();
  std::size_t rdata_end = rdata_start + *rdlength;
  if (!reader.skip(*rdlength)) return std::nullopt;

  std::optional<DnsAnswer> kept;
  if (*klass != kClassIn || !owner->printable || owner->text.empty()) return kept;
  DnsAnswer answer;
  answer.name = owner->text;
  // A TTL with the top bit set is treated as 0 (RFC 2181 section 8).
  answer.ttl = (*ttl & 0x80000000u) ? 0 : *ttl;
  if (*type == static_cast<std::uint16_t>(DnsRecordType::a) && *rdlength == 4) {
    answer.type = DnsRecordType::a;
    for (std::size_t i = 0; i < 4; ++i) answer.address[i] = message[rdata_start + i];
    kept = answer;
  } else if (*type == static_cast<std::uint16_t>(DnsRecordType::aaaa) && *rdlength == 16) {
    answer.type = DnsRecordType::aaaa;
    for (std::size_t i = 0; i < 16; ++i) answer.address[i] = message[rdata_start + i];
    kept = answer;
  } else if (*type == static_cast<std::uint16_t>(DnsRecordType::cname)) {
    // The target may use compression pointers into the whole message, but
    // must end exactly where the record's data ends.
    Reader target_reader(message);
    if (!target_reader.skip(rdata_start)) return std::nullopt;
    auto target = read_name(message, target_reader);
    if (!target || target_reader.offset() != rdata_end) return std::nullopt;
    if (!target->printable || target->text.empty()) return kept;
    answer.type = DnsRecordType::cname;
    answer.target = target->text;
    kept = answer;
  }
  return kept;
}

}  // namespace

DnsResponse parse_dns_response(std::span<const std::uint8_t> message) {
  DnsResponse response;
  if (message.size() < kHeaderSize) return {};
  Reader reader(message);
  auto id = reader.u16();
  auto flags = reader.u16();
  auto qdcount = reader.u16();
  auto ancount = reader.u16();
  if (!reader.skip(4)) return {};         // nscount, arcount: sections not read
  if ((*flags & 0x8000) == 0) return {};  // a query, not a response
  response.id = *id;
  response.truncated = (*flags & 0x0200) != 0;
  response.rcode = static_cast<std::uint8_t>(*flags & 0x000F);
  if (*qdcount > kDnsMaxQuestions) return {};

  for (std::uint16_t i = 0; i < *qdcount; ++i) {
    auto name = read_name(message, reader);
    if (!name || !reader.skip(4)) return {};  // qtype, qclass
    if (name->printable && !name->text.empty()) response.questions.push_back(name->text);
  }
  std::size_t answers = *ancount < kDnsMaxAnswers ? *ancount : kDnsMaxAnswers;
  for (std::size_t i = 0; i < answers; ++i) {
    auto answer = read_answer(message, reader);
    if (!answer) break;
    if (*answer) response.answers.push_back(std::move(**answer));
  }
  return response;
}

}  // namespace earshot::resolve
