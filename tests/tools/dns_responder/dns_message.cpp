#include "dns_message.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"

namespace earshot::dns_tool {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::uint16_t kFlagResponse = 0x8000;
constexpr std::uint16_t kFlagAuthoritative = 0x0400;
constexpr std::uint16_t kFlagRecursionDesired = 0x0100;
constexpr std::uint16_t kRcodeNameError = 3;
constexpr std::uint16_t kPointerToQuestionName = 0xC000 | kHeaderSize;

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  put16(out, static_cast<std::uint16_t>(value >> 16));
  put16(out, static_cast<std::uint16_t>(value & 0xFFFF));
}

void put_header(std::vector<std::uint8_t>& out, std::uint16_t id, std::uint16_t flags,
                std::uint16_t answers) {
  put16(out, id);
  put16(out, flags);
  put16(out, 1);  // one question
  put16(out, answers);
  put16(out, 0);
  put16(out, 0);
}

void put_name(std::vector<std::uint8_t>& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    std::size_t length = dot - start;
    if (length == 0 || length > 63) throw Error("bad DNS name '" + name + "'");
    out.push_back(static_cast<std::uint8_t>(length));
    out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

void put_question(std::vector<std::uint8_t>& out, const Question& question) {
  put_name(out, question.name);
  put16(out, question.type);
  put16(out, kClassIn);
}

// Reads big-endian fields, failing softly (nullopt) past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::optional<std::uint16_t> u16() {
    if (offset_ + 2 > bytes_.size()) return std::nullopt;
    auto value = static_cast<std::uint16_t>(bytes_[offset_] << 8 | bytes_[offset_ + 1]);
    offset_ += 2;
    return value;
  }
  bool skip(std::size_t count) {
    if (offset_ + count > bytes_.size()) return false;
    offset_ += count;
    return true;
  }
  std::optional<std::uint8_t> u8() {
    if (offset_ >= bytes_.size()) return std::nullopt;
    return bytes_[offset_++];
  }
  // An uncompressed name as dotted lower case; a compression pointer ends
  // it (its target is not followed: only skipping is needed there).
  std::optional<std::string> name(bool allow_pointer) {
    std::string text;
    while (true) {
      auto length = u8();
      if (!length) return std::nullopt;
      if (*length == 0) return text;
      if ((*length & 0xC0) == 0xC0) {
        if (!allow_pointer || !u8()) return std::nullopt;
        return text;
      }
      if (*length > 63 || offset_ + *length > bytes_.size()) return std::nullopt;
      if (!text.empty()) text += '.';
      text.append(reinterpret_cast<const char*>(bytes_.data() + offset_), *length);
      offset_ += *length;
    }
  }
  std::span<const std::uint8_t> take(std::size_t count) {
    auto part = bytes_.subspan(offset_, count);
    offset_ += count;
    return part;
  }
  std::size_t left() const { return bytes_.size() - offset_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
};

}  // namespace

std::string normalize_name(std::string name) {
  while (!name.empty() && name.back() == '.') name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::vector<std::uint8_t> build_query(const Question& question) {
  std::vector<std::uint8_t> out;
  put_header(out, question.id, kFlagRecursionDesired, 0);
  put_question(out, {question.id, normalize_name(question.name), question.type});
  return out;
}

std::optional<Question> parse_query(std::span<const std::uint8_t> message) {
  Reader reader(message);
  auto id = reader.u16();
  auto flags = reader.u16();
  auto questions = reader.u16();
  if (!id || !flags || !questions || (*flags & kFlagResponse) || *questions != 1) {
    return std::nullopt;
  }
  if (!reader.skip(6)) return std::nullopt;
  auto name = reader.name(false);
  auto type = reader.u16();
  auto klass = reader.u16();
  if (!name || !type || !klass || *klass != kClassIn) return std::nullopt;
  return Question{*id, normalize_name(*name), *type};
}

std::vector<std::uint8_t> build_answer(const Question& question,
                                       std::span<const std::uint8_t> rdata, std::uint32_t ttl,
                                       bool name_exists) {
  std::uint16_t flags = kFlagResponse | kFlagAuthoritative | kFlagRecursionDesired;
  if (!name_exists) flags |= kRcodeNameError;
  std::vector<std::uint8_t> out;
  put_header(out, question.id, flags, rdata.empty() ? 0 : 1);
  put_question(out, question);
  if (!rdata.empty()) {
    put16(out, kPointerToQuestionName);
    put16(out, question.type);
    put16(out, kClassIn);
    put32(out, ttl);
    put16(out, static_cast<std::uint16_t>(rdata.size()));
    out.insert(out.end(), rdata.begin(), rdata.end());
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> first_answer(std::span<const std::uint8_t> message,
                                                      std::uint16_t id, std::uint16_t type) {
  Reader reader(message);
  auto got_id = reader.u16();
  auto flags = reader.u16();
  auto questions = reader.u16();
  auto answers = reader.u16();
  if (!got_id || !flags || !questions || !answers || *got_id != id || !(*flags & kFlagResponse) ||
      !reader.skip(4)) {
    return std::nullopt;
  }
  for (std::uint16_t q = 0; q < *questions; ++q) {
    if (!reader.name(true) || !reader.skip(4)) return std::nullopt;
  }
  for (std::uint16_t a = 0; a < *answers; ++a) {
    if (!reader.name(true)) return std::nullopt;
    auto record_type = reader.u16();
    if (!record_type || !reader.skip(6)) return std::nullopt;  // class, ttl
    auto length = reader.u16();
    if (!length || *length > reader.left()) return std::nullopt;
    auto rdata = reader.take(*length);
    if (*record_type == type) return std::vector<std::uint8_t>(rdata.begin(), rdata.end());
  }
  return std::nullopt;
}

}  // namespace earshot::dns_tool
