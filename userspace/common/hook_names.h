#pragma once
// The names of earshot's kernel hooks: the label values of
// earshot_hook_attached{hook}, the words of kernel.disabled_hooks, and what
// alert rules and dashboards match. Defined here once.
#include <array>
#include <string_view>

namespace earshot::hooks {

// Counting: one tier attaches (netfilter where the kernel has it, else cgroup_skb).
inline constexpr std::string_view kNetfilterIpv4 = "netfilter_ipv4";
inline constexpr std::string_view kNetfilterIpv6 = "netfilter_ipv6";
inline constexpr std::string_view kCgroupSkbEgress = "cgroup_skb_egress";
// What each socket receives (the verdicts' other direction): netfilter
// LOCAL_IN where the kernel has it, else cgroup_skb ingress.
inline constexpr std::string_view kNetfilterLocalInIpv4 = "netfilter_local_in_ipv4";
inline constexpr std::string_view kNetfilterLocalInIpv6 = "netfilter_local_in_ipv6";
inline constexpr std::string_view kCgroupSkbIngress = "cgroup_skb_ingress";
// Socket owners and destinations.
inline constexpr std::string_view kSockCreate = "cgroup_sock_create";
inline constexpr std::string_view kSockRelease = "cgroup_sock_release";
inline constexpr std::string_view kSockops = "cgroup_sockops";
inline constexpr std::string_view kUdpSendmsg4 = "cgroup_udp_sendmsg4";
inline constexpr std::string_view kUdpSendmsg6 = "cgroup_udp_sendmsg6";
inline constexpr std::string_view kFexitAccept = "fexit_accept";
inline constexpr std::string_view kSocketIterator = "socket_iterator";
// DNS answers.
inline constexpr std::string_view kTcxDnsIngress = "tcx_dns_ingress";
inline constexpr std::string_view kCgroupDnsIngress = "cgroup_dns_ingress";
// Gateway mode (gateway.enabled): LAN devices' traffic through this machine,
// counted at FORWARD (6.4+) or else tc ingress of the LAN interfaces; DNS
// answers to them at tc egress of the LAN interfaces where tcx is missing.
inline constexpr std::string_view kNetfilterForwardIpv4 = "netfilter_forward_ipv4";
inline constexpr std::string_view kNetfilterForwardIpv6 = "netfilter_forward_ipv6";
inline constexpr std::string_view kTcGatewayIngress = "tc_gateway_ingress";
// What LAN devices receive, where tc_gateway_ingress counts what they send.
inline constexpr std::string_view kTcGatewayLanEgress = "tc_gateway_lan_egress";
inline constexpr std::string_view kTcDnsLanEgress = "tc_dns_lan_egress";
// Capture tiers, strongest first.
inline constexpr std::string_view kFentrySndPcm = "fentry_snd_pcm";
inline constexpr std::string_view kFexitSndPcmXfer = "fexit_snd_pcm_xfer";
inline constexpr std::string_view kLsmFileOpen = "lsm_file_open";
inline constexpr std::string_view kLsmFileIoctl = "lsm_file_ioctl";
inline constexpr std::string_view kTracepointOpen = "tracepoint_open";
inline constexpr std::string_view kTracepointClose = "tracepoint_close";
inline constexpr std::string_view kTracepointRead = "tracepoint_read";
inline constexpr std::string_view kTracepointProcessExit = "tracepoint_process_exit";
inline constexpr std::string_view kUprobeLibasound = "uprobe_libasound";
inline constexpr std::string_view kProcfsPoll = "procfs_poll";
// Clients of sound servers: uprobes in libpulse and libpipewire.
inline constexpr std::string_view kUprobeLibpulse = "uprobe_libpulse";
inline constexpr std::string_view kUprobeLibpipewire = "uprobe_libpipewire";
// Cameras' kernel-level tier (fentry/fexit on the V4L2 core): opens and
// releases, then frames (VIDIOC_DQBUF, read).
inline constexpr std::string_view kFentryV4l2 = "fentry_v4l2";
inline constexpr std::string_view kFexitV4l2Frames = "fexit_v4l2_frames";

inline constexpr std::array kAll{
    kNetfilterIpv4,    kNetfilterIpv6,         kCgroupSkbEgress,
    kSockCreate,       kSockRelease,           kSockops,
    kUdpSendmsg4,      kUdpSendmsg6,           kFexitAccept,
    kSocketIterator,   kTcxDnsIngress,         kCgroupDnsIngress,
    kFentrySndPcm,     kFexitSndPcmXfer,       kLsmFileOpen,
    kLsmFileIoctl,     kTracepointOpen,        kTracepointClose,
    kTracepointRead,   kTracepointProcessExit, kUprobeLibasound,
    kProcfsPoll,       kNetfilterForwardIpv4,  kNetfilterForwardIpv6,
    kTcGatewayIngress, kTcGatewayLanEgress,    kTcDnsLanEgress,
    kUprobeLibpulse,   kUprobeLibpipewire,     kFentryV4l2,
    kFexitV4l2Frames,  kNetfilterLocalInIpv4,  kNetfilterLocalInIpv6,
    kCgroupSkbIngress,
};

// A hook attached once a monitored namespace is named "<hook>@<namespace>";
// its base name is what kernel.disabled_hooks lists.
inline std::string_view base_name(std::string_view hook) {
  return hook.substr(0, hook.find('@'));
}

}  // namespace earshot::hooks
