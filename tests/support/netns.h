#pragma once
// Two named network namespaces joined by a veth pair, for tests that send
// traffic between processes without anything leaving the machine. Names are
// unique per test process (es<pid>a / es<pid>b, then es<pid>-<n>a ...), so a
// crashed earlier run never collides with this one; leftovers of dead test
// processes are removed when a pair is made.
#include <optional>
#include <string>

namespace earshot::test {

struct NetnsEnd {
  std::string name;       // es1234a
  std::string path;       // /var/run/netns/es1234a: for setns, nsenter and earshot's config
  std::string interface;  // the veth end inside this namespace
  std::string ipv4;       // 10.199.<k>.1 (a) or .2 (b), /24
  std::string ipv6;       // fd00:199:<k>::1 (a) or ::2 (b), /64, no DAD
};

class NetnsPair {
 public:
  // Throws earshot::Error (naming the failing ip command) when it cannot
  // build the pair; whatever was made is removed first.
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const NetnsEnd& a() const { return a_; }
  const NetnsEnd& b() const { return b_; }

  // Why a pair cannot be made here (not root, no `ip`), or nullopt.
  static std::optional<std::string> unavailable_reason();
  // Deletes namespaces with our prefix whose test process is gone.
  static void remove_leftovers();

 private:
  void remove();

  NetnsEnd a_;
  NetnsEnd b_;
};

// True when /var/run/netns/<name> exists.
bool netns_exists(const std::string& name);

// For tests of the daemon against traffic between a NetnsPair: why one
// cannot run here, or nullopt. It needs root (the daemon loads BPF, the
// test makes namespaces), a pair (NetnsPair::unavailable_reason) and, with
// Nft::needed, an `nft` that runs, for nftables' ground truth.
enum class Nft { not_needed, needed };
std::optional<std::string> netns_test_unavailable_reason(Nft nft);

}  // namespace earshot::test
