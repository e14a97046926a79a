#include "reply_stream.h"

#include <arpa/inet.h>

#include <algorithm>

namespace earshot::speaker {

void ReplyStream::feed(std::span<const char> bytes, const ReplySink& sink) {
  while (!bytes.empty()) {
    if (data_left_ > 0) {
      const std::size_t n = std::min(data_left_, bytes.size());
      sink(header_[0], read_tag(header_ + kFrameHeader), n);
      data_left_ -= n;
      bytes = bytes.subspan(n);
    } else if (header_got_ == 0 && bytes[0] == kDownloadData) {
      const auto end =
          std::find_if(bytes.begin(), bytes.end(), [](char c) { return c != kDownloadData; });
      const auto n = static_cast<std::size_t>(end - bytes.begin());
      sink(kDownloadData, 0, n);
      bytes = bytes.subspan(n);
    } else {
      const std::size_t n = std::min(sizeof header_ - header_got_, bytes.size());
      std::copy_n(bytes.begin(), n, header_ + header_got_);
      header_got_ += n;
      bytes = bytes.subspan(n);
      if (header_got_ < sizeof header_) continue;
      header_got_ = 0;
      std::uint32_t length;
      std::memcpy(&length, header_ + 1, 4);
      data_left_ = std::max<std::size_t>(ntohl(length), kTagSize) - kTagSize;
    }
  }
}

void read_reply_datagram(std::span<const char> datagram, const ReplySink& sink) {
  if (datagram.empty()) return;
  if (datagram[0] == kDownloadData) {
    sink(kDownloadData, 0, datagram.size());
  } else if (datagram.size() >= kFrameHeader + kTagSize) {
    sink(datagram[0], read_tag(datagram.data() + kFrameHeader),
         datagram.size() - kFrameHeader - kTagSize);
  }
}

}  // namespace earshot::speaker
