#include "kernel/hook_table.h"

#include "common/hook_names.h"

namespace earshot::kernel {

std::string_view to_string(BpfObject object) {
  switch (object) {
    case BpfObject::net:
      return "net";
    case BpfObject::accept:
      return "accept";
    case BpfObject::capture_user:
      return "capture_user";
    case BpfObject::capture_kernel:
      return "capture_kernel";
    case BpfObject::capture_video:
      return "capture_video";
    case BpfObject::none:
      return "none";
  }
  return "none";
}

std::string_view to_string(Purpose purpose) {
  switch (purpose) {
    case Purpose::counting:
      return "counting";
    case Purpose::owners:
      return "owners";
    case Purpose::dns:
      return "dns";
    case Purpose::capture:
      return "capture";
    case Purpose::gateway:
      return "gateway";
  }
  return "capture";
}

std::vector<std::string_view> HookSpec::all_programs() const {
  std::vector<std::string_view> out = programs;
  out.insert(out.end(), ladder.begin(), ladder.end());
  out.insert(out.end(), optional.begin(), optional.end());
  for (const auto& u : uprobes) {
    bool listed = false;
    for (auto p : out) listed = listed || p == u.program;
    if (!listed) out.push_back(u.program);
  }
  return out;
}

// Each row names only what it has; the rest keep their defaults, which GCC
// would otherwise flag field by field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const std::vector<HookSpec>& hook_table() {
  using enum AttachKind;
  using enum BpfObject;
  static const std::vector<HookSpec> table = {
      // Socket owners and destinations, before any packet is counted.
      {.hook = hooks::kSockCreate,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::owners,
       .programs = {"earshot_sock_create"},
       .target = "cgroup/sock_create"},
      // Before any packet claims a slot: a slot whose socket's release was
      // missed stays taken (its socket then counts through the flows map).
      {.hook = hooks::kSockRelease,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::owners,
       .programs = {"earshot_sock_release"},
       .target = "cgroup/sock_release"},
      {.hook = hooks::kSockops,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::owners,
       .programs = {"earshot_sockops"},
       .target = "sockops"},
      // sendto() past a connection: before any packet, so none is counted
      // under the connection's destination.
      {.hook = hooks::kUdpSendmsg4,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::owners,
       .programs = {"earshot_sendmsg4"},
       .target = "cgroup/sendmsg4"},
      {.hook = hooks::kUdpSendmsg6,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::owners,
       .programs = {"earshot_sendmsg6"},
       .target = "cgroup/sendmsg6"},
      // DNS answers: tcx ingress of the counted namespaces, where only their
      // packets pay; else the root cgroup's ingress.
      {.hook = hooks::kTcxDnsIngress,
       .object = net,
       .attach = tcx_dns,
       .purpose = Purpose::dns,
       .programs = {"earshot_dns_tcx_eth", "earshot_dns_tcx_l3"},
       .target = "tcx/ingress"},
      {.hook = hooks::kCgroupDnsIngress,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::dns,
       .programs = {"earshot_dns_ingress"},
       .target = "cgroup_skb/ingress (DNS answers)"},
      // Accepted sockets: fexit costs only accept(); without it the counting
      // program learns the owner from the first packet a task sends.
      {.hook = hooks::kFexitAccept,
       .object = accept,
       .attach = automatic,
       .purpose = Purpose::owners,
       .programs = {"earshot_fexit_inet_accept"},
       .target = "fexit/inet_accept"},
      // Sockets made before earshot: iter/tcp and iter/udp give them cookies
      // (a socket gets one only when asked), iter/task_file names owners.
      {.hook = hooks::kSocketIterator,
       .object = net,
       .attach = iterator,
       .purpose = Purpose::owners,
       .programs = {"earshot_iter_sockets"},
       .optional = {"earshot_iter_tcp_cookies", "earshot_iter_udp_cookies"},
       .target = "iter/task_file"},
      // Counting: netfilter where the kernel has it (6.4+), else cgroup_skb.
      {.hook = hooks::kNetfilterIpv4,
       .object = net,
       .attach = netfilter,
       .purpose = Purpose::counting,
       .programs = {"earshot_nf_local_out4"},
       .target = "LOCAL_OUT"},
      {.hook = hooks::kNetfilterIpv6,
       .object = net,
       .attach = netfilter,
       .purpose = Purpose::counting,
       .programs = {"earshot_nf_local_out6"},
       .target = "LOCAL_OUT"},
      {.hook = hooks::kCgroupSkbEgress,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::counting,
       .ladder = {"earshot_cgroup_egress", "earshot_cgroup_egress_basic"},
       .target = "cgroup_skb/egress"},
      // What each socket receives, for the verdicts (an upload from a
      // download's acknowledgements): LOCAL_IN (6.4+), else cgroup_skb.
      {.hook = hooks::kNetfilterLocalInIpv4,
       .object = net,
       .attach = netfilter_in,
       .purpose = Purpose::counting,
       .programs = {"earshot_nf_local_in4"},
       .target = "LOCAL_IN"},
      {.hook = hooks::kNetfilterLocalInIpv6,
       .object = net,
       .attach = netfilter_in,
       .purpose = Purpose::counting,
       .programs = {"earshot_nf_local_in6"},
       .target = "LOCAL_IN"},
      {.hook = hooks::kCgroupSkbIngress,
       .object = net,
       .attach = cgroup,
       .purpose = Purpose::counting,
       .programs = {"earshot_cgroup_ingress"},
       .target = "cgroup_skb/ingress"},
      // Gateway mode: what LAN devices send through this machine, before
      // masquerading rewrites it; FORWARD where the kernel has netfilter
      // programs (6.4+), else tc ingress of the LAN interfaces.
      {.hook = hooks::kNetfilterForwardIpv4,
       .object = net,
       .attach = netfilter_forward,
       .purpose = Purpose::gateway,
       .programs = {"earshot_nf_forward4"},
       .target = "FORWARD"},
      {.hook = hooks::kNetfilterForwardIpv6,
       .object = net,
       .attach = netfilter_forward,
       .purpose = Purpose::gateway,
       .programs = {"earshot_nf_forward6"},
       .target = "FORWARD"},
      {.hook = hooks::kTcGatewayIngress,
       .object = net,
       .attach = tc_lan_ingress,
       .purpose = Purpose::gateway,
       .programs = {"earshot_gateway_tc_ingress"},
       .target = "tc ingress"},
      // What LAN devices receive, into the pairs tc_gateway_ingress counts:
      // at tc egress of the LAN interfaces, by the frame's destination MAC.
      {.hook = hooks::kTcGatewayLanEgress,
       .object = net,
       .attach = tc_lan_egress,
       .purpose = Purpose::gateway,
       .programs = {"earshot_gateway_tc_lan_egress"},
       .target = "tc egress"},
      // DNS answers forwarded to LAN devices: tcx_dns_ingress sees them
      // arrive; without it (before 6.6) the cgroup hook does not (no local
      // socket receives them), so read them leaving to the LAN.
      {.hook = hooks::kTcDnsLanEgress,
       .object = net,
       .attach = tc_lan_egress,
       .purpose = Purpose::dns,
       .programs = {"earshot_dns_tc_lan_egress"},
       .target = "tc egress"},
      // Capture, kernel-level tiers first: fentry/fexit on snd_pcm (exact
      // frames), then BPF LSM on the watched device numbers.
      {.hook = hooks::kFentrySndPcm,
       .object = capture_kernel,
       .attach = automatic,
       .tier = Tier::fentry,
       .programs = {"earshot_fexit_capture_open", "earshot_fentry_pcm_release"},
       .tier_opens = true},
      {.hook = hooks::kFexitSndPcmXfer,
       .object = capture_kernel,
       .attach = automatic,
       .tier = Tier::fentry,
       // Frames: reads at __snd_pcm_lib_xfer, mmap's progress at each ioctl.
       .programs = {"earshot_fexit_pcm_xfer", "earshot_fentry_pcm_ioctl"}},
      {.hook = hooks::kLsmFileOpen,
       .object = capture_kernel,
       .attach = automatic,
       .tier = Tier::lsm,
       .programs = {"earshot_lsm_file_open", "earshot_lsm_file_release", "earshot_lsm_file_free"},
       .tier_opens = true},
      {.hook = hooks::kLsmFileIoctl,
       .object = capture_kernel,
       .attach = automatic,
       .tier = Tier::lsm,
       .programs = {"earshot_lsm_file_ioctl"}},
      // Cameras, kernel-level: fentry/fexit on the V4L2 core (its own
      // object, loaded at this row: it needs videodev, not ALSA).
      {.hook = hooks::kFentryV4l2,
       .object = capture_video,
       .attach = automatic,
       .tier = Tier::fentry,
       .programs = {"earshot_fexit_v4l2_open", "earshot_fentry_v4l2_release"}},
      {.hook = hooks::kFexitV4l2Frames,
       .object = capture_video,
       .attach = automatic,
       .tier = Tier::fentry,
       .programs = {"earshot_fexit_v4l2_ioctl", "earshot_fexit_v4l2_read"}},
      // Ends captures and names exited socket owners, whatever tier is on.
      {.hook = hooks::kTracepointProcessExit,
       .object = capture_user,
       .attach = automatic,
       .programs = {"earshot_process_exit"},
       .target = "sched/sched_process_exit"},
      {.hook = hooks::kUprobeLibasound,
       .object = capture_user,
       .attach = uprobe_libasound,
       .tier = Tier::libasound,
       .uprobes = {{"earshot_pcm_open", "snd_pcm_open", false},
                   {"earshot_pcm_open_ret", "snd_pcm_open", true},
                   {"earshot_pcm_close", "snd_pcm_close", false},
                   {"earshot_pcm_readi", "snd_pcm_readi", false},
                   {"earshot_pcm_read_ret", "snd_pcm_readi", true},
                   {"earshot_pcm_readi", "snd_pcm_readn", false},
                   {"earshot_pcm_read_ret", "snd_pcm_readn", true},
                   {"earshot_pcm_mmap_commit", "snd_pcm_mmap_commit", false},
                   {"earshot_pcm_read_ret", "snd_pcm_mmap_commit", true}}},
      // Clients of sound servers, where the server holds the device: who
      // records through libpulse (PulseAudio, pipewire-pulse) or libpipewire.
      {.hook = hooks::kUprobeLibpulse,
       .object = capture_user,
       .attach = uprobe_library,
       .tier = Tier::libpulse,
       .uprobes = {{"earshot_pa_stream_new", "pa_stream_new_with_proplist", false},
                   {"earshot_pa_stream_new_ret", "pa_stream_new_with_proplist", true},
                   {"earshot_pa_connect_record", "pa_stream_connect_record", false},
                   {"earshot_pa_connect_record_ret", "pa_stream_connect_record", true},
                   {"earshot_pa_peek", "pa_stream_peek", false},
                   {"earshot_pa_peek_ret", "pa_stream_peek", true},
                   {"earshot_pa_drop", "pa_stream_drop", false},
                   {"earshot_pa_disconnect", "pa_stream_disconnect", false}},
       .library = kLibpulse},
      {.hook = hooks::kUprobeLibpipewire,
       .object = capture_user,
       .attach = uprobe_library,
       .tier = Tier::libpipewire,
       .uprobes = {{"earshot_pw_connect", "pw_stream_connect", false},
                   {"earshot_pw_connect_ret", "pw_stream_connect", true},
                   {"earshot_pw_dequeue", "pw_stream_dequeue_buffer", false},
                   {"earshot_pw_dequeue_ret", "pw_stream_dequeue_buffer", true},
                   {"earshot_pw_disconnect", "pw_stream_disconnect", false},
                   {"earshot_pw_disconnect", "pw_stream_destroy", false}},
       .library = kLibpipewire},
      // The syscall tier: every system call of every process pays for a
      // tracepoint, so it attaches only where it sees what the kernel-level
      // tiers do not (hook_plan.h).
      {.hook = hooks::kTracepointOpen,
       .object = capture_user,
       .attach = automatic,
       .tier = Tier::syscalls,
       .programs = {"earshot_exit_openat", "earshot_exit_openat2"}},
      {.hook = hooks::kTracepointClose,
       .object = capture_user,
       .attach = automatic,
       .tier = Tier::syscalls,
       .programs = {"earshot_enter_close"}},
      {.hook = hooks::kTracepointRead,
       .object = capture_user,
       .attach = automatic,
       .tier = Tier::syscalls,
       .programs = {"earshot_enter_read", "earshot_exit_read", "earshot_enter_ioctl",
                    "earshot_exit_ioctl"}},
      {.hook = hooks::kProcfsPoll,
       .object = none,
       .attach = poll,
       .tier = Tier::procfs,
       .target = "/proc/asound/card*/pcm*c/sub*/status"},
  };
  return table;
}
#pragma GCC diagnostic pop

const HookSpec* find_hook(std::string_view hook) {
  std::string_view base = hooks::base_name(hook);
  for (const auto& spec : hook_table())
    if (spec.hook == base) return &spec;
  return nullptr;
}

}  // namespace earshot::kernel
