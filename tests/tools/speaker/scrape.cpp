#include "scrape.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <thread>

#include "common/error.h"
#include "http_reply.h"
#include "wire.h"

namespace earshot::speaker {

namespace {

using std::chrono::milliseconds;

// Prometheus's default scrape_timeout; a scrape never outlasts its interval either.
constexpr milliseconds kScrapeTimeout{10000};

int ms_until(Clock::time_point deadline) {
  auto ms = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(ms, 0));
}

// Waits for `events` on fd until deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_until(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

UniqueFd connect_before(const traffic::SocketAddress& address, Clock::time_point deadline) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fd;
  if (::connect(fd.get(), address.get(), address.length) == 0) return fd;
  if (errno != EINPROGRESS || !wait_for(fd.get(), POLLOUT, deadline)) return {};
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return {};
  return fd;
}

bool send_before(int fd, const std::string& text, Clock::time_point deadline) {
  for (std::size_t off = 0; off < text.size();) {
    ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Reads one reply into `reply` until it is complete, the server closes, or deadline.
void read_reply(int fd, HttpReply& reply, Clock::time_point deadline) {
  std::vector<char> buf(65536);
  while (!reply.complete() && !reply.malformed()) {
    if (!wait_for(fd, POLLIN, deadline)) return;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) {
      reply.end_of_stream();
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      reply.end_of_stream();
      return;
    }
    reply.feed({buf.data(), static_cast<std::size_t>(n)});
  }
}

// "10", "2.5": as Prometheus writes the timeout.
std::string seconds_text(milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(ms.count()) / 1000);
  return text;
}

class Scraper {
 public:
  Scraper(ScrapeTarget target, milliseconds timeout)
      : target_(std::move(target)),
        request_("GET " + target_.path + " HTTP/1.1\r\nHost: " + target_.host +
                 "\r\nUser-Agent: Prometheus/2.45.3\r\nAccept: text/plain\r\n"
                 "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: " +
                 seconds_text(timeout) + "\r\n\r\n") {}

  // One scrape; true when a whole 2xx reply came. Adds the body bytes read.
  bool scrape(Clock::time_point deadline, std::uint64_t& body_bytes) {
    // A kept connection the server has since closed fails at once and
    // without a byte: then once more on a new one, as HTTP clients do.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool fresh = !connection_;
      if (fresh) connection_ = connect_before(target_.address, deadline);
      if (!connection_) return false;
      HttpReply reply;
      if (send_before(connection_.get(), request_, deadline))
        read_reply(connection_.get(), reply, deadline);
      body_bytes += reply.body_bytes();
      if (!reply.complete() || !reply.keep_alive()) connection_.reset();
      if (reply.complete()) return reply.status() >= 200 && reply.status() < 300;
      if (fresh || reply.started() || Clock::now() >= deadline) return false;
    }
    return false;
  }

 private:
  ScrapeTarget target_;
  std::string request_;
  UniqueFd connection_;
};

}  // namespace

ScrapeTarget parse_scrape_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw Error("a scrape URL is http://HOST:PORT/PATH, not '" + url + "'");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  ScrapeTarget target;
  target.host = rest.substr(0, slash);
  target.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string address = target.host;
  std::string port = "80";
  if (address.starts_with("[")) {
    const auto close = address.find(']');
    if (close == std::string::npos) throw Error("no ']' in '" + url + "'");
    if (close + 1 < address.size()) {
      if (address[close + 1] != ':') throw Error("a port follows ']:' in '" + url + "'");
      port = address.substr(close + 2);
    }
    address = address.substr(1, close - 1);
  } else if (const auto colon = address.find(':'); colon != std::string::npos) {
    port = address.substr(colon + 1);
    address = address.substr(0, colon);
  }
  char* end = nullptr;
  const unsigned long number = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || number == 0 || number > 65535)
    throw Error("not a port: '" + port + "' in '" + url + "'");
  target.address = traffic::parse_socket_address(address, static_cast<std::uint16_t>(number));
  return target;
}

int run_scrape(const ScrapeOptions& o, const traffic::Common& common) {
  if (o.every_ms == 0) throw Error("--every-ms must be more than 0");
  const milliseconds every(o.every_ms);
  Scraper scraper(parse_scrape_url(o.url), std::min(every, kScrapeTimeout));
  traffic::say("ready");
  traffic::wait_for_go(common);
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::uint64_t scrapes = 0, failed = 0, bytes = 0;
  for (auto next = start; next < end;) {
    std::this_thread::sleep_until(next);
    ++scrapes;
    if (!scraper.scrape(std::min(next + std::min(every, kScrapeTimeout), end), bytes)) ++failed;
    // A scrape that overran its interval skips the ticks it missed, as Prometheus does.
    do next += every;
    while (next <= Clock::now());
  }
  std::this_thread::sleep_until(end);
  traffic::say("scrapes=" + std::to_string(scrapes) + " failed=" + std::to_string(failed) +
               " bytes=" + std::to_string(bytes));
  return 0;
}

}  // namespace earshot::speaker
