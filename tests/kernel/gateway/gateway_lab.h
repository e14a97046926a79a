#pragma once
// Four network namespaces: a speaker and a second LAN device, each on its
// own veth to a gateway that forwards and masquerades them (nft) to an
// "internet" namespace. Names are es<pid>g<role>, so a crashed run's
// leftovers are removed by the next one; the destructor removes them.
#include <string>
#include <vector>

namespace earshot::test {

struct LabHost {
  std::string name;  // es1234gs
  std::string path;  // /var/run/netns/es1234gs
};

class GatewayLab {
 public:
  GatewayLab();  // throws earshot::Error naming the failing command
  ~GatewayLab();
  GatewayLab(const GatewayLab&) = delete;
  GatewayLab& operator=(const GatewayLab&) = delete;

  LabHost speaker, second, gateway, internet;

  // On the gateway: the LAN interfaces and the WAN one.
  static constexpr const char* kSpeakerLan = "lan1";
  static constexpr const char* kSecondLan = "lan2";
  static constexpr const char* kWan = "wan";
  // The devices' MACs, as the gateway sees them.
  static constexpr const char* kSpeakerMac = "02:00:00:aa:bb:01";
  static constexpr const char* kSecondMac = "02:00:00:aa:bb:02";
  // The internet host.
  static constexpr const char* kServer4 = "203.0.113.2";
  static constexpr const char* kServer6 = "2001:db8::2";

  // Deletes namespaces of this pattern whose test process is gone.
  static void remove_leftovers();

  // A LAN device that joins while earshot runs: namespace es<pid>g<role>
  // (role a lowercase letter other than s, d, g, i), on the gateway's new
  // veth `lan`, at 192.168.<subnet>.10/24 and fd<subnet>::10/64 behind
  // .1/::1. Removed with the lab, or earlier by remove_device.
  LabHost add_device(char role, const std::string& lan, const std::string& mac, int subnet);
  // Deletes the device's veth (both ends, at once) and its namespace.
  void remove_device(const LabHost& device, const std::string& lan);

 private:
  void remove();
  std::vector<LabHost> joined_;
};

}  // namespace earshot::test
