#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/unique_fd.h"

namespace earshot::test {
namespace {

using Clock = std::chrono::steady_clock;

int millis_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

void wait_ready(int fd, short events, Clock::time_point deadline, const std::string& what) {
  while (true) {
    pollfd ready{fd, events, 0};
    int polled = ::poll(&ready, 1, millis_left(deadline));
    if (polled < 0 && errno == EINTR) continue;
    if (polled < 0) throw Error(what + ": poll: " + std::strerror(errno));
    if (polled == 0) throw Error(what + ": timed out");
    return;
  }
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  std::size_t first = text.find_first_not_of(" \t");
  std::size_t last = text.find_last_not_of(" \t\r");
  return first == std::string_view::npos ? "" : std::string(text.substr(first, last - first + 1));
}

std::string dechunk(std::string_view body) {
  std::string result;
  while (true) {
    std::size_t line_end = body.find("\r\n");
    if (line_end == std::string_view::npos) throw Error("HTTP chunked body: missing chunk size");
    std::string size_text(body.substr(0, line_end));
    char* end = nullptr;
    unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str()) throw Error("HTTP chunked body: bad chunk size " + size_text);
    body.remove_prefix(line_end + 2);
    if (size == 0) return result;
    if (body.size() < size) throw Error("HTTP chunked body: truncated chunk");
    result.append(body.substr(0, size));
    body.remove_prefix(std::min<std::size_t>(size + 2, body.size()));
  }
}

}  // namespace

HttpResponse parse_http_response(std::string_view raw) {
  std::size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos || !raw.starts_with("HTTP/")) {
    throw Error("not an HTTP response: " + std::string(raw.substr(0, 80)));
  }
  std::string_view head = raw.substr(0, head_end);
  HttpResponse response;
  std::size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  std::size_t space = status_line.find(' ');
  if (space == std::string_view::npos)
    throw Error("bad HTTP status line: " + std::string(status_line));
  response.status = std::atoi(std::string(status_line.substr(space + 1, 3)).c_str());
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    response.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  std::string_view body = raw.substr(head_end + 4);
  auto encoding = response.headers.find("transfer-encoding");
  if (encoding != response.headers.end() && lower(encoding->second) == "chunked") {
    response.body = dechunk(body);
  } else {
    response.body = std::string(body);
  }
  return response;
}

HttpResponse http_get(std::uint16_t port, std::string_view path, std::chrono::milliseconds timeout,
                      const std::string& host) {
  std::string what = "GET http://" + host + ":" + std::to_string(port) + std::string(path);
  auto deadline = Clock::now() + timeout;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw Error(what + ": not an IPv4 address: " + host);
  }
  UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_fd) throw Error(what + ": socket: " + std::strerror(errno));
  if (::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) throw Error(what + ": connect: " + std::strerror(errno));
    wait_ready(socket_fd.get(), POLLOUT, deadline, what);
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(socket_fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) throw Error(what + ": connect: " + std::strerror(error));
  }
  // HTTP/1.0 and Connection: close, so the body ends at EOF.
  std::string request = "GET " + std::string(path) + " HTTP/1.0\r\nHost: " + host + ":" +
                        std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  std::string_view unsent = request;
  while (!unsent.empty()) {
    wait_ready(socket_fd.get(), POLLOUT, deadline, what);
    ssize_t sent = ::send(socket_fd.get(), unsent.data(), unsent.size(), MSG_NOSIGNAL);
    if (sent < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (sent < 0) throw Error(what + ": send: " + std::strerror(errno));
    unsent.remove_prefix(static_cast<std::size_t>(sent));
  }
  std::string raw;
  char buffer[16384];
  while (true) {
    wait_ready(socket_fd.get(), POLLIN, deadline, what);
    ssize_t got = ::recv(socket_fd.get(), buffer, sizeof buffer, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) throw Error(what + ": recv: " + std::strerror(errno));
    if (got == 0) break;
    raw.append(buffer, static_cast<std::size_t>(got));
  }
  try {
    return parse_http_response(raw);
  } catch (const Error& error) {
    throw Error(what + ": " + error.what());
  }
}

MetricsScrape scrape_metrics(std::uint16_t port, std::string_view path,
                             std::chrono::milliseconds timeout) {
  HttpResponse response = http_get(port, path, timeout);
  if (response.status != 200) {
    throw Error("GET " + std::string(path) + " on port " + std::to_string(port) + " answered " +
                std::to_string(response.status) + ": " + response.body.substr(0, 200));
  }
  return MetricsScrape::parse(response.body);
}

}  // namespace earshot::test
