// Counters never silently drop: a connected socket's slot taken over by a
// later socket before the daemon read its last counts (here: the daemon is
// stopped with SIGSTOP meanwhile) leaves those bytes in the kernel's ground
// truth, and the daemon reports them as unaccounted instead of losing them.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "common/error.h"
#include "daemon.h"
#include "in_netns.h"
#include "kernel/abi.h"
#include "netns.h"
#include "socket_address.h"
#include "unique_fd.h"

namespace earshot::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDaemon = EARSHOT_BINARY;
constexpr const char* kBytes = "earshot_egress_bytes_total";
constexpr const char* kUnaccounted = "earshot_unaccounted_egress_bytes_total";
constexpr std::uint16_t kPort = 5301;
constexpr std::size_t kPayload = 1000;
constexpr std::uint64_t kDatagramBytes = kPayload + 8 + 20;  // UDP and IPv4 headers
constexpr int kFirstDatagrams = 20;
constexpr int kSecondDatagrams = 10;
constexpr auto kHarvest = 200ms;

std::uint32_t slot_index_of(const UniqueFd& fd) {
  std::uint64_t cookie = 0;
  socklen_t size = sizeof cookie;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_COOKIE, &cookie, &size) != 0)
    throw Error(std::string("SO_COOKIE: ") + std::strerror(errno));
  return earshot_slot_index(cookie);
}

UniqueFd udp_socket() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw Error(std::string("socket: ") + std::strerror(errno));
  return fd;
}

void send_datagrams(const UniqueFd& fd, const traffic::SocketAddress& to, int count) {
  if (::connect(fd.get(), to.get(), to.length) != 0)
    throw Error(std::string("connect: ") + std::strerror(errno));
  std::vector<char> payload(kPayload, 'e');
  for (int i = 0; i < count; ++i) {
    if (::send(fd.get(), payload.data(), payload.size(), 0) != static_cast<ssize_t>(kPayload))
      throw Error(std::string("send: ") + std::strerror(errno));
  }
}

// Resumes a stopped daemon on every path, so a failing test never leaves it
// stopped for the destructor's SIGTERM to wait on.
class Resume {
 public:
  explicit Resume(pid_t pid) : pid_(pid) {}
  ~Resume() { ::kill(pid_, SIGCONT); }
  Resume(const Resume&) = delete;
  Resume& operator=(const Resume&) = delete;

 private:
  pid_t pid_;
};

TEST(EvictionTest, SlotTakenOverBeforeItWasReadIsCountedAsUnaccounted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF and makes network namespaces";
  if (auto reason = NetnsPair::unavailable_reason()) GTEST_SKIP() << *reason;
  NetnsPair pair;
  DaemonProcess daemon({.binary = kDaemon,
                        .config_yaml = "harvest:\n  interval: 200ms\n"
                                       "destinations: []\n"
                                       "network:\n  namespaces: [\"" +
                                       pair.a().path +
                                       "\"]\n"
                                       "capture:\n  sysfs: false\n"});
  // A bound receiver, so no ICMP error fails a later send.
  UniqueFd sink;
  run_in_netns(pair.b().path,
               [&] { sink = traffic::bind_wildcard(SOCK_DGRAM, kPort, traffic::Family::ipv4); });
  const Labels to_b{{"destination", pair.b().ipv4}};
  const double unaccounted_before = daemon.scrape().sum(kUnaccounted);

  std::optional<Resume> resume;
  ASSERT_EQ(::kill(daemon.pid(), SIGSTOP), 0);
  resume.emplace(daemon.pid());
  int tries = 0;
  run_in_netns(pair.a().path, [&] {
    // Slots are per CPU: both sockets send from the same one.
    cpu_set_t one{};
    CPU_SET(0, &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0)
      throw Error(std::string("sched_setaffinity: ") + std::strerror(errno));
    const traffic::SocketAddress to = traffic::parse_socket_address(pair.b().ipv4, kPort);
    UniqueFd first = udp_socket();
    const std::uint32_t index = slot_index_of(first);
    send_datagrams(first, to, kFirstDatagrams);
    first.reset();  // released: its slot may be reclaimed two harvests later
    std::this_thread::sleep_for(3 * kHarvest);
    UniqueFd second;
    while (!second && tries < 200'000) {
      ++tries;
      UniqueFd candidate = udp_socket();
      if (slot_index_of(candidate) == index) second = std::move(candidate);
    }
    if (!second) throw Error("no socket with the first one's slot index");
    send_datagrams(second, to, kSecondDatagrams);
  });
  resume.reset();

  const double first_bytes = kFirstDatagrams * kDatagramBytes;
  const double second_bytes = kSecondDatagrams * kDatagramBytes;
  EXPECT_TRUE(daemon.wait_for(
      [&](const MetricsScrape& s) {
        return s.sum(kUnaccounted) - unaccounted_before >= first_bytes &&
               s.sum(kBytes, to_b) >= second_bytes;
      },
      5s))
      << "after " << tries << " sockets; unaccounted "
      << daemon.last_scrape().sum(kUnaccounted) - unaccounted_before << ", sent to B "
      << daemon.last_scrape().sum(kBytes, to_b) << "\n"
      << daemon.log();
  // Settled: the first socket's bytes are unaccounted, exactly; the second's
  // are counted as usual; nothing is both.
  std::this_thread::sleep_for(3 * kHarvest);
  MetricsScrape scrape = daemon.scrape();
  EXPECT_EQ(scrape.sum(kUnaccounted) - unaccounted_before, first_bytes);
  EXPECT_EQ(scrape.sum(kBytes, to_b), second_bytes);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace earshot::test
