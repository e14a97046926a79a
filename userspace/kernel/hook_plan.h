#pragma once
// Which hooks to try, and why not the others: pure rules over the config,
// what this machine offers, and what attached before. This is where the
// tier ladders are decided (docs/architecture.md, "Tier ladders"):
//   counting   netfilter (both families) or else cgroup_skb;
//   DNS        tcx or else cgroup ingress (and, in gateway mode, tc egress
//              of the LAN interfaces for the answers forwarded to devices);
//   gateway    netfilter FORWARD (both families) or else tc ingress;
//   capture    fentry, or else LSM (both see the same opens); the syscall
//              tier only for what those do not see; libasound beside them;
//              procfs polling only without a kernel-level tier; libpulse
//              and libpipewire (sound servers' clients) beside them all.
//              Cameras: fentry on V4L2, or else the syscall tier.
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/vocabulary.h"
#include "kernel/hook_table.h"

namespace earshot::kernel {

// What the config asks for.
struct PlanRequest {
  std::set<std::string, std::less<>> disabled_hooks;      // kernel.disabled_hooks
  std::vector<Tier> tiers{kTiers.begin(), kTiers.end()};  // capture.tiers
  bool dns_tcx = true;                                    // network.dns_hook allows tcx
  bool dns_cgroup = true;                                 // network.dns_hook allows the cgroup hook
  // capture.extra_devices is not empty: nodes that may not be ALSA PCMs,
  // which only the syscall tier sees.
  bool extra_devices = false;
  std::size_t watched_devices = 0;  // capture nodes watched at start
  bool gateway = false;             // gateway.enabled: the gateway hooks are wanted
  std::size_t watched_cameras = 0;  // of watched_devices, the cameras (V4L2 capture nodes)
};

// What this machine offers, found without loading anything.
struct MachineOffer {
  bool netfilter_programs = true;  // BPF_PROG_TYPE_NETFILTER (6.4+)
  bool libasound = true;           // libasound.so.2 found
  bool proc_asound = true;         // /proc/asound: the kernel has ALSA
  std::string fentry_missing;      // why the fentry tier cannot work; empty: it may
  std::string lsm_missing;         // likewise for the LSM tier
  std::string v4l2_missing;        // why the cameras' fentry tier cannot work; empty: it may
  // Sonames of the uprobe_library hooks' libraries not found (kLibpulse, kLibpipewire).
  std::set<std::string, std::less<>> libraries_missing;
};

// Before loading: why a hook is not loaded at all, or nullopt. Its programs
// are then left out of its object.
std::optional<std::string> reason_not_loaded(const HookSpec& spec, const PlanRequest& request,
                                             const MachineOffer& offer);

// When its turn comes: why a loaded hook is not attached given what
// attached before it (hook base names), or nullopt to try it.
std::optional<std::string> reason_not_needed(const HookSpec& spec, const PlanRequest& request,
                                             const std::set<std::string, std::less<>>& attached);

}  // namespace earshot::kernel
