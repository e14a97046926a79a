#include "kernel/hooks.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include "common/error.h"
#include "common/hook_names.h"
#include "common/log.h"
#include "kernel/abi.h"
#include "kernel/bpf_handles.h"
#include "kernel/bpf_objects.h"
#include "kernel/btf_source.h"
#include "kernel/dns_ingress.h"
#include "kernel/lan_interfaces.h"
#include "kernel/netns_scope.h"
#include "kernel/system_paths.h"

namespace earshot::kernel {

namespace {

constexpr int kNfInetLocalIn = 1;  // NF_INET_LOCAL_IN
constexpr int kNfInetForward = 2;   // NF_INET_FORWARD
constexpr int kNfInetLocalOut = 3;  // NF_INET_LOCAL_OUT
constexpr int kNfProtoIpv4 = 2;
constexpr int kNfProtoIpv6 = 10;
// After the filter table (priority 0): we count what was allowed to leave.
constexpr int kNetfilterPriority = 1000;
constexpr int kNetfilterPriorities = 16;
// Until the collector says otherwise (harvest.interval's default).
constexpr std::uint64_t kDefaultHarvestIntervalNs = 1'000'000'000ULL;

BpfLink checked_link(bpf_link* link, const std::string& what) {
  if (!link) throw Error(fmt::format("{}: {}", what, errno_text(errno)));
  return BpfLink(link);
}

// Runs an iterator program once to its end; throws with the reason.
void run_iterator(bpf_program* program) {
  const char* what = bpf_program__section_name(program);
  BpfLink iter = checked_link(bpf_program__attach_iter(program, nullptr), what);
  UniqueFd reader(bpf_iter_create(bpf_link__fd(iter.get())));
  if (!reader) throw Error(fmt::format("{}: bpf_iter_create: {}", what, errno_text(errno)));
  char buf[256];
  while (::read(reader.get(), buf, sizeof buf) > 0) {
  }
}

// Why a kernel-level tier cannot work here, found without loading anything;
// empty if it may.
std::string fentry_missing() {
  std::error_code ec;
  // A modular snd_pcm carries its own BTF; a built-in one is in vmlinux's.
  if (!std::filesystem::exists("/sys/kernel/btf/snd_pcm", ec) &&
      !std::filesystem::exists("/proc/asound", ec))
    return "no BTF for snd_pcm: kernel has no ALSA";
  return {};
}

// The same for the cameras' tier: the V4L2 core (videodev) and its BTF.
std::string v4l2_missing() {
  std::error_code ec;
  if (!std::filesystem::exists("/sys/kernel/btf/videodev", ec) &&
      !std::filesystem::exists("/sys/class/video4linux", ec))
    return "no BTF for videodev: kernel has no V4L2 loaded";
  return {};
}

std::string lsm_missing() {
  try {
    std::string lsms = read_text_file("/sys/kernel/security/lsm");
    if (lsms.find("bpf") == std::string::npos)
      return fmt::format("BPF LSM not active (lsm= is '{}')",
                         lsms.substr(0, lsms.find_last_not_of("\n") + 1));
  } catch (const Error&) {
    // securityfs not mounted: the load itself says whether LSM programs work.
  }
  return {};
}

bool per_namespace(AttachKind kind) {
  return kind == AttachKind::netfilter || kind == AttachKind::netfilter_in ||
         kind == AttachKind::tcx_dns;
}

}  // namespace

struct KernelHooks::Impl {
  HookOptions options;
  MachineOffer offer;
  std::filesystem::path libasound;
  std::map<std::string, std::filesystem::path, std::less<>> libraries;  // soname -> file
  std::map<BpfObject, std::unique_ptr<LoadedObject>> objects;
  std::map<BpfObject, std::string> object_errors;  // why an object is not loaded
  std::vector<BpfLink> links;
  std::vector<BpfLink> netfilter_links;  // given back if half the netfilter tier attached
  std::vector<BpfLink> local_in_links;   // likewise for LOCAL_IN
  std::vector<BpfLink> forward_links;    // likewise for gateway mode's FORWARD hooks
  std::vector<BpfLink> camera_links;     // given back if the cameras' frames hook did not attach
  std::optional<LanInterfaces> lan;      // gateway mode: the map and the tc filters on the LAN
  std::vector<HookStatus> status;
  std::set<std::string, std::less<>> attached;  // hook base names
  std::vector<ProgramRefusal> refused;          // programs the kernel refused, every object
  std::string btf_source;
  std::optional<std::filesystem::path> cgroup2;
  UniqueFd cgroup_root;
  std::vector<std::unique_ptr<DnsIngress>> dns_ingress;  // one a monitored namespace
  bool procfs_poll = false;

  explicit Impl(const HookOptions& o) : options(o) {}

  void unavailable(const std::string& hook, const std::string& reason) {
    status.push_back({hook, false, reason});
    log::warn("hook not attached", {{"hook", hook}, {"reason", reason}});
  }
  // Runs one attachment and records success or the reason it failed.
  bool attempt(const std::string& hook, const std::function<std::string()>& attach) {
    HookStatus s{hook, false, {}};
    try {
      s.detail = attach();
      s.attached = true;
    } catch (const Error& e) {
      s.detail = e.what();
      log::warn("hook not attached", {{"hook", s.hook}, {"reason", s.detail}});
    }
    status.push_back(s);
    return s.attached;
  }

  std::string refusal_of(std::string_view program) const {
    for (const auto& r : refused)
      if (r.program == program) return fmt::format("program {} {}", r.program, r.reason);
    return fmt::format("program {} not loaded", program);
  }
  // The loaded program of that name, or throws why it is not loaded.
  bpf_program* loaded(const LoadedObject& object, std::string_view name) const {
    bpf_program* program = object.program(name);
    if (program && bpf_program__fd(program) >= 0) return program;
    throw Error(refusal_of(name));
  }

  void load_objects();
  void load(BpfObject which, const std::set<std::string>& off);
  const LoadedObject* object_for(const HookSpec& spec);
  void walk_table();
  std::string attach(const HookSpec& spec, const LoadedObject& object,
                     const std::filesystem::path& netns);
  std::string attach_cgroup(const HookSpec& spec, const LoadedObject& object);
  std::string attach_netfilter(const HookSpec& spec, const LoadedObject& object, int hooknum,
                               std::vector<BpfLink>& into);
  std::string attach_tc_lan(const HookSpec& spec, const LoadedObject& object, bool ingress);
  void give_back_forward();
  void set_lan_interfaces();
  std::string lan_detail() const;
  std::string attach_dns(const HookSpec& spec, const LoadedObject& object,
                         const std::filesystem::path& netns);
  std::string run_iterators(const HookSpec& spec, const LoadedObject& object);
  std::string attach_uprobes(const HookSpec& spec, const LoadedObject& object,
                             const std::filesystem::path& library);
  void give_back_netfilter();
  void give_back_local_in();
  void give_back_camera_opens();
  void give_back(std::vector<BpfLink>& links, const std::function<bool(const HookSpec&)>& owns,
                 const std::string& why);
  void set_slot_reclaim(std::uint64_t ns);
  void init_capture_state();
};

// Programs of hooks the plan rules out are left out of their object; so are
// the builds of a ladder past the first, until the first is refused.
void KernelHooks::Impl::load_objects() {
  std::map<BpfObject, std::set<std::string>> off;
  for (const auto& spec : hook_table()) {
    if (!reason_not_loaded(spec, options.plan, offer)) continue;
    for (auto program : spec.all_programs()) off[spec.object].emplace(program);
  }
  load(BpfObject::net, off[BpfObject::net]);
  load(BpfObject::capture_user, off[BpfObject::capture_user]);
  set_slot_reclaim(2 * kDefaultHarvestIntervalNs);
  init_capture_state();
  set_lan_interfaces();
}

// Gateway mode: the FORWARD hook counts packets that came in through these.
void KernelHooks::Impl::set_lan_interfaces() {
  auto it = objects.find(BpfObject::net);
  if (!options.plan.gateway || it == objects.end()) return;
  lan.emplace(options.lan_interfaces, it->second->map("lan_interfaces"));
  for (const auto& name : lan->missing())
    log::warn("gateway: LAN interface not found, followed when it appears", {{"interface", name}});
}

// "from lan1, lan2 (not found yet: lan3)": where a gateway hook counts from.
std::string KernelHooks::Impl::lan_detail() const {
  std::vector<std::string> present;
  std::vector<std::string> missing = lan->missing();
  for (const auto& name : lan->names())
    if (std::find(missing.begin(), missing.end(), name) == missing.end()) present.push_back(name);
  return fmt::format("{}", fmt::join(present, ", ")) +
         (missing.empty() ? "" : fmt::format(" (not found yet: {})", fmt::join(missing, ", ")));
}

void KernelHooks::Impl::load(BpfObject which, const std::set<std::string>& off) {
  LoadRequest request;
  request.which = which;
  request.choice.off = off;
  for (const auto& spec : hook_table())
    if (spec.object == which && !spec.ladder.empty())
      request.choice.ladders.emplace_back(spec.ladder.begin(), spec.ladder.end());
  request.btf_file = options.btf_file.string();
  // Every object loaded before, net first (objects is ordered by BpfObject).
  for (const auto& [earlier, object] : objects) request.share.push_back(object.get());
  try {
    objects[which] = load_object(request, refused);
    object_errors.erase(which);
  } catch (const Error& e) {
    objects.erase(which);
    object_errors[which] = e.what();
  }
}

// The object a hook's programs are in, loaded when its turn comes for the
// objects loaded late: accept (on net's maps), and capture_kernel, loaded
// for one tier at a time at the tier's opens.
const LoadedObject* KernelHooks::Impl::object_for(const HookSpec& spec) {
  if (spec.object == BpfObject::accept && !objects.count(BpfObject::accept) &&
      !object_errors.count(BpfObject::accept)) {
    std::set<std::string> none;
    load(BpfObject::accept, none);
  }
  // The cameras' tier, on the capture maps of the objects before it.
  if (spec.object == BpfObject::capture_video && !objects.count(BpfObject::capture_video) &&
      !object_errors.count(BpfObject::capture_video)) {
    std::set<std::string> off;
    for (const auto& other : hook_table())
      if (other.object == BpfObject::capture_video && reason_not_loaded(other, options.plan, offer))
        for (auto program : other.all_programs()) off.emplace(program);
    load(BpfObject::capture_video, off);
  }
  if (spec.object == BpfObject::capture_kernel && spec.tier_opens) {
    std::set<std::string> off;
    for (const auto& other : hook_table())
      if (other.object == BpfObject::capture_kernel && other.tier != spec.tier)
        for (auto program : other.all_programs()) off.emplace(program);
    objects.erase(BpfObject::capture_kernel);
    load(BpfObject::capture_kernel, off);
  }
  auto it = objects.find(spec.object);
  return it == objects.end() ? nullptr : it->second.get();
}

void KernelHooks::Impl::walk_table() {
  for (const auto& spec : hook_table()) {
    const std::string hook(spec.hook);
    if (auto why = reason_not_loaded(spec, options.plan, offer)) {
      unavailable(hook, *why);
      continue;
    }
    if (auto why = reason_not_needed(spec, options.plan, attached)) {
      unavailable(hook, *why);
      continue;
    }
    if (spec.attach == AttachKind::poll) {
      procfs_poll = true;
      status.push_back({hook, true, std::string(spec.target)});
      attached.insert(hook);
      continue;
    }
    const LoadedObject* object = object_for(spec);
    if (!object) {
      auto error = object_errors.find(spec.object);
      unavailable(hook, error != object_errors.end() ? error->second : "BPF object not loaded");
      continue;
    }
    if (spec.hook == hooks::kCgroupSkbEgress) give_back_netfilter();
    if (spec.hook == hooks::kCgroupSkbIngress) give_back_local_in();
    if (spec.attach == AttachKind::tc_lan_ingress) give_back_forward();
    if (attempt(hook, [&] { return attach(spec, *object, {}); })) {
      attached.insert(hook);
      if (per_namespace(spec.attach))
        for (const auto& path : options.netns_paths)
          attempt(fmt::format("{}@{}", hook, path.filename().string()),
                  [&] { return attach(spec, *object, path); });
    } else if (spec.hook == hooks::kFexitV4l2Frames) {
      give_back_camera_opens();
    } else if (spec.tier_opens) {
      // Without its opens the tier sees nothing: its other hooks say so,
      // and the next tier is tried on a fresh object.
      object_errors[BpfObject::capture_kernel] =
          fmt::format("{} tier not loaded: {}", to_string(*spec.tier), status.back().detail);
      objects.erase(BpfObject::capture_kernel);
    }
  }
}

std::string KernelHooks::Impl::attach(const HookSpec& spec, const LoadedObject& object,
                                      const std::filesystem::path& netns) {
  switch (spec.attach) {
    case AttachKind::cgroup:
      return attach_cgroup(spec, object);
    case AttachKind::netfilter: {
      if (netns.empty()) return attach_netfilter(spec, object, kNfInetLocalOut, netfilter_links);
      NetnsScope inside(netns);
      attach_netfilter(spec, object, kNfInetLocalOut, netfilter_links);
      return netns.string();
    }
    case AttachKind::netfilter_in: {
      if (netns.empty()) return attach_netfilter(spec, object, kNfInetLocalIn, local_in_links);
      NetnsScope inside(netns);
      attach_netfilter(spec, object, kNfInetLocalIn, local_in_links);
      return netns.string();
    }
    case AttachKind::netfilter_forward: {
      if (!lan || !lan->any_present())
        throw Error(fmt::format("no LAN interface found (gateway.lan_interfaces: {})",
                                fmt::join(options.lan_interfaces, ", ")));
      std::string detail = attach_netfilter(spec, object, kNfInetForward, forward_links);
      return fmt::format("{}, from {}", detail, lan_detail());
    }
    case AttachKind::tc_lan_ingress:
      return attach_tc_lan(spec, object, true);
    case AttachKind::tc_lan_egress:
      return attach_tc_lan(spec, object, false);
    case AttachKind::tcx_dns:
      return attach_dns(spec, object, netns);
    case AttachKind::iterator:
      return run_iterators(spec, object);
    case AttachKind::uprobe_libasound:
      return attach_uprobes(spec, object, libasound);
    case AttachKind::uprobe_library: {
      auto library = libraries.find(spec.library);
      if (library == libraries.end()) throw Error(std::string(spec.library) + " not found");
      return attach_uprobes(spec, object, library->second);
    }
    case AttachKind::automatic: {
      std::vector<BpfLink> made;
      std::string detail;
      for (auto name : spec.programs) {
        bpf_program* program = loaded(object, name);
        made.push_back(checked_link(bpf_program__attach(program), std::string(name)));
        detail += (detail.empty() ? "" : ", ") + std::string(bpf_program__section_name(program));
      }
      auto& into = spec.object == BpfObject::capture_video ? camera_links : links;
      for (auto& link : made) into.push_back(std::move(link));
      return detail;
    }
    case AttachKind::poll:
      break;
  }
  throw Error("nothing to attach");
}

// On the root cgroup v2: every namespace's sockets and packets. The first
// loaded build of a ladder; a lower one says what it does without.
std::string KernelHooks::Impl::attach_cgroup(const HookSpec& spec, const LoadedObject& object) {
  std::vector<bpf_program*> programs;
  for (auto name : spec.programs) programs.push_back(loaded(object, name));
  std::string lower;
  for (auto name : spec.ladder) {
    bpf_program* program = object.program(name);
    if (program && bpf_program__fd(program) >= 0) {
      programs.push_back(program);
      break;
    }
    lower += "; without " + std::string(name) + " (" + refusal_of(name) + ")";
  }
  if (programs.empty()) throw Error(refusal_of(spec.ladder.back()));
  if (!cgroup2) throw Error("no cgroup v2 hierarchy mounted");
  if (!cgroup_root)
    throw Error(fmt::format("cannot open {}: {}", cgroup2->string(), errno_text(errno)));
  std::vector<BpfLink> made;
  for (bpf_program* program : programs)
    made.push_back(checked_link(bpf_program__attach_cgroup(program, cgroup_root.get()),
                                std::string(spec.target)));
  for (auto& link : made) links.push_back(std::move(link));
  std::string detail = fmt::format("{} on {}", spec.target, cgroup2->string());
  if (!spec.ladder.empty())
    detail += fmt::format(" ({}{}); counts every network namespace",
                          bpf_program__name(programs.back()), lower);
  return detail;
}

// A BPF netfilter hook owns its priority (EBUSY for a second one, e.g. a
// second earshot in this namespace): take the next free one.
std::string KernelHooks::Impl::attach_netfilter(const HookSpec& spec, const LoadedObject& object,
                                                int hooknum, std::vector<BpfLink>& into) {
  bpf_program* program = loaded(object, spec.programs.front());
  int pf = spec.hook == hooks::kNetfilterIpv4 || spec.hook == hooks::kNetfilterForwardIpv4 ||
                   spec.hook == hooks::kNetfilterLocalInIpv4
               ? kNfProtoIpv4
               : kNfProtoIpv6;
  const char* where = hooknum == kNfInetForward   ? "FORWARD"
                      : hooknum == kNfInetLocalIn ? "LOCAL_IN"
                                                  : "LOCAL_OUT";
  for (int priority = kNetfilterPriority; priority < kNetfilterPriority + kNetfilterPriorities;
       ++priority) {
    LIBBPF_OPTS(bpf_netfilter_opts, opts, .pf = static_cast<__u32>(pf),
                .hooknum = static_cast<__u32>(hooknum), .priority = priority);
    bpf_link* link = bpf_program__attach_netfilter(program, &opts);
    if (link) {
      into.emplace_back(link);
      return fmt::format("{} priority {}", where, priority);
    }
    if (errno != EBUSY) break;
  }
  throw Error(fmt::format("netfilter {}: {}", where, errno_text(errno)));
}

// Half the FORWARD tier would leave one family to tc ingress, which counts
// both: give it back before tc attaches.
void KernelHooks::Impl::give_back_forward() {
  give_back(
      forward_links,
      [](const HookSpec& spec) { return spec.attach == AttachKind::netfilter_forward; },
      "detached: the other family's FORWARD hook did not attach, tc_gateway_ingress counts both");
}

// fentry_v4l2 without its frames hook would count cameras' opens and no
// frame, and keep the syscall tier (which would) away from them: give it
// back, so the syscall tier takes the cameras whole.
void KernelHooks::Impl::give_back_camera_opens() {
  give_back(
      camera_links, [](const HookSpec& spec) { return spec.hook == hooks::kFentryV4l2; },
      "detached: fexit_v4l2_frames (its frames) did not attach, the syscall tier counts "
      "cameras");
}

// Releases `links` and marks the attached hooks `owns` picks as detached,
// with `why`, so the next tier can take their place.
void KernelHooks::Impl::give_back(std::vector<BpfLink>& links,
                                  const std::function<bool(const HookSpec&)>& owns,
                                  const std::string& why) {
  if (links.empty()) return;
  release_links(links);
  for (auto& s : status) {
    const HookSpec* spec = find_hook(s.hook);
    if (!spec || !owns(*spec) || !s.attached) continue;
    s.attached = false;
    s.detail = why;
    log::warn("hook detached", {{"hook", s.hook}, {"reason", why}});
    attached.erase(std::string(spec->hook));
  }
}

// Legacy tc on each LAN interface present, all or none, and on those that
// come later (refresh_interfaces). Each row in the filter slot of its place
// among the table's rows of its attach kind: fixed whatever else attaches.
std::string KernelHooks::Impl::attach_tc_lan(const HookSpec& spec, const LoadedObject& object,
                                             bool ingress) {
  if (!lan) throw Error("gateway mode: no LAN interfaces map");
  std::uint32_t slot = 0;
  for (const auto& row : hook_table()) {
    if (row.hook == spec.hook) break;
    if (row.attach == spec.attach) ++slot;
  }
  lan->attach_tc(loaded(object, spec.programs.front()), ingress, slot);
  return fmt::format("{} of {}", spec.target, lan_detail());
}

// Half a netfilter tier would leave one family to the cgroup_skb program,
// which counts both: give it back before cgroup_skb attaches.
void KernelHooks::Impl::give_back_netfilter() {
  give_back(
      netfilter_links, [](const HookSpec& spec) { return spec.attach == AttachKind::netfilter; },
      "detached: the other family's netfilter hook did not attach, cgroup_skb_egress "
      "counts both");
}

// Likewise for LOCAL_IN, before cgroup_skb_ingress attaches.
void KernelHooks::Impl::give_back_local_in() {
  give_back(
      local_in_links,
      [](const HookSpec& spec) { return spec.attach == AttachKind::netfilter_in; },
      "detached: the other family's LOCAL_IN hook did not attach, cgroup_skb_ingress counts "
      "both");
}

// At tcx ingress of a namespace's interfaces (those that appear later too).
std::string KernelHooks::Impl::attach_dns(const HookSpec& spec, const LoadedObject& object,
                                          const std::filesystem::path& netns) {
  const DnsPrograms programs{loaded(object, spec.programs[0]), loaded(object, spec.programs[1])};
  auto ingress = std::make_unique<DnsIngress>(programs, netns);
  std::string detail = ingress->detail();
  dns_ingress.push_back(std::move(ingress));
  return detail;
}

// Owners of the sockets that predate earshot. The optional iterators first
// make the kernel give every socket of each counted namespace its cookie (a
// socket gets one only when asked; they walk the namespace they are made
// in); without them, sockets never asked for one stay unnamed until they
// send from a task.
std::string KernelHooks::Impl::run_iterators(const HookSpec& spec, const LoadedObject& object) {
  std::vector<bpf_program*> required;
  for (auto name : spec.programs) required.push_back(loaded(object, name));
  std::vector<std::string> missing;
  for (auto name : spec.optional) {
    try {
      bpf_program* program = loaded(object, name);
      run_iterator(program);
      for (const auto& path : options.netns_paths) {
        NetnsScope inside(path);
        run_iterator(program);
      }
    } catch (const Error& e) {
      missing.push_back(e.what());
    }
  }
  for (bpf_program* program : required) run_iterator(program);
  if (missing.empty()) return "existing sockets recorded (iter/tcp, iter/udp, iter/task_file)";
  std::string detail = "existing sockets recorded, except those never given a cookie: ";
  for (std::size_t i = 0; i < missing.size(); ++i) detail += (i ? "; " : "") + missing[i];
  return detail;
}

std::string KernelHooks::Impl::attach_uprobes(const HookSpec& spec, const LoadedObject& object,
                                              const std::filesystem::path& library) {
  std::vector<BpfLink> made;
  for (const auto& probe : spec.uprobes) {
    bpf_program* program = loaded(object, probe.program);
    std::string function(probe.function);
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = probe.on_return, .func_name = function.c_str());
    made.push_back(
        checked_link(bpf_program__attach_uprobe_opts(program, -1, library.c_str(), 0, &opts),
                     fmt::format("uprobe {}:{}", library.string(), function)));
  }
  for (auto& link : made) links.push_back(std::move(link));
  return library.string();
}

void KernelHooks::Impl::set_slot_reclaim(std::uint64_t ns) {
  auto it = objects.find(BpfObject::net);
  if (it == objects.end()) return;
  std::uint32_t zero = 0;
  earshot_net_config config{};
  config.slot_reclaim_ns = ns;
  if (bpf_map_update_elem(bpf_map__fd(it->second->map("net_config")), &zero, &config, BPF_ANY) != 0)
    throw Error(fmt::format("cannot write net_config: {}", errno_text(errno)));
}

// One capture state for every object (the first loaded holds it).
void KernelHooks::Impl::init_capture_state() {
  for (const auto& [which, object] : objects) {
    bpf_map* state = object->map(".data.capture");
    if (!state) continue;
    std::uint32_t zero = 0;
    earshot_capture_state value{};
    value.grace_ns = options.grace_ns;
    if (bpf_map_update_elem(bpf_map__fd(state), &zero, &value, BPF_ANY) != 0)
      throw Error(fmt::format("cannot initialise capture_state: {}", errno_text(errno)));
    return;
  }
}

KernelHooks::KernelHooks(const HookOptions& options) : impl_(std::make_unique<Impl>(options)) {
  install_libbpf_logger();
  bool kernel_has_btf = std::filesystem::exists(kKernelBtfPath);
  BtfSource btf = describe_btf(kernel_has_btf, options.btf_file);
  impl_->btf_source = btf.description;
  if (!btf.usable) log::error("no BTF for this kernel", {{"reason", btf.description}});
  try {
    ensure_tracefs();
  } catch (const Error& e) {
    log::warn("tracepoints may not attach", {{"reason", e.what()}});
  }
  // What this machine offers, found without loading anything.
  impl_->libasound = options.libasound_path.empty() ? find_libasound() : options.libasound_path;
  std::error_code ec;
  MachineOffer& offer = impl_->offer;
  // Without the netfilter program type (before 6.4) the kernel would only
  // refuse those programs with EINVAL: say why instead, and spare the load.
  offer.netfilter_programs = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_NETFILTER, nullptr) != 0;
  offer.libasound = !impl_->libasound.empty();
  for (const auto& spec : hook_table()) {
    if (spec.attach != AttachKind::uprobe_library) continue;
    auto configured = options.library_paths.find(spec.library);
    std::filesystem::path file =
        configured != options.library_paths.end() ? configured->second : find_library(spec.library);
    if (file.empty())
      offer.libraries_missing.emplace(spec.library);
    else
      impl_->libraries.emplace(std::string(spec.library), file);
  }
  offer.proc_asound = std::filesystem::exists("/proc/asound", ec);
  offer.fentry_missing = fentry_missing();
  offer.lsm_missing = lsm_missing();
  offer.v4l2_missing = v4l2_missing();

  impl_->cgroup2 = find_cgroup2_mount(read_text_file("/proc/self/mountinfo"));
  if (impl_->cgroup2)
    impl_->cgroup_root.reset(::open(impl_->cgroup2->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  impl_->load_objects();
  impl_->walk_table();
  for (auto& link : impl_->netfilter_links) impl_->links.push_back(std::move(link));
  impl_->netfilter_links.clear();
  for (auto& link : impl_->local_in_links) impl_->links.push_back(std::move(link));
  impl_->local_in_links.clear();
  for (auto& link : impl_->forward_links) impl_->links.push_back(std::move(link));
  impl_->forward_links.clear();
}

KernelHooks::~KernelHooks() {
  impl_->lan.reset();
  release_links(impl_->links);
}

void KernelHooks::refresh_interfaces() {
  if (impl_->lan) impl_->lan->refresh();
  for (auto& ingress : impl_->dns_ingress) {
    try {
      ingress->refresh();
    } catch (const Error& e) {
      log::error("dns ingress: cannot follow interface changes", {{"error", e.what()}});
    }
  }
}

const std::vector<HookStatus>& KernelHooks::status() const {
  return impl_->status;
}

void KernelHooks::require_an_object() const {
  if (impl_->objects.count(BpfObject::net) || impl_->objects.count(BpfObject::capture_user)) return;
  std::string why =
      impl_->status.empty() ? std::string("no reason recorded") : impl_->status.front().detail;
  throw Error(
      fmt::format("no BPF object loaded ({}); is this run as root, on a kernel with BPF?", why));
}

const std::string& KernelHooks::btf_source() const {
  return impl_->btf_source;
}

bool KernelHooks::procfs_poll() const {
  return impl_->procfs_poll;
}

// Each map from the first object that has it: the objects share them.
MapFds KernelHooks::maps() const {
  auto fd = [&](std::string_view name) {
    for (const auto& [which, object] : impl_->objects)
      if (bpf_map* map = object->map(name)) return bpf_map__fd(map);
    return -1;
  };
  MapFds fds;
  fds.sock_owner = fd("sock_owner");
  fds.flows = fd("flows");
  fds.sock_slots = fd("sock_slots");
  fds.totals = fd("totals");
  fds.lost = fd("lost");
  fds.capture_handles = fd("capture_handles");
  fds.capture_procs = fd("capture_procs");
  fds.events = fd("events");
  fds.watched_devices = fd("watched_devices");
  fds.dns_events = fd("dns_events");
  fds.device_flows = fd("device_flows");
  fds.gateway_totals = fd("gateway_totals");
  return fds;
}

std::vector<ProgramRef> KernelHooks::loaded_programs() const {
  std::vector<ProgramRef> out;
  for (const auto& [which, object] : impl_->objects) {
    bpf_program* prog;
    bpf_object__for_each_program(prog, object->object()) {
      if (bpf_program__fd(prog) >= 0)
        out.push_back({bpf_program__name(prog), bpf_program__fd(prog)});
    }
  }
  return out;
}

void KernelHooks::set_harvest_interval(std::uint64_t interval_ns) {
  impl_->set_slot_reclaim(2 * interval_ns);
}

void KernelHooks::watch_devices(const std::vector<std::uint32_t>& kernel_devs,
                                const std::set<std::uint32_t>& cameras) {
  int fd = maps().watched_devices;
  if (fd < 0) return;
  std::uint32_t key = 0, next = 0;
  std::vector<std::uint32_t> old;
  while (bpf_map_get_next_key(fd, old.empty() ? nullptr : &key, &next) == 0) {
    old.push_back(next);
    key = next;
  }
  for (std::uint32_t dev : old) bpf_map_delete_elem(fd, &dev);
  for (std::uint32_t dev : kernel_devs) {
    std::uint8_t kind = cameras.count(dev) ? EARSHOT_DEVICE_CAMERA : EARSHOT_DEVICE_MICROPHONE;
    if (bpf_map_update_elem(fd, &dev, &kind, BPF_ANY) != 0)
      throw Error(fmt::format("cannot watch device {}:{}: {}", dev >> EARSHOT_MINORBITS,
                              dev & ((1U << EARSHOT_MINORBITS) - 1), errno_text(errno)));
  }
}

}  // namespace earshot::kernel
