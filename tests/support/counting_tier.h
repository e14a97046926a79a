#pragma once
// The counting tiers the kernel lane runs its attribution tests under:
// netfilter at LOCAL_OUT and LOCAL_IN (Linux 6.4+), and cgroup_skb egress
// and ingress, the tier for older kernels, forced on any kernel by turning
// the netfilter hooks off.
// Each test checks that the tier it asked for is the one attached, so a
// test of one tier can never pass on the other.
#include <ostream>
#include <string>

#include "daemon.h"

namespace earshot::test {

enum class CountingTier { netfilter, cgroup_skb };

// For test names: "netfilter", "cgroup_skb".
std::string tier_name(CountingTier tier);
// A config section that forces the tier (empty for netfilter, the default).
std::string tier_config(CountingTier tier);
// The hook that counts under the tier (earshot_hook_attached{hook}), and
// the one that counts what sockets receive.
std::string tier_hook(CountingTier tier);
std::string tier_ingress_hook(CountingTier tier);
// How GoogleTest prints the tier (in test names, through ctest).
inline void PrintTo(CountingTier tier, std::ostream* out) {
  *out << tier_name(tier);
}
// Fails the test unless the daemon's counting hook is the tier's.
void expect_counting_tier(DaemonProcess& daemon, CountingTier tier);

}  // namespace earshot::test
