#pragma once
// The two gateway tiers the gateway tests run under, and what they share:
// the config that forces the older tier, the daemon's scrape from inside
// the gateway namespace, and whether the tier under test attached.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "daemon.h"
#include "gateway_lab.h"

namespace earshot::test {

enum class GatewayTier { netfilter_forward, tc };

std::string tier_name(GatewayTier tier);
void PrintTo(GatewayTier tier, std::ostream* out);
std::string tier_test_name(const ::testing::TestParamInfo<GatewayTier>& info);

// The config lines that force `tier` (empty for netfilter FORWARD): the
// older tier as a 6.1 kernel has it, tc ingress counting, DNS answers at the
// root cgroup (the gateway's own) and tc egress of the LAN.
std::string tier_config(GatewayTier tier);

MetricsScrape scrape_in(const DaemonProcess& daemon, const LabHost& host);

// Empty when the tier under test attached, else why not (the netfilter
// tier is missing on a kernel before 6.4).
std::string tier_missing(const MetricsScrape& scrape, GatewayTier tier);

}  // namespace earshot::test
