#include "http_reply.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace earshot::speaker {

namespace {

constexpr std::size_t kMaxHeaders = 64 * 1024;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trimmed(const std::string& text) {
  auto begin = text.find_first_not_of(" \t");
  auto end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace

std::size_t HttpReply::feed(std::span<const char> bytes) {
  std::size_t used = 0;
  if (!bytes.empty()) started_ = true;
  while (used < bytes.size() && state_ != State::done && state_ != State::bad) {
    const std::span<const char> rest = bytes.subspan(used);
    switch (state_) {
      case State::headers: {
        const std::size_t before = pending_.size();
        pending_.append(rest.data(), rest.size());
        const auto end = pending_.find("\r\n\r\n");
        if (end == std::string::npos) {
          used = bytes.size();
          if (pending_.size() > kMaxHeaders) state_ = State::bad;
          break;
        }
        used += end + 4 - before;
        pending_.resize(end + 2);
        parse_headers();
        pending_.clear();
        break;
      }
      case State::sized_body:
      case State::chunk_data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, rest.size()));
        left_ -= n;
        body_bytes_ += n;
        used += n;
        if (left_ == 0) state_ = state_ == State::sized_body ? State::done : State::chunk_end;
        break;
      }
      case State::to_close:
        body_bytes_ += rest.size();
        used = bytes.size();
        break;
      case State::chunk_size:
      case State::chunk_end:
      case State::trailers: {
        const auto newline = std::find(rest.begin(), rest.end(), '\n');
        pending_.append(rest.begin(), newline);
        used += static_cast<std::size_t>(newline - rest.begin());
        if (newline == rest.end()) {
          if (pending_.size() > kMaxHeaders) state_ = State::bad;
          break;
        }
        ++used;  // the '\n'
        std::string line = pending_;
        pending_.clear();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        chunk_line(line);
        break;
      }
      case State::done:
      case State::bad:
        break;
    }
  }
  return used;
}

void HttpReply::end_of_stream() {
  keep_alive_ = false;
  if (state_ == State::to_close) {
    state_ = State::done;
  } else if (state_ != State::done) {
    state_ = State::bad;
  }
}

void HttpReply::parse_headers() {
  std::istringstream lines(pending_);
  std::string line;
  std::getline(lines, line);
  // "HTTP/1.1 200 OK"
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) {
    state_ = State::bad;
    return;
  }
  const bool http11 = line[7] == '1';
  status_ = std::atoi(line.c_str() + 9);
  keep_alive_ = http11;
  bool chunked = false;
  bool sized = false;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = lower(trimmed(line.substr(0, colon)));
    const std::string value = lower(trimmed(line.substr(colon + 1)));
    if (name == "content-length") {
      sized = true;
      left_ = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) {
      chunked = true;
    } else if (name == "connection") {
      if (value.find("close") != std::string::npos) keep_alive_ = false;
      if (value.find("keep-alive") != std::string::npos) keep_alive_ = true;
    }
  }
  if (status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) {
    state_ = State::done;  // no body (a GET is not answered 1xx but by a final reply)
  } else if (chunked) {
    state_ = State::chunk_size;
  } else if (sized) {
    state_ = left_ == 0 ? State::done : State::sized_body;
  } else {
    state_ = State::to_close;
    keep_alive_ = false;
  }
}

void HttpReply::chunk_line(const std::string& line) {
  switch (state_) {
    case State::chunk_size: {
      char* end = nullptr;
      left_ = std::strtoull(line.c_str(), &end, 16);
      if (end == line.c_str()) {
        state_ = State::bad;
      } else {
        state_ = left_ == 0 ? State::trailers : State::chunk_data;
      }
      break;
    }
    case State::chunk_end:
      state_ = line.empty() ? State::chunk_size : State::bad;
      break;
    case State::trailers:
      if (line.empty()) state_ = State::done;
      break;
    default:
      break;
  }
}

}  // namespace earshot::speaker
