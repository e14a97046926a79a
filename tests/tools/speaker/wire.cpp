#include "wire.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

#include "../socket_address.h"
#include "common/error.h"

namespace earshot::speaker {

Proto parse_proto(const std::string& text) {
  if (text == "tcp") return Proto::tcp;
  if (text == "udp") return Proto::udp;
  if (text == "quic") return Proto::quic;
  throw Error("a protocol is tcp, udp or quic, not '" + text + "'");
}

std::vector<char> frame(char type, std::size_t body_size, const void* body) {
  std::vector<char> out(kFrameHeader + body_size, 'x');
  out[0] = type;
  std::uint32_t length = htonl(static_cast<std::uint32_t>(body_size));
  std::memcpy(out.data() + 1, &length, 4);
  if (body) std::memcpy(out.data() + kFrameHeader, body, body_size);
  return out;
}

std::vector<char> reply_frame(char type, std::uint16_t tag, std::size_t data_size) {
  std::vector<char> out = frame(type, kTagSize + data_size);
  write_tag(out.data() + kFrameHeader, tag);
  return out;
}

void write_tag(char* body, std::uint16_t tag) {
  std::uint16_t wire_tag = htons(tag);
  std::memcpy(body, &wire_tag, kTagSize);
}

std::uint16_t read_tag(const char* body) {
  std::uint16_t wire_tag;
  std::memcpy(&wire_tag, body, kTagSize);
  return ntohs(wire_tag);
}

void send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      traffic::throw_errno("send");
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

bool recv_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::recv(fd, data, size, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace earshot::speaker
