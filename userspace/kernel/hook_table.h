#pragma once
// Every hook earshot can attach, as data: which BPF object and programs it
// needs, how it attaches, the capture tier it belongs to and what it is for.
// KernelHooks walks this table in order (kernel/hooks.cpp) and the plan
// (kernel/hook_plan.h) decides, row by row, whether to try it.
#include <optional>
#include <string_view>
#include <vector>

#include "common/vocabulary.h"

namespace earshot::kernel {

// The BPF objects (bpf/CMakeLists.txt), each loaded as a unit.
enum class BpfObject { net, accept, capture_user, capture_kernel, capture_video, none };
std::string_view to_string(BpfObject object);

enum class AttachKind {
  cgroup,            // on the root cgroup v2 (every namespace's sockets)
  netfilter,         // LOCAL_OUT, in our namespace and each counted one
  netfilter_in,      // LOCAL_IN, likewise
  netfilter_forward,  // FORWARD, in our namespace (gateway mode)
  tc_lan_ingress,     // legacy tc (clsact) ingress of gateway.lan_interfaces
  tc_lan_egress,      // legacy tc (clsact) egress of gateway.lan_interfaces
  tcx_dns,           // tcx ingress of the counted namespaces' interfaces
  iterator,          // run once at start
  automatic,         // where the program's section says: tracepoint, fentry, fexit, LSM
  uprobe_libasound,  // uprobes on libasound's functions
  uprobe_library,    // uprobes on the functions of HookSpec::library, wherever it is
  poll,              // no program: the collector polls /proc/asound
};

enum class Purpose { counting, owners, dns, capture, gateway };
std::string_view to_string(Purpose purpose);

// The client libraries of the sound servers (HookSpec::library).
inline constexpr std::string_view kLibpulse = "libpulse.so.0";
inline constexpr std::string_view kLibpipewire = "libpipewire-0.3.so.0";

// A uprobe of a library's hook: a program on a function, entry or return.
struct Uprobe {
  std::string_view program;
  std::string_view function;
  bool on_return = false;
};

struct HookSpec {
  std::string_view hook;  // hooks::k* (common/hook_names.h)
  BpfObject object = BpfObject::none;
  AttachKind attach = AttachKind::automatic;
  Purpose purpose = Purpose::capture;
  std::optional<Tier> tier;                // for capture tiers
  std::vector<std::string_view> programs;  // all needed
  std::vector<std::string_view> ladder;    // builds of one program, best first: the first loaded
  std::vector<std::string_view> optional;  // used when loaded, missed otherwise (said in detail)
  std::vector<Uprobe> uprobes;             // AttachKind::uprobe_libasound and uprobe_library
  std::string_view target;                 // cgroup attach point, or what the detail names
  // A kernel-level tier gives up when this hook (its opens) does not attach.
  bool tier_opens = false;
  std::string_view library;  // AttachKind::uprobe_library: the soname probed

  // Every program the hook may load.
  std::vector<std::string_view> all_programs() const;
};

// In attach order: owners before counting (no socket made from then on is
// missed), the iterator for sockets made before, counting last among the
// network hooks; capture tiers strongest first.
const std::vector<HookSpec>& hook_table();
// The row of a hook, by base name; nullptr if none.
const HookSpec* find_hook(std::string_view hook);

}  // namespace earshot::kernel
