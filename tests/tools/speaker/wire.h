#pragma once
// The speaker's messages, as both of its ends read them. Over TCP and UDP a
// message is a frame: a type byte, a 4-byte big-endian length, a body
// (quic_packet.h wraps the type and body in a QUIC-like datagram instead).
// Both ends are this program on one machine, so request bodies are plain
// structs.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace earshot::speaker {

using Clock = std::chrono::steady_clock;

enum class Proto { tcp, udp, quic };
Proto parse_proto(const std::string& text);

// Speaker to peer.
inline constexpr char kKeepAlive = 'K';
inline constexpr char kUpload = 'U';
inline constexpr char kDownload = 'D';
inline constexpr char kVoice = 'V';
inline constexpr char kCamera = 'C';
inline constexpr char kSegmentRequest = 'S';
inline constexpr char kMusicRequest = 'M';
// Peer to speaker. Download data is unframed over TCP and UDP, as it always
// was: bytes (datagrams) of 'd'.
inline constexpr char kDownloadData = 'd';
inline constexpr char kSegmentData = 'G';
inline constexpr char kMusicData = 'm';

inline constexpr std::size_t kFrameHeader = 5;

// A download over TCP or UDP: the asked rate for the asked time.
struct DownloadRequest {
  std::uint32_t ms = 0;
  std::uint32_t rate = 0;
};

// A segment (bytes at rate), music (ms at rate) or, over QUIC, a download.
// The peer draws its own random choices from seed, so a trial repeats; its
// replies carry tag, so the speaker can tell overlapping actions apart.
struct StreamRequest {
  std::uint64_t bytes = 0;
  std::uint32_t ms = 0;
  std::uint32_t rate = 0;
  std::uint32_t seed = 0;
  std::uint16_t tag = 0;
};

// A reply's body: a 2-byte tag, then data.
inline constexpr std::size_t kTagSize = 2;

// What a stream of `ms` at `rate` sends in all; both ends compute it alike.
inline std::uint64_t stream_bytes(std::uint32_t ms, std::uint32_t rate) {
  return static_cast<std::uint64_t>(ms) * rate / 1000;
}

std::vector<char> frame(char type, std::size_t body_size, const void* body = nullptr);
// A reply frame: type, length, the tag, data_size bytes of data.
std::vector<char> reply_frame(char type, std::uint16_t tag, std::size_t data_size);
void write_tag(char* body, std::uint16_t tag);
std::uint16_t read_tag(const char* body);

// send() until all is written (retrying a full buffer); throws on errors.
void send_all(int fd, const char* data, std::size_t size);
// false at end of stream or on an error.
bool recv_all(int fd, char* data, std::size_t size);

template <typename Struct>
std::optional<Struct> read_struct(std::span<const char> body) {
  static_assert(std::is_trivially_copyable_v<Struct>);
  if (body.size() < sizeof(Struct)) return std::nullopt;
  Struct out;
  std::memcpy(&out, body.data(), sizeof out);
  return out;
}

}  // namespace earshot::speaker
