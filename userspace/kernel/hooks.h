#pragma once
// Loads earshot's BPF objects and attaches every hook this kernel allows,
// walking the hook table (kernel/hook_table.h) in order with the plan's
// rules (kernel/hook_plan.h). A hook that cannot attach is recorded with the
// reason and the rest run: the daemon works with what it has
// (earshot_hook_attached{hook}).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kernel/hook_plan.h"

namespace earshot::kernel {

struct HookStatus {
  std::string hook;  // label value of earshot_hook_attached
  bool attached = false;
  std::string detail;  // why not, or where
};

struct HookOptions {
  std::vector<std::filesystem::path> netns_paths;  // namespaces counted besides our own
  // kernel.btf_file: the kernel's BTF for CO-RE when it has none of its own; empty: its own.
  std::filesystem::path btf_file;
  std::filesystem::path libasound_path;  // capture.libasound; empty: search the usual places
  // capture.libpulse, capture.libpipewire, by soname (kLibpulse, kLibpipewire);
  // a soname not here is searched for in the usual places.
  std::map<std::string, std::filesystem::path, std::less<>> library_paths;
  std::uint64_t grace_ns = 5'000'000'000ULL;
  // gateway.lan_interfaces (gateway mode: plan.gateway); names in our namespace.
  std::vector<std::string> lan_interfaces;
  PlanRequest plan;  // which hooks and tiers the config allows (kernel/hook_plan.h)
};

struct MapFds {
  int sock_owner = -1;
  int flows = -1;
  int sock_slots = -1;
  int totals = -1;
  int lost = -1;
  int capture_handles = -1;
  int capture_procs = -1;
  int events = -1;
  int watched_devices = -1;
  int dns_events = -1;
  int device_flows = -1;    // gateway mode
  int gateway_totals = -1;  // gateway mode
};

struct ProgramRef {
  std::string name;
  int fd = -1;
};

class KernelHooks {
 public:
  explicit KernelHooks(const HookOptions& options);
  ~KernelHooks();
  KernelHooks(const KernelHooks&) = delete;
  KernelHooks& operator=(const KernelHooks&) = delete;

  const std::vector<HookStatus>& status() const;
  // Throws Error with the reason when neither BPF object loaded: the daemon
  // then has nothing to run on. (--check-config prints the hooks instead.)
  void require_an_object() const;
  // Where the BTF for CO-RE relocations comes from, or why there is none.
  const std::string& btf_source() const;
  MapFds maps() const;
  std::vector<ProgramRef> loaded_programs() const;

  // True when the collector should poll /proc/asound (tier 5): allowed, ALSA
  // present, and no kernel-level tier (fentry, LSM) attached.
  bool procfs_poll() const;

  // How often the maps are harvested: a released socket's slot is given to
  // another socket only after two intervals, once its last counts were read.
  void set_harvest_interval(std::uint64_t interval_ns);

  // Without blocking: attaches the DNS program to interfaces that appeared
  // in a monitored namespace since the last call. The collector calls it
  // between ring-buffer polls.
  void refresh_interfaces();

  // Replaces the watched capture device numbers (kernel dev_t encoding);
  // those in `cameras` are watched as cameras, the rest as microphones.
  void watch_devices(const std::vector<std::uint32_t>& kernel_devs,
                     const std::set<std::uint32_t>& cameras = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace earshot::kernel
