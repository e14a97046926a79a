#include "counting_tier.h"

#include <gtest/gtest.h>

namespace earshot::test {

std::string tier_name(CountingTier tier) {
  return tier == CountingTier::netfilter ? "netfilter" : "cgroup_skb";
}

std::string tier_config(CountingTier tier) {
  if (tier == CountingTier::netfilter) return {};
  return "kernel:\n  disabled_hooks: [netfilter_ipv4, netfilter_ipv6, netfilter_local_in_ipv4, "
         "netfilter_local_in_ipv6]\n";
}

std::string tier_hook(CountingTier tier) {
  return tier == CountingTier::netfilter ? "netfilter_ipv4" : "cgroup_skb_egress";
}

std::string tier_ingress_hook(CountingTier tier) {
  return tier == CountingTier::netfilter ? "netfilter_local_in_ipv4" : "cgroup_skb_ingress";
}

void expect_counting_tier(DaemonProcess& daemon, CountingTier tier) {
  MetricsScrape scrape = daemon.scrape();
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", tier_hook(tier)}}), 1)
      << "the " << tier_name(tier) << " tier is not the one counting:\n"
      << scrape.text("earshot_hook_attached");
  const std::string other = tier_hook(tier == CountingTier::netfilter ? CountingTier::cgroup_skb
                                                                      : CountingTier::netfilter);
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", other}}), 0)
      << "both tiers attached:\n"
      << scrape.text("earshot_hook_attached");
  EXPECT_EQ(scrape.sum("earshot_hook_attached", {{"hook", tier_ingress_hook(tier)}}), 1)
      << "the " << tier_name(tier) << " tier's ingress hook is not attached:\n"
      << scrape.text("earshot_hook_attached");
}

}  // namespace earshot::test
