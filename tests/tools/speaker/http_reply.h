#pragma once
// An HTTP/1.x response read as it arrives, as a scraper needs it: the
// status, the body's length (Content-Length, chunked, or to the end of the
// connection), and whether the connection may carry the next request.
#include <cstdint>
#include <span>
#include <string>

namespace earshot::speaker {

class HttpReply {
 public:
  // Takes bytes from the connection; returns how many were this reply's.
  std::size_t feed(std::span<const char> bytes);
  // The server closed the connection: ends a body read to the end.
  void end_of_stream();

  bool complete() const { return state_ == State::done; }
  bool malformed() const { return state_ == State::bad; }
  bool started() const { return started_; }
  int status() const { return status_; }
  std::uint64_t body_bytes() const { return body_bytes_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  enum class State {
    headers,
    sized_body,
    chunk_size,
    chunk_data,
    chunk_end,
    trailers,
    to_close,
    done,
    bad
  };
  void parse_headers();
  // Takes the bytes of one line (without its CRLF) in a chunked body.
  void chunk_line(const std::string& line);

  State state_ = State::headers;
  bool started_ = false;
  std::string pending_;  // headers, or a line of the chunked framing, so far
  int status_ = 0;
  bool keep_alive_ = false;
  std::uint64_t left_ = 0;  // of the sized body or the chunk
  std::uint64_t body_bytes_ = 0;
};

}  // namespace earshot::speaker
