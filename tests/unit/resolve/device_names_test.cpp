#include "resolve/device_names.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.h"

namespace earshot::resolve::device_names_test {
namespace {

config::MacAddress mac(std::string_view text) {
  return config::parse_mac(text);
}

TEST(Leases, DnsmasqIpv4Lines) {
  auto leases = parse_leases(
      "1717171717 02:00:00:aa:bb:01 192.168.1.20 kitchen-echo 01:02:00:00:aa:bb:01\n"
      "1717171718 02:00:00:AA:BB:02 192.168.1.21 * *\n"
      "0 02:00:00:aa:bb:03 192.168.1.22 nest-mini *\n");
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[0], (Lease{mac("02:00:00:aa:bb:01"), "kitchen-echo"}));
  EXPECT_EQ(leases[1], (Lease{mac("02:00:00:aa:bb:03"), "nest-mini"}));
}

TEST(Leases, DnsmasqIpv6LinesGiveTheMacOfALinkLayerDuid) {
  auto leases = parse_leases(
      "duid 00:01:00:01:2c:aa:bb:cc:02:00:00:00:00:01\n"
      // DUID-LLT (type 1, Ethernet): the MAC is its last 6 bytes.
      "1717171717 1234 fd00::20 kitchen-echo 00:01:00:01:2c:11:22:33:02:00:00:aa:bb:01\n"
      // DUID-LL (type 3).
      "1717171717 1235 fd00::21 nest-mini 00:03:00:01:02:00:00:aa:bb:03\n"
      // DUID-UUID (type 4): no MAC.
      "1717171717 1236 fd00::22 laptop 00:04:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00\n");
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[0], (Lease{mac("02:00:00:aa:bb:01"), "kitchen-echo"}));
  EXPECT_EQ(leases[1], (Lease{mac("02:00:00:aa:bb:03"), "nest-mini"}));
}

TEST(Leases, OdhcpdStatefile) {
  auto leases = parse_leases(
      // DHCPv4: the MAC as 12 hex digits, then "ipv4".
      "# br-lan 020000aabb01 ipv4 kitchen-echo 1717171717 14 32 192.168.1.20/32 \n"
      // DHCPv6: a DUID-LL, an IAID.
      "# br-lan 00030001020000aabb03 0d0c0b0a nest-mini 1717171717 200 128 fd00::21/128 \n"
      "# br-lan 020000aabb04 ipv4 - 1717171717 15 32 192.168.1.23/32 \n"
      "192.168.1.20 kitchen-echo\n");  // odhcpd's hosts file format: not a lease
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[0], (Lease{mac("02:00:00:aa:bb:01"), "kitchen-echo"}));
  EXPECT_EQ(leases[1], (Lease{mac("02:00:00:aa:bb:03"), "nest-mini"}));
}

TEST(Leases, MalformedLinesAreSkipped) {
  EXPECT_TRUE(parse_leases("garbage\n\n1717 not-a-mac 1.2.3.4 name\n# x y\n").empty());
  config::MacAddress m{};
  EXPECT_FALSE(mac_from_duid("00:01:00:06:2c", m));  // not Ethernet, too short
  EXPECT_FALSE(mac_from_duid("zz", m));
}

TEST(DeviceNamer, ConfigThenLeasesThenMac) {
  test::TempDir dir;
  std::filesystem::path leases = dir.file("dhcp.leases");
  DeviceNamer namer({{mac("02:00:00:aa:bb:01"), "kitchen"}}, leases);
  namer.refresh();  // no file yet
  EXPECT_EQ(namer.name(mac("02:00:00:aa:bb:02")), "02:00:00:aa:bb:02");
  {
    std::ofstream(leases) << "1 02:00:00:aa:bb:01 10.0.0.1 echo *\n"
                             "1 02:00:00:aa:bb:02 10.0.0.2 nest-mini *\n";
  }
  namer.refresh();
  EXPECT_EQ(namer.name(mac("02:00:00:aa:bb:01")), "kitchen");
  EXPECT_EQ(namer.name(mac("02:00:00:aa:bb:02")), "nest-mini");
  EXPECT_EQ(namer.name(mac("02:00:00:aa:bb:09")), "02:00:00:aa:bb:09");
}

}  // namespace
}  // namespace earshot::resolve::device_names_test
