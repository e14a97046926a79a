#include "gateway_lab.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <regex>
#include <vector>

#include "common/error.h"
#include "netns.h"
#include "process.h"

namespace earshot::test {
namespace {

void ip(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  check_command(argv, {}, std::chrono::seconds(10));
}

void in(const LabHost& host, const std::vector<std::string>& argv) {
  check_command(argv, {.netns_path = host.path}, std::chrono::seconds(10));
}

// One veth between two namespaces, both ends named there.
void link(const LabHost& a, const std::string& a_if, const LabHost& b, const std::string& b_if) {
  ip({"-n", a.name, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b.name});
}

void address(const LabHost& host, const std::string& interface, const std::string& cidr) {
  std::vector<std::string> argv{"-n", host.name, "addr", "add", cidr, "dev", interface};
  if (cidr.find(':') != std::string::npos) argv.push_back("nodad");
  ip(argv);
}

void up(const LabHost& host, const std::string& interface) {
  ip({"-n", host.name, "link", "set", interface, "up"});
}

}  // namespace

void GatewayLab::remove_leftovers() {
  static const std::regex ours("es([0-9]+)g[a-z]");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/netns", error)) {
    std::string name = entry.path().filename();
    std::smatch match;
    if (!std::regex_match(name, match, ours)) continue;
    pid_t pid = static_cast<pid_t>(std::stol(match[1]));
    if (::kill(pid, 0) == 0 || errno == EPERM) continue;
    run_command({"ip", "netns", "delete", name}, {}, std::chrono::seconds(10));
  }
}

GatewayLab::GatewayLab() {
  remove_leftovers();
  const std::string prefix = "es" + std::to_string(::getpid()) + "g";
  for (auto [host, role] : {std::pair{&speaker, 's'}, std::pair{&second, 'd'},
                            std::pair{&gateway, 'g'}, std::pair{&internet, 'i'}}) {
    host->name = prefix + role;
    host->path = "/var/run/netns/" + host->name;
  }
  try {
    for (const LabHost* host : {&speaker, &second, &gateway, &internet}) {
      ip({"netns", "add", host->name});
      up(*host, "lo");
    }
    link(gateway, kSpeakerLan, speaker, "eth0");
    link(gateway, kSecondLan, second, "eth0");
    link(gateway, kWan, internet, "eth0");
    ip({"-n", speaker.name, "link", "set", "eth0", "address", kSpeakerMac});
    ip({"-n", second.name, "link", "set", "eth0", "address", kSecondMac});

    address(gateway, kSpeakerLan, "192.168.71.1/24");
    address(gateway, kSpeakerLan, "fd71::1/64");
    address(gateway, kSecondLan, "192.168.72.1/24");
    address(gateway, kSecondLan, "fd72::1/64");
    address(gateway, kWan, "203.0.113.1/24");
    address(gateway, kWan, "2001:db8::1/64");
    address(speaker, "eth0", "192.168.71.10/24");
    address(speaker, "eth0", "fd71::10/64");
    address(second, "eth0", "192.168.72.10/24");
    address(second, "eth0", "fd72::10/64");
    address(internet, "eth0", std::string(kServer4) + "/24");
    address(internet, "eth0", std::string(kServer6) + "/64");
    for (const char* interface : {kSpeakerLan, kSecondLan, kWan}) up(gateway, interface);
    for (const LabHost* host : {&speaker, &second, &internet}) up(*host, "eth0");
    ip({"-n", speaker.name, "route", "add", "default", "via", "192.168.71.1"});
    ip({"-n", speaker.name, "-6", "route", "add", "default", "via", "fd71::1"});
    ip({"-n", second.name, "route", "add", "default", "via", "192.168.72.1"});
    ip({"-n", second.name, "-6", "route", "add", "default", "via", "fd72::1"});
    // The internet has no route back to the LAN: only masquerading gets
    // the answers home, as behind a home router.
    in(gateway, {"sysctl", "-q", "-w", "net.ipv4.ip_forward=1"});
    in(gateway, {"sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"});
    in(gateway, {"nft",
                 "add table inet lab_nat; add chain inet lab_nat postrouting "
                 "{ type nat hook postrouting priority 100 ; policy accept ; }; "
                 "add rule inet lab_nat postrouting oifname wan masquerade"});
  } catch (...) {
    remove();
    throw;
  }
}

LabHost GatewayLab::add_device(char role, const std::string& lan, const std::string& mac,
                               int subnet) {
  const std::string net = std::to_string(subnet);
  LabHost device{"es" + std::to_string(::getpid()) + "g" + role, ""};
  device.path = "/var/run/netns/" + device.name;
  ip({"netns", "add", device.name});
  joined_.push_back(device);
  up(device, "lo");
  link(gateway, lan, device, "eth0");
  ip({"-n", device.name, "link", "set", "eth0", "address", mac});
  address(gateway, lan, "192.168." + net + ".1/24");
  address(gateway, lan, "fd" + net + "::1/64");
  address(device, "eth0", "192.168." + net + ".10/24");
  address(device, "eth0", "fd" + net + "::10/64");
  up(gateway, lan);
  up(device, "eth0");
  ip({"-n", device.name, "route", "add", "default", "via", "192.168." + net + ".1"});
  ip({"-n", device.name, "-6", "route", "add", "default", "via", "fd" + net + "::1"});
  return device;
}

void GatewayLab::remove_device(const LabHost& device, const std::string& lan) {
  ip({"-n", gateway.name, "link", "del", lan});
  ip({"netns", "delete", device.name});
  std::erase_if(joined_, [&](const LabHost& h) { return h.name == device.name; });
}

GatewayLab::~GatewayLab() {
  remove();
}

void GatewayLab::remove() {
  std::vector<const LabHost*> hosts{&speaker, &second, &gateway, &internet};
  for (const auto& device : joined_) hosts.push_back(&device);
  for (const LabHost* host : hosts) {
    if (host->name.empty() || !netns_exists(host->name)) continue;
    try {
      run_command({"ip", "netns", "delete", host->name}, {}, std::chrono::seconds(10));
    } catch (const Error&) {
      // A destructor must not throw; a leftover is removed by the next run.
    }
  }
}

}  // namespace earshot::test
