#pragma once
// earshot's typed configuration, read from YAML (config/earshot.yaml is the
// default and documents every key). Every error names the key path and the
// file:line:col it came from. A missing file section or key takes the default
// written here; an unknown key or a wrong type is an error.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/cidr.h"
#include "config/listen_address.h"
#include "config/mac_address.h"
#include "config/values.h"

namespace earshot::config {

using std::chrono::milliseconds;

// A path from the config whose existence is checked at load, with where it was
// written (1-based; 0 when it did not come from a file) for the error message.
struct SourcePath {
  std::string path;
  int line = 0;
  int column = 0;

  friend bool operator==(const SourcePath&, const SourcePath&) = default;
};

struct WebConfig {
  ListenAddress listen_address{"127.0.0.1", 9737};
  friend bool operator==(const WebConfig&, const WebConfig&) = default;
};

struct LogConfig {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::logfmt;
  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct HarvestConfig {
  milliseconds interval{1000};  // >= kMinHarvestInterval
  friend bool operator==(const HarvestConfig&, const HarvestConfig&) = default;
};
inline constexpr milliseconds kMinHarvestInterval{100};

struct NetworkConfig {
  std::vector<SourcePath> namespaces;  // extra netns files (e.g. /var/run/netns/x); must exist
  DnsHook dns_hook = DnsHook::automatic;
  friend bool operator==(const NetworkConfig&, const NetworkConfig&) = default;
};

struct CaptureConfig {
  bool sysfs = true;                      // watch every PCM capture node listed in /sys/class/sound
  std::vector<SourcePath> extra_devices;  // must exist and be character devices
  std::vector<Tier> tiers{kTiers.begin(), kTiers.end()};  // in the order written, no repeats
  SourcePath libasound;                // empty path = find it; otherwise must exist
  SourcePath libpulse;                 // likewise, libpulse.so.0 (the libpulse tier)
  SourcePath libpipewire;              // likewise, libpipewire-0.3.so.0 (the libpipewire tier)
  milliseconds procfs_interval{1000};  // >= kMinHarvestInterval
  bool cameras = true;  // watch every V4L2 video capture node in /sys/class/video4linux
  std::vector<SourcePath> extra_cameras;  // watched as cameras; must be character devices
  friend bool operator==(const CaptureConfig&, const CaptureConfig&) = default;
};

struct KernelConfig {
  // BTF of the running kernel for one built without /sys/kernel/btf/vmlinux
  // (BTFHub's files, uncompressed); empty path = the kernel's own. Must exist
  // and be a raw BTF file.
  SourcePath btf_file;
  // Hook names (earshot_hook_attached{hook}) neither loaded nor attached:
  // forces a lower tier, or works around a misbehaving hook. Each must be known.
  std::vector<std::string> disabled_hooks;
  friend bool operator==(const KernelConfig&, const KernelConfig&) = default;
};

struct CorrelationConfig {
  milliseconds grace{5000};       // bytes after a capture ends still count, as window "grace"
  milliseconds idle_gap{2000};    // a session ends after this long without frames; > 0
  milliseconds baseline{120000};  // how far back a process's baseline rate is measured; > 0
  friend bool operator==(const CorrelationConfig&, const CorrelationConfig&) = default;
};

struct EventsConfig {
  std::string file = "-";           // JSON lines of sessions and alerts; "-" = stdout
  std::size_t sessions_kept = 100;  // finished sessions /api/sessions lists
  friend bool operator==(const EventsConfig&, const EventsConfig&) = default;
};

struct Destination {
  Cidr cidr;
  std::string name;
  friend bool operator==(const Destination&, const Destination&) = default;
};

struct LimitsConfig {
  std::size_t destinations_per_process = 20;  // label values a process before "other"; >= 1
  std::size_t processes = 256;                // process label values before "other"; >= 1
  std::size_t devices = 64;                   // gateway mode: device label values; >= 1
  std::size_t destinations_per_device = 20;   // gateway mode: per device before "other"; >= 1
  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

struct PolicyConfig {
  std::vector<std::string> capture_allowed;  // process names; empty = no policy
  std::vector<std::string> upload_allowed;   // destination names or addresses; empty = no policy
  friend bool operator==(const PolicyConfig&, const PolicyConfig&) = default;
};

// A LAN device named in the config (gateway.devices).
struct GatewayDevice {
  MacAddress mac{};
  std::string name;
  friend bool operator==(const GatewayDevice&, const GatewayDevice&) = default;
};

// Gateway mode: bytes LAN devices send through this machine, per device
// (source MAC) and destination.
struct GatewayConfig {
  bool enabled = false;
  std::vector<std::string> lan_interfaces;  // interface names; not empty when enabled
  // dnsmasq or odhcpd leases file naming devices not in `devices`; empty:
  // none. Need not exist at start (read when it appears or changes).
  SourcePath leases_file;
  std::vector<GatewayDevice> devices;  // no MAC twice
  // A (device, destination) pair that has sent nothing for this long leaves
  // the kernel's fixed-size table (its counts are kept); >= 1s.
  std::chrono::milliseconds forget_idle_after = std::chrono::minutes(30);
  friend bool operator==(const GatewayConfig&, const GatewayConfig&) = default;
};

// The private and local ranges the default config names.
std::vector<Destination> default_destinations();

struct Config {
  WebConfig web;
  LogConfig log;
  HarvestConfig harvest;
  NetworkConfig network;
  CaptureConfig capture;
  KernelConfig kernel;
  CorrelationConfig correlation;
  EventsConfig events;
  std::vector<Destination> destinations = default_destinations();  // first match wins
  LimitsConfig limits;
  PolicyConfig policy;
  GatewayConfig gateway;
  friend bool operator==(const Config&, const Config&) = default;
};

// YAML text -> Config. Pure: touches no file. source_name prefixes every
// message ("earshot.yaml:7:3: unknown key 'capture.extra_device' ...").
Config parse(std::string_view yaml_text, std::string_view source_name);

// stat()s capture.extra_devices and capture.extra_cameras (must be character
// devices), network.namespaces
// and a non-empty capture.libasound (must exist), and reads a non-empty
// kernel.btf_file (must be a raw BTF file); throws with the entry's line:col.
void check_paths(const Config& config, std::string_view source_name);

// Reads, parses and checks the file; a missing or unreadable file names the path.
Config load_file(const std::filesystem::path& path);

}  // namespace earshot::config
