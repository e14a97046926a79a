#include "netns.h"

#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <regex>

#include "common/error.h"
#include "process.h"

namespace earshot::test {
namespace {

constexpr const char* kNetnsDir = "/var/run/netns";

std::atomic<int> next_pair_index{0};

void run_ip(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  check_command(argv, {}, std::chrono::seconds(10));
}

// The form `ip` prints (fd00:199::1, not fd00:199:0::1), so tests can
// search its output for the address.
std::string canonical_ipv6(const std::string& text) {
  in6_addr address{};
  char buffer[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET6, text.c_str(), &address) != 1 ||
      ::inet_ntop(AF_INET6, &address, buffer, sizeof buffer) == nullptr) {
    throw Error("not an IPv6 address: " + text);
  }
  return buffer;
}

bool process_alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

bool netns_exists(const std::string& name) {
  return std::filesystem::exists(std::string(kNetnsDir) + "/" + name);
}

std::optional<std::string> netns_test_unavailable_reason(Nft nft) {
  if (::geteuid() != 0) return "needs root: loads BPF and makes network namespaces";
  if (auto reason = NetnsPair::unavailable_reason()) return reason;
  if (nft == Nft::needed) {
    try {
      check_command({"nft", "--version"}, {}, std::chrono::seconds(5));
    } catch (const Error& error) {
      return std::string("nft does not run: ") + error.what();
    }
  }
  return std::nullopt;
}

std::optional<std::string> NetnsPair::unavailable_reason() {
  if (::geteuid() != 0)
    return "network namespaces need root (euid is " + std::to_string(::geteuid()) + ")";
  try {
    check_command({"ip", "-V"}, {}, std::chrono::seconds(5));
  } catch (const Error& error) {
    return std::string("iproute2 `ip` does not run: ") + error.what();
  }
  return std::nullopt;
}

void NetnsPair::remove_leftovers() {
  static const std::regex ours("es([0-9]+)(-[0-9]+)?[ab]");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, error)) {
    std::string name = entry.path().filename();
    std::smatch match;
    if (!std::regex_match(name, match, ours)) continue;
    if (process_alive(static_cast<pid_t>(std::stol(match[1])))) continue;
    run_command({"ip", "netns", "delete", name}, {}, std::chrono::seconds(10));
  }
}

NetnsPair::NetnsPair() {
  remove_leftovers();
  int index = next_pair_index++;
  // Appended piece by piece: GCC 12 at -O3 (Release) warns (-Wrestrict, a false
  // positive) on `"-" + std::to_string(index)`.
  std::string prefix = "es";
  prefix += std::to_string(::getpid());
  if (index != 0) {
    prefix += '-';
    prefix += std::to_string(index);
  }
  std::string subnet = std::to_string(index % 256);
  a_ = {prefix + "a", std::string(kNetnsDir) + "/" + prefix + "a", prefix + "a",
        "10.199." + subnet + ".1", canonical_ipv6("fd00:199:" + subnet + "::1")};
  b_ = {prefix + "b", std::string(kNetnsDir) + "/" + prefix + "b", prefix + "b",
        "10.199." + subnet + ".2", canonical_ipv6("fd00:199:" + subnet + "::2")};
  try {
    run_ip({"netns", "add", a_.name});
    run_ip({"netns", "add", b_.name});
    // Both ends are created directly inside their namespaces: no name ever
    // appears in the test's own namespace.
    run_ip({"-n", a_.name, "link", "add", a_.interface, "type", "veth", "peer", "name",
            b_.interface, "netns", b_.name});
    for (const NetnsEnd* end : {&a_, &b_}) {
      run_ip({"-n", end->name, "link", "set", "lo", "up"});
      run_ip({"-n", end->name, "addr", "add", end->ipv4 + "/24", "dev", end->interface});
      run_ip({"-n", end->name, "addr", "add", end->ipv6 + "/64", "dev", end->interface, "nodad"});
      run_ip({"-n", end->name, "link", "set", end->interface, "up"});
    }
  } catch (...) {
    remove();
    throw;
  }
}

NetnsPair::~NetnsPair() {
  remove();
}

void NetnsPair::remove() {
  // Deleting a namespace destroys its veth end, and with it the peer.
  for (const NetnsEnd* end : {&a_, &b_}) {
    if (netns_exists(end->name)) {
      try {
        run_command({"ip", "netns", "delete", end->name}, {}, std::chrono::seconds(10));
      } catch (const Error&) {
        // A destructor must not throw; a leftover is removed by the next run.
      }
    }
  }
}

}  // namespace earshot::test
