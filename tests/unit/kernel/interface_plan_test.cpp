#include "kernel/interface_plan.h"

#include <gtest/gtest.h>
#include <net/if_arp.h>

namespace earshot::kernel {
namespace {

std::vector<int> indexes(const std::vector<NetInterface>& interfaces) {
  std::vector<int> out;
  for (const auto& i : interfaces) out.push_back(i.index);
  return out;
}

TEST(InterfacePlanTest, EthernetAndLoopbackCarryALinkHeaderTunnelsDoNot) {
  EXPECT_TRUE(has_ethernet_header(ARPHRD_ETHER));     // Ethernet, Wi-Fi, veth, bridge
  EXPECT_TRUE(has_ethernet_header(ARPHRD_LOOPBACK));  // lo
  EXPECT_FALSE(has_ethernet_header(ARPHRD_NONE));     // WireGuard, tun
  EXPECT_FALSE(has_ethernet_header(ARPHRD_PPP));
  EXPECT_FALSE(has_ethernet_header(ARPHRD_TUNNEL));  // ipip
  EXPECT_FALSE(has_ethernet_header(ARPHRD_RAWIP));   // cellular modems
}

TEST(InterfacePlanTest, FirstScanAttachesToEveryInterface) {
  auto changes = plan_interface_changes(
      {{1, "lo", ARPHRD_LOOPBACK}, {2, "eth0", ARPHRD_ETHER}, {5, "wg0", ARPHRD_NONE}}, {}, {});
  EXPECT_EQ(indexes(changes.attach), (std::vector<int>{1, 2, 5}));
  EXPECT_TRUE(changes.detach.empty());
  EXPECT_TRUE(changes.forget.empty());
}

TEST(InterfacePlanTest, OnlyNewInterfacesAttachAndGoneOnesDetach) {
  auto changes =
      plan_interface_changes({{1, "lo", ARPHRD_LOOPBACK}, {7, "wlan0", ARPHRD_ETHER}}, {1, 2}, {});
  EXPECT_EQ(indexes(changes.attach), (std::vector<int>{7}));
  EXPECT_EQ(changes.detach, (std::vector<int>{2}));
}

TEST(InterfacePlanTest, AFailedInterfaceIsNotRetriedUntilItHasGone) {
  auto present =
      plan_interface_changes({{1, "lo", ARPHRD_LOOPBACK}, {3, "odd0", ARPHRD_ETHER}}, {1}, {3});
  EXPECT_TRUE(present.attach.empty());
  EXPECT_TRUE(present.forget.empty());

  auto gone = plan_interface_changes({{1, "lo", ARPHRD_LOOPBACK}}, {1}, {3});
  EXPECT_EQ(gone.forget, (std::vector<int>{3}));
  EXPECT_TRUE(gone.detach.empty());
}

}  // namespace
}  // namespace earshot::kernel

namespace earshot::kernel {
namespace {

TEST(LanChanges, AnInterfaceThatAppearsJoinsAndOneThatGoesLeaves) {
  auto changes = plan_lan_changes({"lan1", "wlan0", "lan2"}, {{"lan1", 4}, {"lan2", 5}},
                                  {{"lan1", 4}, {"wlan0", 9}});
  EXPECT_EQ(changes, (std::vector<LanInterfaceChange>{{"wlan0", 0, 9}, {"lan2", 5, 0}}));
}

TEST(LanChanges, AnInterfaceMadeAgainMovesToItsNewIndex) {
  auto changes = plan_lan_changes({"br-lan"}, {{"br-lan", 6}}, {{"br-lan", 11}});
  EXPECT_EQ(changes, (std::vector<LanInterfaceChange>{{"br-lan", 6, 11}}));
}

TEST(LanChanges, NothingChangesWhileTheIndexesStayAndNamesNotConfiguredAreIgnored) {
  EXPECT_TRUE(
      plan_lan_changes({"lan1", "lan3"}, {{"lan1", 4}}, {{"lan1", 4}, {"eth9", 2}}).empty());
}

}  // namespace
}  // namespace earshot::kernel
