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
#include "audio.skel.h"
#include "net.skel.h"
// clang-format on

#include "common/error.h"
#include "common/log.h"
#include "kernel/accept_object.h"
#include "kernel/alsa_tier.h"
#include "kernel/bpf_handles.h"
#include "kernel/dns_ingress.h"
#include "kernel/netns_scope.h"
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
using AudioSkeleton = SkeletonPtr<audio_bpf, audio_bpf__destroy>;

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  char line[1024];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  // Failures are reported per hook, with reasons; libbpf's own words are detail.
  log::write(level == LIBBPF_WARN ? spdlog::level::debug : spdlog::level::trace, "libbpf",
             {{"text", text}});
  return 0;
}

BpfLink checked_link(bpf_link* link, const std::string& what) {
  if (!link) throw Error(fmt::format("{}: {}", what, errno_text(errno)));
  return BpfLink(link);
}

}  // namespace

struct KernelHooks::Impl {
  NetSkeleton net;
  AudioSkeleton audio;
  std::vector<BpfLink> links;
  std::vector<HookStatus> status;
  UniqueFd cgroup_root;
  std::unique_ptr<AcceptObject> accept;  // fexit on inet_accept, on net's maps
  std::unique_ptr<AlsaTier> alsa;        // tiers 1 and 2, on the maps of net and audio
  std::vector<std::unique_ptr<DnsIngress>> dns_ingress;  // one a monitored namespace
  bool procfs_poll = false;

  // Runs one attachment; records success or the reason it failed.
  void attempt(const std::string& hook, const std::function<std::string()>& attach) {
    HookStatus s{hook, false, {}};
    try {
      s.detail = attach();
      s.attached = true;
    } catch (const Error& e) {
      s.detail = e.what();
      log::warn("hook not attached", {{"hook", hook}, {"reason", s.detail}});
    }
    status.push_back(std::move(s));
  }
  void unavailable(const std::string& hook, const std::string& reason) {
    status.push_back({hook, false, reason});
    log::warn("hook not attached", {{"hook", hook}, {"reason", reason}});
  }

  void load_net(const HookOptions& options);
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
    alsa =
        std::make_unique<AlsaTier>(AlsaTierOptions{options.fentry_tier, options.lsm_tier}, shared);
    status.insert(status.end(), alsa->status().begin(), alsa->status().end());
  } else {
    for (const char* hook : {kHookFentryOpen, kHookFentryFrames, kHookLsmOpen, kHookLsmFrames})
      unavailable(hook, "the audio BPF object (whose maps it shares) did not load");
  }
  std::error_code ec;
  if (!options.procfs_tier)
    unavailable("procfs_poll", "disabled in config (capture.tiers)");
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
  static const std::vector<std::string> kNetHooks = {
      "netfilter_ipv4",     "netfilter_ipv6",      "cgroup_sock_create",  "cgroup_sock_release",
      "cgroup_sockops",     "cgroup_udp_sendmsg4", "cgroup_udp_sendmsg6", "tcx_dns_ingress",
      "cgroup_dns_ingress", "fexit_accept",        "socket_iterator"};
  net.reset(net_bpf__open());
  int err = net ? size_sock_slots(net->maps.sock_slots) : -errno;
  if (!err) err = net_bpf__load(net.get());
  if (!net || err) {
    std::string reason = fmt::format("network BPF object did not load: {}", errno_text(err));
    for (const auto& hook : kNetHooks) unavailable(hook, reason);
    net.reset();
    return;
  }

  set_slot_reclaim(2 * kDefaultHarvestIntervalNs);

  // Owners first, so no socket created from here on is missed; then the
  // iterator for those that already exist; then the counting hooks.
  std::string mountinfo = read_text_file("/proc/self/mountinfo");
  auto cgroup2 = find_cgroup2_mount(mountinfo);
  if (cgroup2) cgroup_root.reset(::open(cgroup2->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto attach_cgroup = [&](bpf_program* prog, const char* what) -> std::string {
    if (!cgroup2) throw Error("no cgroup v2 hierarchy mounted");
    if (!cgroup_root)
      throw Error(fmt::format("cannot open {}: {}", cgroup2->string(), errno_text(errno)));
    links.push_back(checked_link(bpf_program__attach_cgroup(prog, cgroup_root.get()), what));
    return cgroup2->string();
  };
  attempt("cgroup_sock_create",
          [&] { return attach_cgroup(net->progs.earshot_sock_create, "cgroup/sock_create"); });
  // Before any packet claims a slot: a slot whose socket's release was
  // missed stays taken (its socket then counts through the flows map).
  attempt("cgroup_sock_release",
          [&] { return attach_cgroup(net->progs.earshot_sock_release, "cgroup/sock_release"); });
  attempt("cgroup_sockops", [&] { return attach_cgroup(net->progs.earshot_sockops, "sockops"); });
  // sendto() past a connection: before any packet, so none is counted under
  // the connection's destination.
  attempt("cgroup_udp_sendmsg4",
          [&] { return attach_cgroup(net->progs.earshot_sendmsg4, "cgroup/sendmsg4"); });
  attempt("cgroup_udp_sendmsg6",
          [&] { return attach_cgroup(net->progs.earshot_sendmsg6, "cgroup/sendmsg6"); });
  // DNS answers: at tcx ingress of the monitored namespaces' interfaces,
  // where only their packets pay; the root cgroup's ingress (packets for
  // local sockets of every namespace) on kernels without tcx, or when
  // network.dns_hook says cgroup (a router, whose forwarded packets pass tcx).
  const DnsPrograms dns{net->progs.earshot_dns_tcx_eth, net->progs.earshot_dns_tcx_l3};
  auto attach_dns = [&](const std::filesystem::path& netns) {
    auto ingress = std::make_unique<DnsIngress>(dns, netns);
    std::string detail = ingress->detail();
    dns_ingress.push_back(std::move(ingress));
    return detail;
  };
  if (options.dns_tcx)
    attempt("tcx_dns_ingress", [&] { return attach_dns({}); });
  else
    unavailable("tcx_dns_ingress", "disabled in config (network.dns_hook: cgroup)");
  if (!dns_ingress.empty()) {
    unavailable("cgroup_dns_ingress", "not needed: tcx_dns_ingress is attached");
    for (const auto& path : options.netns_paths)
      attempt(fmt::format("tcx_dns_ingress@{}", path.filename().string()),
              [&] { return attach_dns(path); });
  } else if (!options.dns_cgroup) {
    unavailable("cgroup_dns_ingress", "disabled in config (network.dns_hook: tcx)");
  } else {
    attempt("cgroup_dns_ingress", [&] {
      return attach_cgroup(net->progs.earshot_dns_ingress, "cgroup_skb/ingress (DNS answers)");
    });
  }
  // Accepted sockets: fexit costs only accept(). Without it the netfilter
  // program learns the owner from the socket's first packet a task sends
  // (net.bpf.c, learn_owner), where the sys_exit_accept* tracepoints would
  // slow every system call of every process.
  attempt("fexit_accept", [&] {
    auto object = std::make_unique<AcceptObject>(net->obj);
    links.push_back(checked_link(bpf_program__attach(object->program()), "fexit/inet_accept"));
    accept = std::move(object);
    return std::string("fexit/inet_accept");
  });
  attempt("socket_iterator", [&] {
    BpfLink iter = checked_link(bpf_program__attach_iter(net->progs.earshot_iter_sockets, nullptr),
                                "iter/task_file");
    UniqueFd reader(bpf_iter_create(bpf_link__fd(iter.get())));
    if (!reader) throw Error(fmt::format("bpf_iter_create: {}", errno_text(errno)));
    char buf[256];
    while (::read(reader.get(), buf, sizeof buf) > 0) {
    }
    return std::string("existing sockets recorded");
  });

  // A BPF netfilter hook owns its priority (EBUSY for a second one, e.g. a
  // second earshot in this namespace): take the next free one.
  // One program per family: each knows its family as a constant.
  auto attach_netfilter = [&](int pf) -> std::string {
    bpf_program* program =
        pf == kNfProtoIpv4 ? net->progs.earshot_nf_local_out4 : net->progs.earshot_nf_local_out6;
    for (int priority = kNetfilterPriority; priority < kNetfilterPriority + kNetfilterPriorities;
         ++priority) {
      LIBBPF_OPTS(bpf_netfilter_opts, opts, .pf = static_cast<__u32>(pf),
                  .hooknum = kNfInetLocalOut, .priority = priority);
      bpf_link* link = bpf_program__attach_netfilter(program, &opts);
      if (link) {
        links.emplace_back(link);
        return fmt::format("LOCAL_OUT priority {}", priority);
      }
      if (errno != EBUSY) break;
    }
    throw Error(fmt::format("netfilter LOCAL_OUT: {}", errno_text(errno)));
  };
  attempt("netfilter_ipv4", [&] { return attach_netfilter(kNfProtoIpv4); });
  attempt("netfilter_ipv6", [&] { return attach_netfilter(kNfProtoIpv6); });
  for (const auto& path : options.netns_paths) {
    for (int pf : {kNfProtoIpv4, kNfProtoIpv6}) {
      std::string hook =
          fmt::format("netfilter_ipv{}@{}", pf == kNfProtoIpv4 ? 4 : 6, path.filename().string());
      attempt(hook, [&] {
        NetnsScope inside(path);
        attach_netfilter(pf);
        return path.string();
      });
    }
  }
}

void KernelHooks::Impl::load_audio(const HookOptions& options) {
  audio.reset(audio_bpf__open());
  if (!audio) {
    std::string reason = fmt::format("audio BPF object did not open: {}", errno_text(errno));
    for (const char* hook : {"tracepoint_open", "tracepoint_close", "tracepoint_read",
                             "tracepoint_process_exit", "uprobe_libasound"})
      unavailable(hook, reason);
    return;
  }
  if (net) {
    // One copy of the shared maps: the audio object uses the network object's.
    auto reuse = [](bpf_map* into, bpf_map* from) {
      int err = bpf_map__reuse_fd(into, bpf_map__fd(from));
      if (err)
        throw Error(fmt::format("cannot share map {}: {}", bpf_map__name(into), errno_text(err)));
    };
    reuse(audio->maps.data_capture, net->maps.data_capture);
    reuse(audio->maps.capture_procs, net->maps.capture_procs);
    reuse(audio->maps.tracked_tgids, net->maps.tracked_tgids);
    reuse(audio->maps.events, net->maps.events);
    reuse(audio->maps.lost, net->maps.lost);
  }
  std::filesystem::path libasound =
      options.libasound_path.empty() ? find_libasound() : options.libasound_path;
  bool want_uprobes = options.libasound_tier && !libasound.empty();
  for (bpf_program* prog :
       {audio->progs.earshot_pcm_open, audio->progs.earshot_pcm_open_ret,
        audio->progs.earshot_pcm_close, audio->progs.earshot_pcm_readi,
        audio->progs.earshot_pcm_read_ret, audio->progs.earshot_pcm_mmap_commit})
    bpf_program__set_autoload(prog, want_uprobes);
  for (bpf_program* prog : {audio->progs.earshot_exit_openat, audio->progs.earshot_exit_openat2,
                            audio->progs.earshot_enter_close, audio->progs.earshot_enter_read,
                            audio->progs.earshot_exit_read, audio->progs.earshot_enter_ioctl,
                            audio->progs.earshot_exit_ioctl})
    bpf_program__set_autoload(prog, options.syscall_tier);

  int err = audio_bpf__load(audio.get());
  if (err) {
    std::string reason = fmt::format("audio BPF object did not load: {}", errno_text(err));
    for (const char* hook : {"tracepoint_open", "tracepoint_close", "tracepoint_read",
                             "tracepoint_process_exit", "uprobe_libasound"})
      unavailable(hook, reason);
    audio.reset();
    return;
  }

  attempt("tracepoint_process_exit", [&] {
    links.push_back(checked_link(bpf_program__attach(audio->progs.earshot_process_exit),
                                 "sched/sched_process_exit"));
    return std::string("sched/sched_process_exit");
  });
  if (!options.libasound_tier) {
    unavailable("uprobe_libasound", "disabled in config (capture.tiers)");
  } else if (libasound.empty()) {
    unavailable("uprobe_libasound", "libasound.so.2 not found");
  } else {
    attempt("uprobe_libasound", [&] {
      auto uprobe = [&](bpf_program* prog, const char* func, bool ret) {
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
  attempt("tracepoint_open", [&] {
    links.push_back(
        checked_link(bpf_program__attach(audio->progs.earshot_exit_openat), "sys_exit_openat"));
    links.push_back(
        checked_link(bpf_program__attach(audio->progs.earshot_exit_openat2), "sys_exit_openat2"));
    return std::string("syscalls/sys_exit_openat, sys_exit_openat2");
  });
  attempt("tracepoint_close", [&] {
    links.push_back(
        checked_link(bpf_program__attach(audio->progs.earshot_enter_close), "sys_enter_close"));
    return std::string("syscalls/sys_enter_close");
  });
  attempt("tracepoint_read", [&] {
    for (bpf_program* prog : {audio->progs.earshot_enter_read, audio->progs.earshot_exit_read,
                              audio->progs.earshot_enter_ioctl, audio->progs.earshot_exit_ioctl})
      links.push_back(checked_link(bpf_program__attach(prog), bpf_program__name(prog)));
    return std::string("syscalls/sys_{enter,exit}_{read,ioctl}");
  });
}

KernelHooks::KernelHooks(const HookOptions& options) : impl_(std::make_unique<Impl>()) {
  libbpf_set_print(libbpf_log);
  try {
    ensure_tracefs();
  } catch (const Error& e) {
    log::warn("tracepoints may not attach", {{"reason", e.what()}});
  }
  impl_->load_net(options);
  impl_->load_audio(options);
  impl_->load_alsa(options);
  impl_->attach_syscall_tier(options);
  MapFds fds = maps();
  if (fds.sock_owner < 0 && fds.capture_handles < 0)
    throw Error("no BPF object loaded (missing CAP_BPF/CAP_SYS_ADMIN, or a kernel without BPF?)");
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
