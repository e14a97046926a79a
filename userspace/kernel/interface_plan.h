#pragma once
// Which network interfaces take earshot's DNS program, and which version of
// it: pure decisions, separate from netlink and bpf() so they are testable.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace earshot::kernel {

struct NetInterface {
  int index = 0;
  std::string name;
  unsigned short arphrd_type = 0;  // ARPHRD_*, the device type
};

// Whether packets reach tc ingress of this device type with an Ethernet
// header in front of the IP header (Ethernet, Wi-Fi, veth, bridges and
// loopback do; WireGuard, tun, PPP and IP tunnels start at the IP header).
bool has_ethernet_header(unsigned short arphrd_type);

struct InterfaceChanges {
  std::vector<NetInterface> attach;  // present, not yet attached
  std::vector<int> detach;           // attached, no longer present (by index)
  std::vector<int> forget;           // failed once, no longer present
};

// Compares the interfaces present with those attached. An interface that
// failed once is not tried again until it has gone and come back.
InterfaceChanges plan_interface_changes(const std::vector<NetInterface>& present,
                                        const std::set<int>& attached, const std::set<int>& failed);

// Gateway mode: a configured LAN interface whose index is not the one in
// use. It appeared (old 0), went (new 0), or was made again (both set, a
// new index): its old index leaves the LAN set, its new one joins it.
struct LanInterfaceChange {
  std::string name;
  std::uint32_t old_index = 0;
  std::uint32_t new_index = 0;
  friend bool operator==(const LanInterfaceChange&, const LanInterfaceChange&) = default;
};

// `in_use` and `present` map each configured name to its index (0 or no
// entry: absent). The changes come in the order of the names.
std::vector<LanInterfaceChange> plan_lan_changes(
    const std::vector<std::string>& names, const std::map<std::string, std::uint32_t>& in_use,
    const std::map<std::string, std::uint32_t>& present);

}  // namespace earshot::kernel
