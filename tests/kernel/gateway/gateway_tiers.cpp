#include "gateway_tiers.h"

#include "in_netns.h"

namespace earshot::test {

std::string tier_name(GatewayTier tier) {
  return tier == GatewayTier::netfilter_forward ? "netfilter_forward" : "tc";
}

void PrintTo(GatewayTier tier, std::ostream* out) {
  *out << tier_name(tier);
}

std::string tier_test_name(const ::testing::TestParamInfo<GatewayTier>& info) {
  return tier_name(info.param);
}

std::string tier_config(GatewayTier tier) {
  if (tier != GatewayTier::tc) return "";
  return "kernel:\n  disabled_hooks: [netfilter_forward_ipv4, netfilter_forward_ipv6, "
         "tcx_dns_ingress]\n";
}

MetricsScrape scrape_in(const DaemonProcess& daemon, const LabHost& host) {
  MetricsScrape scrape;
  run_in_netns(host.path, [&] { scrape = daemon.scrape(); });
  return scrape;
}

std::string tier_missing(const MetricsScrape& scrape, GatewayTier tier) {
  if (tier == GatewayTier::netfilter_forward &&
      scrape.sum("earshot_hook_attached", {{"hook", "netfilter_forward_ipv4"}}) != 1)
    return "netfilter_forward_ipv4 did not attach (a kernel before 6.4):\n" +
           scrape.text("earshot_hook_attached");
  if (tier == GatewayTier::tc)
    for (const char* hook : {"tc_gateway_ingress", "tc_gateway_lan_egress"})
      if (scrape.sum("earshot_hook_attached", {{"hook", hook}}) != 1)
        return std::string(hook) + " did not attach:\n" + scrape.text("earshot_hook_attached");
  return "";
}

}  // namespace earshot::test
