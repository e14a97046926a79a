#pragma once
// Builds DNS responses byte by byte for the tests, so each test states the
// exact wire format it feeds the parser.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace earshot::resolve::testing {

class DnsMessage {
 public:
  // Header of a response (QR set) with the given counts.
  DnsMessage(std::uint16_t questions, std::uint16_t answers, std::uint16_t flags = 0x8180) {
    u16(0x1234);
    u16(flags);
    u16(questions);
    u16(answers);
    u16(0);
    u16(0);
  }

  std::size_t size() const { return bytes_.size(); }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  std::vector<std::uint8_t>& bytes() { return bytes_; }

  DnsMessage& u8(std::uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  DnsMessage& u16(std::uint16_t value) {
    bytes_.push_back(static_cast<std::uint8_t>(value >> 8));
    bytes_.push_back(static_cast<std::uint8_t>(value));
    return *this;
  }
  DnsMessage& u32(std::uint32_t value) {
    u16(static_cast<std::uint16_t>(value >> 16));
    return u16(static_cast<std::uint16_t>(value));
  }
  // Labels of a dotted name, ending with the root label.
  DnsMessage& name(std::string_view dotted) {
    labels(dotted);
    return u8(0);
  }
  // Labels without the root label, to be followed by a pointer.
  DnsMessage& labels(std::string_view dotted) {
    while (!dotted.empty()) {
      auto dot = dotted.find('.');
      auto label = dotted.substr(0, dot);
      u8(static_cast<std::uint8_t>(label.size()));
      bytes_.insert(bytes_.end(), label.begin(), label.end());
      dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    }
    return *this;
  }
  DnsMessage& pointer(std::uint16_t offset) {
    return u16(static_cast<std::uint16_t>(0xC000 | offset));
  }
  DnsMessage& question(std::string_view dotted, std::uint16_t type = 1) {
    name(dotted);
    u16(type);
    return u16(1);
  }
  // Type, class IN, TTL and rdata of a record whose owner name was written.
  DnsMessage& record(std::uint16_t type, std::uint32_t ttl,
                     std::initializer_list<std::uint8_t> rdata) {
    u16(type);
    u16(1);
    u32(ttl);
    u16(static_cast<std::uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    return *this;
  }
  DnsMessage& a(std::string_view owner, std::uint32_t ttl, std::initializer_list<std::uint8_t> ip) {
    name(owner);
    return record(1, ttl, ip);
  }
  DnsMessage& cname(std::string_view owner, std::uint32_t ttl, std::string_view target) {
    name(owner);
    u16(5);
    u16(1);
    u32(ttl);
    DnsMessage rdata(0, 0);
    rdata.bytes().clear();
    rdata.name(target);
    u16(static_cast<std::uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.bytes().begin(), rdata.bytes().end());
    return *this;
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace earshot::resolve::testing
