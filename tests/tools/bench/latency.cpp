#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "bench.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace earshot::bench {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string format_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ms);
  return text;
}

off_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

std::string read_from(const std::string& path, off_t offset) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// One HTTP/1.0 GET of /metrics from 127.0.0.1:port: the response, headers and all.
std::string scrape(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    throw_errno("connect to /metrics");
  std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) < 0) throw_errno("send GET");
  std::string response;
  char buffer[16384];
  ssize_t got;
  while ((got = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0) response.append(buffer, got);
  if (got < 0) throw_errno("read /metrics");
  return response;
}

namespace {

// Sum of earshot_egress_packets_total over the series with process="<process>".
double packets_of(const std::string& text, const std::string& process) {
  const std::string name = "earshot_egress_packets_total{";
  const std::string label = "process=\"" + process + "\"";
  double sum = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0 || line.find(label) == std::string::npos) continue;
    auto space = line.rfind(' ');
    if (space != std::string::npos) sum += std::strtod(line.c_str() + space + 1, nullptr);
  }
  return sum;
}

// A UDP socket living in the network namespace at `path`; this thread's
// namespace is restored before returning.
UniqueFd udp_socket_in(const std::string& path) {
  if (path.empty()) return UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!home || !target) throw_errno("open network namespace " + path);
  if (::setns(target.get(), CLONE_NEWNET) != 0) throw_errno("setns " + path);
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  int saved = errno;
  if (::setns(home.get(), CLONE_NEWNET) != 0) throw_errno("setns back");
  errno = saved;
  return fd;
}

}  // namespace

int open_latency(const std::string& device, const std::string& events_file, int count,
                 std::chrono::milliseconds gap, std::chrono::milliseconds timeout) {
  int missed = 0;
  for (int i = 0; i < count; ++i) {
    off_t before = file_size(events_file);
    auto start = Clock::now();
    UniqueFd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + device);
    bool seen = false;
    while (ms_since(start) < static_cast<double>(timeout.count())) {
      if (file_size(events_file) > before &&
          read_from(events_file, before).find("\"capture_open\"") != std::string::npos) {
        seen = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    double ms = ms_since(start);
    fd.reset();
    if (seen)
      say("sample_ms=" + format_ms(ms));
    else
      ++missed;
    // Let the close event land before the next open reads the file size.
    std::this_thread::sleep_for(gap);
  }
  say("missed=" + std::to_string(missed));
  return missed == 0 ? 0 : 2;
}

int metrics_latency(const MetricsLatencyOptions& o) {
  UniqueFd fd = udp_socket_in(o.netns);
  if (!fd) throw_errno("socket");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(o.port);
  if (::inet_pton(AF_INET, o.address.c_str(), &to.sin_addr) != 1)
    throw Error("not an IPv4 address: " + o.address);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0)
    throw_errno("connect");
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> jitter(0, static_cast<int>(o.gap.count()));
  int missed = 0;
  char payload[64] = {};
  for (int b = 0; b < o.bursts; ++b) {
    // A random phase against the harvest timer, so the samples spread over it.
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(random)));
    double base = packets_of(scrape(o.metrics_port), o.process);
    auto start = Clock::now();
    // A port-unreachable answer to an earlier burst fails one send: retry it.
    for (int sent = 0, tries = 0; sent < o.packets && tries < 100 * o.packets; ++tries)
      if (::send(fd.get(), payload, sizeof payload, 0) >= 0) ++sent;
    bool seen = false;
    while (ms_since(start) < static_cast<double>(o.timeout.count())) {
      if (packets_of(scrape(o.metrics_port), o.process) >= base + o.packets) {
        seen = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    double ms = ms_since(start);
    if (seen)
      say("sample_ms=" + format_ms(ms));
    else
      ++missed;
  }
  say("missed=" + std::to_string(missed));
  return missed == 0 ? 0 : 2;
}

}  // namespace earshot::bench
