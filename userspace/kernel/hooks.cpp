#include "kernel/hooks.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <functional>

// The ABI first: the skeletons declare global data with its structs.
// clang-format off
#include "kernel/abi.h"
#include "capture_user.skel.h"
#include "net.skel.h"
// clang-format on

#include "common/error.h"
#include "common/hook_names.h"
#include "common/log.h"
#include "kernel/accept_object.h"
#include "kernel/alsa_tier.h"
#include "kernel/bpf_handles.h"
#include "kernel/btf_source.h"
#include "kernel/dns_ingress.h"
#include "kernel/netns_scope.h"
#include "kernel/program_loader.h"
#include "kernel/system_paths.h"

namespace earshot::kernel {

namespace {

// sock_slots holds EARSHOT_SOCK_SLOTS entries for each possible CPU (the
// program indexes it by the CPU it runs on); 0 or a negative errno.
int size_sock_slots(bpf_map* slots) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return cpus < 0 ? cpus : -EINVAL;
  return bpf_map__set_max_entries(slots, static_cast<__u32>(cpus) * EARSHOT_SOCK_SLOTS);
}

constexpr int kNfInetLocalOut = 3;  // NF_INET_LOCAL_OUT
constexpr int kNfProtoIpv4 = 2;
constexpr int kNfProtoIpv6 = 10;
// After the filter table (priority 0): we count what was allowed to leave.
constexpr int kNetfilterPriority = 1000;
constexpr int kNetfilterPriorities = 16;
// Until the collector says otherwise (harvest.interval's default).
constexpr std::uint64_t kDefaultHarvestIntervalNs = 1'000'000'000ULL;

using NetSkeleton = SkeletonPtr<net_bpf, net_bpf__destroy>;
using CaptureUserSkeleton = SkeletonPtr<capture_user_bpf, capture_user_bpf__destroy>;

BpfLink checked_link(bpf_link* link, const std::string& what) {
  if (!link) throw Error(fmt::format("{}: {}", what, errno_text(errno)));
  return BpfLink(link);
}

bool disabled(const HookOptions& options, std::string_view hook) {
  return options.disabled_hooks.count(hooks::base_name(hook)) > 0;
}

// The network object's programs, by hook: a hook turned off in config
// loads none of them.
const std::vector<std::pair<std::string_view, std::vector<std::string>>>& net_programs() {
  static const std::vector<std::pair<std::string_view, std::vector<std::string>>> programs = {
      {hooks::kNetfilterIpv4, {"earshot_nf_local_out4"}},
      {hooks::kNetfilterIpv6, {"earshot_nf_local_out6"}},
      {hooks::kCgroupSkbEgress, {"earshot_cgroup_egress", "earshot_cgroup_egress_basic"}},
      {hooks::kSockCreate, {"earshot_sock_create"}},
      {hooks::kSockRelease, {"earshot_sock_release"}},
      {hooks::kSockops, {"earshot_sockops"}},
      {hooks::kUdpSendmsg4, {"earshot_sendmsg4"}},
      {hooks::kUdpSendmsg6, {"earshot_sendmsg6"}},
      {hooks::kTcxDnsIngress, {"earshot_dns_tcx_eth", "earshot_dns_tcx_l3"}},
      {hooks::kCgroupDnsIngress, {"earshot_dns_ingress"}},
      {hooks::kSocketIterator,
       {"earshot_iter_sockets", "earshot_iter_tcp_cookies", "earshot_iter_udp_cookies"}},
  };
  return programs;
}

// Runs an iterator program once to its end; throws with the reason.
void run_iterator(bpf_program* program, const char* what) {
  BpfLink iter = checked_link(bpf_program__attach_iter(program, nullptr), what);
  UniqueFd reader(bpf_iter_create(bpf_link__fd(iter.get())));
  if (!reader) throw Error(fmt::format("{}: bpf_iter_create: {}", what, errno_text(errno)));
  char buf[256];
  while (::read(reader.get(), buf, sizeof buf) > 0) {
  }
}

}  // namespace

struct KernelHooks::Impl {
  NetSkeleton net;
  CaptureUserSkeleton audio;
  std::vector<BpfLink> links;
  std::vector<HookStatus> status;
  std::vector<ProgramRefusal> refused;  // programs the kernel refused, every object
  std::string btf_source;
  UniqueFd cgroup_root;
  std::unique_ptr<AcceptObject> accept;  // fexit on inet_accept, on net's maps
  std::unique_ptr<AlsaTier> alsa;        // tiers 1 and 2, on the maps of net and audio
  std::vector<std::unique_ptr<DnsIngress>> dns_ingress;  // one a monitored namespace
  bool procfs_poll = false;

  // Runs one attachment, unless the config turned the hook off; records
  // success or the reason it failed.
  void attempt(std::string_view hook, const HookOptions& options,
               const std::function<std::string()>& attach) {
    if (disabled(options, hook))
      return unavailable(std::string(hook), "disabled in config (kernel.disabled_hooks)");
    HookStatus s{std::string(hook), false, {}};
    try {
      s.detail = attach();
      s.attached = true;
    } catch (const Error& e) {
      s.detail = e.what();
      log::warn("hook not attached", {{"hook", s.hook}, {"reason", s.detail}});
    }
    status.push_back(std::move(s));
  }
  void unavailable(const std::string& hook, const std::string& reason) {
    status.push_back({hook, false, reason});
    log::warn("hook not attached", {{"hook", hook}, {"reason", reason}});
  }

  std::string refusal_of(std::string_view program) const {
    for (const auto& r : refused)
      if (r.program == program) return fmt::format("program {} {}", r.program, r.reason);
    return fmt::format("program {} not loaded", program);
  }
  // Throws the reason a program is not loaded: the kernel refused it, or
  // the config turned its hook off.
  void require_loaded(const bpf_program* program) const {
    if (bpf_program__fd(program) >= 0) return;
    std::string name = bpf_program__name(program);
    for (const auto& r : refused)
      if (r.program == name) throw Error(refusal_of(name));
    throw Error(fmt::format("program {} not loaded (disabled in config)", name));
  }

  bpf_object_open_opts object_open_options(const HookOptions& options) const {
    bpf_object_open_opts opts{};
    opts.sz = sizeof opts;
    if (!options.btf_file.empty()) opts.btf_custom_path = options.btf_file.c_str();
    return opts;
  }

  void load_net(const HookOptions& options);
  std::string record_existing_sockets(const HookOptions& options);
  void attach_counting(const HookOptions& options);
  std::string attach_cgroup_skb_egress(bpf_program* program);
  void set_slot_reclaim(std::uint64_t ns);
  void load_audio(const HookOptions& options);
  void load_alsa(const HookOptions& options);
  void attach_syscall_tier(const HookOptions& options);
};

// Tiers 1 and 2 share every capture map with audio (and through it, net);
// without audio's maps they would keep a state nobody reads. Then tier 5.
void KernelHooks::Impl::load_alsa(const HookOptions& options) {
  if (audio) {
    SharedCaptureMaps shared;
    shared.capture_state = bpf_map__fd(audio->maps.data_capture);
    shared.capture_procs = bpf_map__fd(audio->maps.capture_procs);
    shared.tracked_tgids = bpf_map__fd(audio->maps.tracked_tgids);
    shared.events = bpf_map__fd(audio->maps.events);
    shared.lost = bpf_map__fd(audio->maps.lost);
    shared.watched_devices = bpf_map__fd(audio->maps.watched_devices);
    shared.capture_handles = bpf_map__fd(audio->maps.capture_handles);
    AlsaTierOptions tiers;
    tiers.fentry = options.fentry_tier && !disabled(options, hooks::kFentrySndPcm) &&
                   !disabled(options, hooks::kFexitSndPcmXfer);
    tiers.lsm = options.lsm_tier && !disabled(options, hooks::kLsmFileOpen) &&
                !disabled(options, hooks::kLsmFileIoctl);
    tiers.btf_file = options.btf_file;
    alsa = std::make_unique<AlsaTier>(tiers, shared);
    status.insert(status.end(), alsa->status().begin(), alsa->status().end());
  } else {
    for (auto hook :
         {hooks::kFentrySndPcm, hooks::kFexitSndPcmXfer, hooks::kLsmFileOpen, hooks::kLsmFileIoctl})
      unavailable(std::string(hook),
                  "the capture_user BPF object (whose maps it shares) did not load");
  }
  std::error_code ec;
  if (!options.procfs_tier)
    unavailable("procfs_poll", "disabled in config (capture.tiers)");
  else if (disabled(options, hooks::kProcfsPoll))
    unavailable("procfs_poll", "disabled in config (kernel.disabled_hooks)");
  else if (alsa && alsa->kernel_tier_attached())
    unavailable("procfs_poll", "not needed: a kernel-level tier is attached");
  else if (!std::filesystem::exists("/proc/asound", ec))
    unavailable("procfs_poll", "no /proc/asound: kernel has no ALSA");
  else {
    procfs_poll = true;
    status.push_back({"procfs_poll", true, "/proc/asound/card*/pcm*c/sub*/status"});
  }
}

void KernelHooks::Impl::set_slot_reclaim(std::uint64_t ns) {
  if (!net) return;
  std::uint32_t zero = 0;
  earshot_net_config config{};
  config.slot_reclaim_ns = ns;
  if (bpf_map_update_elem(bpf_map__fd(net->maps.net_config), &zero, &config, BPF_ANY) != 0)
    throw Error(fmt::format("cannot write net_config: {}", errno_text(errno)));
}

void KernelHooks::Impl::load_net(const HookOptions& options) {
  ProgramChoice choice;
  for (const auto& [hook, programs] : net_programs())
    if (disabled(options, hook)) choice.off.insert(programs.begin(), programs.end());
  // Two builds of the cgroup_skb counter: with and without naming owners
  // from the current task (counting_cgroup_skb.bpf.c).
  choice.ladders.push_back({"earshot_cgroup_egress", "earshot_cgroup_egress_basic"});
  // A kernel without the netfilter program type (before 6.4) would only
  // refuse them with EINVAL: say why instead, and spare the failed load.
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_NETFILTER, nullptr) == 0) {
    for (const char* program : {"earshot_nf_local_out4", "earshot_nf_local_out6"}) {
      choice.off.insert(program);
      refused.push_back(
          {program, "not loaded: this kernel has no netfilter BPF programs (6.4+)", {}});
    }
  }
  const auto open_opts = object_open_options(options);
  try {
    net = load_programs_alone<net_bpf, net_bpf__destroy>(
        "network", [&] { return net_bpf__open_opts(&open_opts); },
        [](net_bpf& s) {
          if (int err = size_sock_slots(s.maps.sock_slots); err)
            throw Error(fmt::format("cannot size sock_slots: {}", errno_text(err)));
        },
        net_bpf__load, choice, refused);
  } catch (const Error& e) {
    for (const auto& [hook, programs] : net_programs()) unavailable(std::string(hook), e.what());
    unavailable(std::string(hooks::kFexitAccept), e.what());
    return;
  }

  set_slot_reclaim(2 * kDefaultHarvestIntervalNs);

  // Owners first, so no socket created from here on is missed; then the
  // iterator for those that already exist; then the counting hooks.
  std::string mountinfo = read_text_file("/proc/self/mountinfo");
  auto cgroup2 = find_cgroup2_mount(mountinfo);
  if (cgroup2) cgroup_root.reset(::open(cgroup2->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto attach_cgroup = [&](bpf_program* prog, const char* what) -> std::string {
    require_loaded(prog);
    if (!cgroup2) throw Error("no cgroup v2 hierarchy mounted");
    if (!cgroup_root)
      throw Error(fmt::format("cannot open {}: {}", cgroup2->string(), errno_text(errno)));
    links.push_back(checked_link(bpf_program__attach_cgroup(prog, cgroup_root.get()), what));
    return fmt::format("{} on {}", what, cgroup2->string());
  };
  attempt(hooks::kSockCreate, options,
          [&] { return attach_cgroup(net->progs.earshot_sock_create, "cgroup/sock_create"); });
  // Before any packet claims a slot: a slot whose socket's release was
  // missed stays taken (its socket then counts through the flows map).
  attempt(hooks::kSockRelease, options,
          [&] { return attach_cgroup(net->progs.earshot_sock_release, "cgroup/sock_release"); });
  attempt(hooks::kSockops, options,
          [&] { return attach_cgroup(net->progs.earshot_sockops, "sockops"); });
  // sendto() past a connection: before any packet, so none is counted under
  // the connection's destination.
  attempt(hooks::kUdpSendmsg4, options,
          [&] { return attach_cgroup(net->progs.earshot_sendmsg4, "cgroup/sendmsg4"); });
  attempt(hooks::kUdpSendmsg6, options,
          [&] { return attach_cgroup(net->progs.earshot_sendmsg6, "cgroup/sendmsg6"); });
  // DNS answers: at tcx ingress of the monitored namespaces' interfaces,
  // where only their packets pay; the root cgroup's ingress (packets for
  // local sockets of every namespace) on kernels without tcx, or when
  // network.dns_hook says cgroup (a router, whose forwarded packets pass tcx).
  const DnsPrograms dns{net->progs.earshot_dns_tcx_eth, net->progs.earshot_dns_tcx_l3};
  auto attach_dns = [&](const std::filesystem::path& netns) {
    require_loaded(dns.ethernet);
    require_loaded(dns.ip);
    auto ingress = std::make_unique<DnsIngress>(dns, netns);
    std::string detail = ingress->detail();
    dns_ingress.push_back(std::move(ingress));
    return detail;
  };
  if (options.dns_tcx)
    attempt(hooks::kTcxDnsIngress, options, [&] { return attach_dns({}); });
  else
    unavailable(std::string(hooks::kTcxDnsIngress),
                "disabled in config (network.dns_hook: cgroup)");
  if (!dns_ingress.empty()) {
    unavailable(std::string(hooks::kCgroupDnsIngress), "not needed: tcx_dns_ingress is attached");
    for (const auto& path : options.netns_paths)
      attempt(fmt::format("{}@{}", hooks::kTcxDnsIngress, path.filename().string()), options,
              [&] { return attach_dns(path); });
  } else if (!options.dns_cgroup) {
    unavailable(std::string(hooks::kCgroupDnsIngress),
                "disabled in config (network.dns_hook: tcx)");
  } else {
    attempt(hooks::kCgroupDnsIngress, options, [&] {
      return attach_cgroup(net->progs.earshot_dns_ingress, "cgroup_skb/ingress (DNS answers)");
    });
  }
  // Accepted sockets: fexit costs only accept(). Without it the counting
  // program learns the owner from the socket's first packet a task sends
  // (counting.bpf.h, learn_owner), where the sys_exit_accept* tracepoints would
  // slow every system call of every process.
  attempt(hooks::kFexitAccept, options, [&] {
    auto object = std::make_unique<AcceptObject>(net->obj, open_opts);
    links.push_back(checked_link(bpf_program__attach(object->program()), "fexit/inet_accept"));
    accept = std::move(object);
    return std::string("fexit/inet_accept");
  });
  attempt(hooks::kSocketIterator, options, [&] { return record_existing_sockets(options); });
  attach_counting(options);
}

// Owners of the sockets that predate earshot. The tcp and udp iterators
// first make the kernel give every socket of each counted namespace its
// cookie (a socket gets one only when asked); without them, sockets never
// asked for one stay unnamed until they send from a task (TCP).
std::string KernelHooks::Impl::record_existing_sockets(const HookOptions& options) {
  require_loaded(net->progs.earshot_iter_sockets);
  std::vector<std::string> missing;
  for (bpf_program* cookies :
       {net->progs.earshot_iter_tcp_cookies, net->progs.earshot_iter_udp_cookies}) {
    try {
      require_loaded(cookies);
      run_iterator(cookies, bpf_program__section_name(cookies));
      for (const auto& path : options.netns_paths) {
        NetnsScope inside(path);  // the iterator walks the namespace it is made in
        run_iterator(cookies, bpf_program__section_name(cookies));
      }
    } catch (const Error& e) {
      missing.push_back(e.what());
    }
  }
  run_iterator(net->progs.earshot_iter_sockets, "iter/task_file");
  if (missing.empty()) return "existing sockets recorded (iter/tcp, iter/udp, iter/task_file)";
  std::string detail = "existing sockets recorded, except those never given a cookie: ";
  for (std::size_t i = 0; i < missing.size(); ++i) detail += (i ? "; " : "") + missing[i];
  return detail;
}

// Counting: netfilter at LOCAL_OUT in each counted namespace where the
// kernel has netfilter programs (6.4+), else cgroup_skb egress on the root
// cgroup, which counts every namespace. One tier only: both would count
// each packet twice.
void KernelHooks::Impl::attach_counting(const HookOptions& options) {
  // A BPF netfilter hook owns its priority (EBUSY for a second one, e.g. a
  // second earshot in this namespace): take the next free one.
  // One program per family: each knows its family as a constant.
  std::vector<BpfLink> netfilter;
  auto attach_netfilter = [&](int pf) -> std::string {
    bpf_program* program =
        pf == kNfProtoIpv4 ? net->progs.earshot_nf_local_out4 : net->progs.earshot_nf_local_out6;
    require_loaded(program);
    for (int priority = kNetfilterPriority; priority < kNetfilterPriority + kNetfilterPriorities;
         ++priority) {
      LIBBPF_OPTS(bpf_netfilter_opts, opts, .pf = static_cast<__u32>(pf),
                  .hooknum = kNfInetLocalOut, .priority = priority);
      bpf_link* link = bpf_program__attach_netfilter(program, &opts);
      if (link) {
        netfilter.emplace_back(link);
        return fmt::format("LOCAL_OUT priority {}", priority);
      }
      if (errno != EBUSY) break;
    }
    throw Error(fmt::format("netfilter LOCAL_OUT: {}", errno_text(errno)));
  };
  const std::size_t first = status.size();
  attempt(hooks::kNetfilterIpv4, options, [&] { return attach_netfilter(kNfProtoIpv4); });
  attempt(hooks::kNetfilterIpv6, options, [&] { return attach_netfilter(kNfProtoIpv6); });
  const bool netfilter_tier = status[first].attached && status[first + 1].attached;
  if (netfilter_tier) {
    for (const auto& path : options.netns_paths) {
      for (int pf : {kNfProtoIpv4, kNfProtoIpv6}) {
        std::string_view hook = pf == kNfProtoIpv4 ? hooks::kNetfilterIpv4 : hooks::kNetfilterIpv6;
        attempt(fmt::format("{}@{}", hook, path.filename().string()), options, [&] {
          NetnsScope inside(path);
          attach_netfilter(pf);
          return path.string();
        });
      }
    }
    for (auto& link : netfilter) links.push_back(std::move(link));
    unavailable(std::string(hooks::kCgroupSkbEgress),
                "not needed: netfilter_ipv4 and netfilter_ipv6 count at LOCAL_OUT");
    return;
  }
  // Half a netfilter tier would leave one family to the cgroup_skb program,
  // which counts both: give it back.
  netfilter.clear();
  for (std::size_t i = first; i < first + 2; ++i) {
    if (!status[i].attached) continue;
    status[i].attached = false;
    status[i].detail =
        "detached: the other family's netfilter hook did not attach, "
        "cgroup_skb_egress counts both";
  }
  attempt(hooks::kCgroupSkbEgress, options, [&] {
    bpf_program* program = bpf_program__fd(net->progs.earshot_cgroup_egress) >= 0
                               ? net->progs.earshot_cgroup_egress
                               : net->progs.earshot_cgroup_egress_basic;
    std::string detail = attach_cgroup_skb_egress(program);
    if (program == net->progs.earshot_cgroup_egress_basic)
      detail += "; without naming accepted sockets' owners from the sending task (" +
                refusal_of("earshot_cgroup_egress") + ")";
    return detail + "; counts every network namespace";
  });
}

std::string KernelHooks::Impl::attach_cgroup_skb_egress(bpf_program* program) {
  require_loaded(program);
  if (!cgroup_root) throw Error("no cgroup v2 hierarchy mounted");
  links.push_back(
      checked_link(bpf_program__attach_cgroup(program, cgroup_root.get()), "cgroup_skb/egress"));
  return fmt::format("cgroup_skb/egress ({})", bpf_program__name(program));
}

void KernelHooks::Impl::load_audio(const HookOptions& options) {
  // The capture_user object's programs, by hook: a hook turned off in config (or
  // its tier in capture.tiers) loads none of them.
  static const std::vector<std::pair<std::string_view, std::vector<std::string>>> kPrograms = {
      {hooks::kUprobeLibasound,
       {"earshot_pcm_open", "earshot_pcm_open_ret", "earshot_pcm_close", "earshot_pcm_readi",
        "earshot_pcm_read_ret", "earshot_pcm_mmap_commit"}},
      {hooks::kTracepointOpen, {"earshot_exit_openat", "earshot_exit_openat2"}},
      {hooks::kTracepointClose, {"earshot_enter_close"}},
      {hooks::kTracepointRead,
       {"earshot_enter_read", "earshot_exit_read", "earshot_enter_ioctl", "earshot_exit_ioctl"}},
      {hooks::kTracepointProcessExit, {"earshot_process_exit"}},
  };
  std::filesystem::path libasound =
      options.libasound_path.empty() ? find_libasound() : options.libasound_path;
  auto wanted = [&](std::string_view hook) {
    if (disabled(options, hook)) return false;
    if (hook == hooks::kUprobeLibasound) return options.libasound_tier && !libasound.empty();
    if (hook == hooks::kTracepointProcessExit) return true;
    return options.syscall_tier;
  };
  ProgramChoice choice;
  for (const auto& [hook, programs] : kPrograms)
    if (!wanted(hook)) choice.off.insert(programs.begin(), programs.end());
  const auto open_opts = object_open_options(options);
  try {
    audio = load_programs_alone<capture_user_bpf, capture_user_bpf__destroy>(
        "capture_user", [&] { return capture_user_bpf__open_opts(&open_opts); },
        [&](capture_user_bpf& a) {
          if (!net) return;
          // One copy of the shared maps: the capture_user object uses the network object's.
          auto reuse = [](bpf_map* into, bpf_map* from) {
            int err = bpf_map__reuse_fd(into, bpf_map__fd(from));
            if (err)
              throw Error(
                  fmt::format("cannot share map {}: {}", bpf_map__name(into), errno_text(err)));
          };
          reuse(a.maps.data_capture, net->maps.data_capture);
          reuse(a.maps.capture_procs, net->maps.capture_procs);
          reuse(a.maps.tracked_tgids, net->maps.tracked_tgids);
          reuse(a.maps.events, net->maps.events);
          reuse(a.maps.lost, net->maps.lost);
        },
        capture_user_bpf__load, choice, refused);
  } catch (const Error& e) {
    for (auto hook : {hooks::kTracepointOpen, hooks::kTracepointClose, hooks::kTracepointRead,
                      hooks::kTracepointProcessExit, hooks::kUprobeLibasound})
      unavailable(std::string(hook), e.what());
    return;
  }

  attempt(hooks::kTracepointProcessExit, options, [&] {
    require_loaded(audio->progs.earshot_process_exit);
    links.push_back(checked_link(bpf_program__attach(audio->progs.earshot_process_exit),
                                 "sched/sched_process_exit"));
    return std::string("sched/sched_process_exit");
  });
  if (!options.libasound_tier) {
    unavailable("uprobe_libasound", "disabled in config (capture.tiers)");
  } else if (libasound.empty()) {
    unavailable("uprobe_libasound", "libasound.so.2 not found");
  } else {
    attempt(hooks::kUprobeLibasound, options, [&] {
      auto uprobe = [&](bpf_program* prog, const char* func, bool ret) {
        require_loaded(prog);
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret, .func_name = func);
        links.push_back(
            checked_link(bpf_program__attach_uprobe_opts(prog, -1, libasound.c_str(), 0, &opts),
                         fmt::format("uprobe {}:{}", libasound.string(), func)));
      };
      uprobe(audio->progs.earshot_pcm_open, "snd_pcm_open", false);
      uprobe(audio->progs.earshot_pcm_open_ret, "snd_pcm_open", true);
      uprobe(audio->progs.earshot_pcm_close, "snd_pcm_close", false);
      for (const char* read : {"snd_pcm_readi", "snd_pcm_readn"}) {
        uprobe(audio->progs.earshot_pcm_readi, read, false);
        uprobe(audio->progs.earshot_pcm_read_ret, read, true);
      }
      uprobe(audio->progs.earshot_pcm_mmap_commit, "snd_pcm_mmap_commit", false);
      uprobe(audio->progs.earshot_pcm_read_ret, "snd_pcm_mmap_commit", true);
      return libasound.string();
    });
  }
}

// Tier 3 after tiers 1 and 2: a syscall tracepoint, however narrow, sends
// every system call of every process through the slow entry and exit path
// (+70-100 ns a call here), so it attaches only where it sees something the
// kernel-level tiers do not: user-named nodes, or ALSA capture nodes when
// neither attached. Like the watched nodes it is chosen at start: a
// microphone that appears later is seen by the libasound uprobes, and by
// the rest after a restart.
void KernelHooks::Impl::attach_syscall_tier(const HookOptions& options) {
  static const std::vector<std::string> kSyscallHooks = {"tracepoint_open", "tracepoint_close",
                                                         "tracepoint_read"};
  if (!audio) return;  // load_audio recorded why
  if (!options.syscall_tier) {
    for (const auto& hook : kSyscallHooks) unavailable(hook, "disabled in config (capture.tiers)");
    return;
  }
  if (!options.extra_devices) {
    std::string why;
    if (alsa && alsa->kernel_tier_attached())
      why = "not needed: a kernel-level tier is attached";
    else if (options.watched_devices == 0)
      why =
          "not needed: no capture device to watch (no ALSA capture node, no "
          "capture.extra_devices)";
    if (!why.empty()) {
      for (const auto& hook : kSyscallHooks) unavailable(hook, why);
      return;
    }
  }
  attempt(hooks::kTracepointOpen, options, [&] {
    require_loaded(audio->progs.earshot_exit_openat);
    require_loaded(audio->progs.earshot_exit_openat2);
    links.push_back(
        checked_link(bpf_program__attach(audio->progs.earshot_exit_openat), "sys_exit_openat"));
    links.push_back(
        checked_link(bpf_program__attach(audio->progs.earshot_exit_openat2), "sys_exit_openat2"));
    return std::string("syscalls/sys_exit_openat, sys_exit_openat2");
  });
  attempt(hooks::kTracepointClose, options, [&] {
    require_loaded(audio->progs.earshot_enter_close);
    links.push_back(
        checked_link(bpf_program__attach(audio->progs.earshot_enter_close), "sys_enter_close"));
    return std::string("syscalls/sys_enter_close");
  });
  attempt(hooks::kTracepointRead, options, [&] {
    for (bpf_program* prog : {audio->progs.earshot_enter_read, audio->progs.earshot_exit_read,
                              audio->progs.earshot_enter_ioctl, audio->progs.earshot_exit_ioctl}) {
      require_loaded(prog);
      links.push_back(checked_link(bpf_program__attach(prog), bpf_program__name(prog)));
    }
    return std::string("syscalls/sys_{enter,exit}_{read,ioctl}");
  });
}

KernelHooks::KernelHooks(const HookOptions& options) : impl_(std::make_unique<Impl>()) {
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
  impl_->load_net(options);
  impl_->load_audio(options);
  impl_->load_alsa(options);
  impl_->attach_syscall_tier(options);
  std::uint32_t zero = 0;
  earshot_capture_state state{};
  state.grace_ns = options.grace_ns;
  int state_fd = impl_->net ? bpf_map__fd(impl_->net->maps.data_capture)
                            : (impl_->audio ? bpf_map__fd(impl_->audio->maps.data_capture) : -1);
  if (state_fd >= 0 && bpf_map_update_elem(state_fd, &zero, &state, BPF_ANY) != 0)
    throw Error(fmt::format("cannot initialise capture_state: {}", errno_text(errno)));
}

KernelHooks::~KernelHooks() {
  release_links(impl_->links);
}

void KernelHooks::refresh_interfaces() {
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
  if (impl_->net || impl_->audio) return;
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

MapFds KernelHooks::maps() const {
  MapFds fds;
  if (impl_->net) {
    fds.sock_owner = bpf_map__fd(impl_->net->maps.sock_owner);
    fds.flows = bpf_map__fd(impl_->net->maps.flows);
    fds.sock_slots = bpf_map__fd(impl_->net->maps.sock_slots);
    fds.totals = bpf_map__fd(impl_->net->maps.totals);
    fds.lost = bpf_map__fd(impl_->net->maps.lost);
    fds.capture_procs = bpf_map__fd(impl_->net->maps.capture_procs);
    fds.events = bpf_map__fd(impl_->net->maps.events);
    fds.dns_events = bpf_map__fd(impl_->net->maps.dns_events);
  }
  if (impl_->audio) {
    fds.capture_handles = bpf_map__fd(impl_->audio->maps.capture_handles);
    fds.watched_devices = bpf_map__fd(impl_->audio->maps.watched_devices);
    if (!impl_->net) {
      fds.lost = bpf_map__fd(impl_->audio->maps.lost);
      fds.capture_procs = bpf_map__fd(impl_->audio->maps.capture_procs);
      fds.events = bpf_map__fd(impl_->audio->maps.events);
    }
  }
  return fds;
}

std::vector<ProgramRef> KernelHooks::loaded_programs() const {
  std::vector<ProgramRef> out;
  auto collect = [&](bpf_object* obj) {
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
      if (bpf_program__fd(prog) >= 0)
        out.push_back({bpf_program__name(prog), bpf_program__fd(prog)});
    }
  };
  if (impl_->net) collect(impl_->net->obj);
  if (impl_->accept)
    for (auto& p : impl_->accept->loaded_programs()) out.push_back(std::move(p));
  if (impl_->audio) collect(impl_->audio->obj);
  if (impl_->alsa)
    for (auto& p : impl_->alsa->loaded_programs()) out.push_back(std::move(p));
  return out;
}

void KernelHooks::set_harvest_interval(std::uint64_t interval_ns) {
  impl_->set_slot_reclaim(2 * interval_ns);
}

void KernelHooks::watch_devices(const std::vector<std::uint32_t>& kernel_devs) {
  int fd = maps().watched_devices;
  if (fd < 0) return;
  std::uint32_t key = 0, next = 0;
  std::vector<std::uint32_t> old;
  while (bpf_map_get_next_key(fd, old.empty() ? nullptr : &key, &next) == 0) {
    old.push_back(next);
    key = next;
  }
  for (std::uint32_t dev : old) bpf_map_delete_elem(fd, &dev);
  std::uint8_t one = 1;
  for (std::uint32_t dev : kernel_devs) {
    if (bpf_map_update_elem(fd, &dev, &one, BPF_ANY) != 0)
      throw Error(fmt::format("cannot watch device {}:{}: {}", dev >> EARSHOT_MINORBITS,
                              dev & ((1U << EARSHOT_MINORBITS) - 1), errno_text(errno)));
  }
}

}  // namespace earshot::kernel
