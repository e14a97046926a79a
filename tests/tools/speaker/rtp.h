#pragma once
// An RTP stream's headers (RFC 3550): what a VoIP or camera app puts before
// each payload it sends over plain UDP.
#include <array>
#include <chrono>
#include <cstdint>

namespace earshot::speaker {

class RtpStream {
 public:
  static constexpr std::size_t kHeader = 12;

  RtpStream(std::uint8_t payload_type, std::uint32_t ssrc, std::uint32_t clock_rate)
      : payload_type_(payload_type), ssrc_(ssrc), clock_rate_(clock_rate) {}

  // The next packet's header; its timestamp is `at` on the media clock.
  std::array<char, kHeader> next(bool marker, std::chrono::microseconds at) {
    const auto timestamp =
        static_cast<std::uint32_t>(static_cast<std::uint64_t>(at.count()) * clock_rate_ / 1000000);
    std::array<char, kHeader> out{};
    out[0] = static_cast<char>(0x80);  // version 2
    out[1] = static_cast<char>((marker ? 0x80 : 0) | payload_type_);
    put(out.data() + 2, sequence_++, 2);
    put(out.data() + 4, timestamp, 4);
    put(out.data() + 8, ssrc_, 4);
    return out;
  }

 private:
  static void put(char* at, std::uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) at[i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
  }

  std::uint8_t payload_type_;
  std::uint32_t ssrc_;
  std::uint32_t clock_rate_;
  std::uint16_t sequence_ = 0;
};

}  // namespace earshot::speaker
