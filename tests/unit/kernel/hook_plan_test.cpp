#include "kernel/hook_plan.h"

#include <gtest/gtest.h>

#include <map>

#include "common/hook_names.h"

namespace earshot::kernel::hook_plan_test {
namespace {

using Attached = std::set<std::string, std::less<>>;

const HookSpec& row(std::string_view hook) {
  return *find_hook(hook);
}

// Every hook the plan tries, walking the table as KernelHooks does, with
// `attaches` saying which of those the kernel then accepts; the rest with
// the plan's reason.
std::map<std::string, std::string> walk(const PlanRequest& request, const MachineOffer& offer,
                                        const Attached& attaches) {
  std::map<std::string, std::string> out;
  Attached attached;
  for (const auto& spec : hook_table()) {
    std::string hook(spec.hook);
    if (auto why = reason_not_loaded(spec, request, offer)) {
      out[hook] = *why;
    } else if (auto why = reason_not_needed(spec, request, attached)) {
      out[hook] = *why;
    } else if (attaches.count(hook)) {
      out[hook] = "attached";
      attached.insert(hook);
    } else {
      out[hook] = "tried";
    }
  }
  return out;
}

TEST(HookPlan, ADisabledHookOrTierIsNotLoaded) {
  PlanRequest request;
  request.disabled_hooks = {"cgroup_sockops"};
  request.tiers = {Tier::syscalls, Tier::procfs};
  MachineOffer offer;
  EXPECT_EQ(reason_not_loaded(row(hooks::kSockops), request, offer),
            "disabled in config (kernel.disabled_hooks)");
  EXPECT_EQ(reason_not_loaded(row(hooks::kFentrySndPcm), request, offer),
            "disabled in config (capture.tiers)");
  EXPECT_EQ(reason_not_loaded(row(hooks::kUprobeLibasound), request, offer),
            "disabled in config (capture.tiers)");
  EXPECT_EQ(reason_not_loaded(row(hooks::kTracepointOpen), request, offer), std::nullopt);
  // Process exits are watched whatever the tiers.
  EXPECT_EQ(reason_not_loaded(row(hooks::kTracepointProcessExit), request, offer), std::nullopt);
}

TEST(HookPlan, OneHookOfAKernelTierTurnedOffTurnsItsTierOff) {
  PlanRequest request;
  request.disabled_hooks = {"fexit_snd_pcm_xfer"};
  auto why = reason_not_loaded(row(hooks::kFentrySndPcm), request, {});
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("fexit_snd_pcm_xfer"), std::string::npos) << *why;
  EXPECT_EQ(reason_not_loaded(row(hooks::kLsmFileOpen), request, {}), std::nullopt);
}

TEST(HookPlan, CountingIsNetfilterWhereTheKernelHasItElseCgroupSkb) {
  PlanRequest request;
  MachineOffer offer;
  auto plan = walk(request, offer, {"netfilter_ipv4", "netfilter_ipv6", "cgroup_skb_egress"});
  EXPECT_EQ(plan["netfilter_ipv4"], "attached");
  EXPECT_EQ(plan["cgroup_skb_egress"],
            "not needed: netfilter_ipv4 and netfilter_ipv6 count at LOCAL_OUT");

  offer.netfilter_programs = false;  // before 6.4
  plan = walk(request, offer, {"netfilter_ipv4", "netfilter_ipv6", "cgroup_skb_egress"});
  EXPECT_EQ(plan["netfilter_ipv4"], "not loaded: this kernel has no netfilter BPF programs (6.4+)");
  EXPECT_EQ(plan["cgroup_skb_egress"], "attached");

  // Half a netfilter tier does not count: cgroup_skb is tried.
  offer.netfilter_programs = true;
  plan = walk(request, offer, {"netfilter_ipv4", "cgroup_skb_egress"});
  EXPECT_EQ(plan["netfilter_ipv6"], "tried");
  EXPECT_EQ(plan["cgroup_skb_egress"], "attached");
}

TEST(HookPlan, DnsAnswersAtTcxElseTheCgroupAsTheConfigAllows) {
  PlanRequest request;
  auto plan = walk(request, {}, {"tcx_dns_ingress", "cgroup_dns_ingress"});
  EXPECT_EQ(plan["cgroup_dns_ingress"], "not needed: tcx_dns_ingress is attached");
  plan = walk(request, {}, {"cgroup_dns_ingress"});
  EXPECT_EQ(plan["cgroup_dns_ingress"], "attached");
  request.dns_tcx = false;
  plan = walk(request, {}, {"tcx_dns_ingress", "cgroup_dns_ingress"});
  EXPECT_EQ(plan["tcx_dns_ingress"], "disabled in config (network.dns_hook: cgroup)");
  EXPECT_EQ(plan["cgroup_dns_ingress"], "attached");
}

TEST(HookPlan, GatewayHooksOnlyInGatewayMode) {
  PlanRequest request;
  auto plan = walk(request, {},
                   {"netfilter_forward_ipv4", "netfilter_forward_ipv6", "tc_gateway_ingress",
                    "tc_gateway_lan_egress", "tc_dns_lan_egress"});
  for (const char* hook : {"netfilter_forward_ipv4", "netfilter_forward_ipv6", "tc_gateway_ingress",
                           "tc_gateway_lan_egress", "tc_dns_lan_egress"})
    EXPECT_EQ(plan[hook], "gateway mode off (gateway.enabled)") << hook;
}

TEST(HookPlan, GatewayCountsAtForwardWhereTheKernelHasItElseTcIngress) {
  PlanRequest request;
  request.gateway = true;
  MachineOffer offer;
  const Attached all{"netfilter_forward_ipv4", "netfilter_forward_ipv6", "tc_gateway_ingress",
                     "tc_gateway_lan_egress"};
  auto plan = walk(request, offer, all);
  EXPECT_EQ(plan["netfilter_forward_ipv4"], "attached");
  EXPECT_EQ(plan["netfilter_forward_ipv6"], "attached");
  EXPECT_EQ(plan["tc_gateway_ingress"],
            "not needed: netfilter_forward_ipv4 and netfilter_forward_ipv6 count at FORWARD");
  EXPECT_EQ(plan["tc_gateway_lan_egress"],
            "not needed: netfilter_forward_ipv4 and netfilter_forward_ipv6 count what LAN devices "
            "receive at FORWARD");

  offer.netfilter_programs = false;  // before 6.4
  plan = walk(request, offer, all);
  EXPECT_EQ(plan["netfilter_forward_ipv4"],
            "not loaded: this kernel has no netfilter BPF programs (6.4+)");
  EXPECT_EQ(plan["tc_gateway_ingress"], "attached");
  EXPECT_EQ(plan["tc_gateway_lan_egress"], "attached");

  // What devices receive goes into the pairs tc ingress counts: not without it.
  plan = walk(request, offer, {"tc_gateway_lan_egress"});
  EXPECT_EQ(plan["tc_gateway_ingress"], "tried");
  EXPECT_EQ(plan["tc_gateway_lan_egress"],
            "not attached: tc_gateway_ingress (the pairs it counts into) is not");

  // Forced through kernel.disabled_hooks, as the kernel lane does.
  offer.netfilter_programs = true;
  request.disabled_hooks = {"netfilter_forward_ipv4", "netfilter_forward_ipv6"};
  plan = walk(request, offer, all);
  EXPECT_EQ(plan["netfilter_forward_ipv6"], "disabled in config (kernel.disabled_hooks)");
  EXPECT_EQ(plan["tc_gateway_ingress"], "attached");

  // Half the FORWARD tier does not count: tc is tried.
  request.disabled_hooks.clear();
  plan = walk(request, offer,
              {"netfilter_forward_ipv4", "tc_gateway_ingress", "tc_gateway_lan_egress"});
  EXPECT_EQ(plan["netfilter_forward_ipv6"], "tried");
  EXPECT_EQ(plan["tc_gateway_ingress"], "attached");
  EXPECT_EQ(plan["tc_gateway_lan_egress"], "attached");
}

TEST(HookPlan, ForwardedDnsAnswersAtTcxElseTcEgressOfTheLan) {
  PlanRequest request;
  request.gateway = true;
  auto plan = walk(request, {}, {"tcx_dns_ingress", "tc_dns_lan_egress"});
  EXPECT_EQ(plan["tc_dns_lan_egress"],
            "not needed: tcx_dns_ingress reads the answers as they arrive to be forwarded");
  plan = walk(request, {}, {"cgroup_dns_ingress", "tc_dns_lan_egress"});
  EXPECT_EQ(plan["cgroup_dns_ingress"], "attached");
  EXPECT_EQ(plan["tc_dns_lan_egress"], "attached");
}

TEST(HookPlan, CaptureOnAKernelWithFentryUsesItAlone) {
  PlanRequest request;
  request.watched_devices = 2;
  auto plan = walk(request, {},
                   {"fentry_snd_pcm", "fexit_snd_pcm_xfer", "lsm_file_open",
                    "tracepoint_process_exit", "uprobe_libasound", "tracepoint_open"});
  EXPECT_EQ(plan["fentry_snd_pcm"], "attached");
  EXPECT_EQ(plan["lsm_file_open"], "not loaded: fentry_snd_pcm is in use and sees the same opens");
  EXPECT_EQ(plan["uprobe_libasound"], "attached");
  EXPECT_EQ(plan["tracepoint_open"], "not needed: a kernel-level tier is attached");
  EXPECT_EQ(plan["procfs_poll"], "not needed: a kernel-level tier is attached");
}

TEST(HookPlan, CaptureFallsToLsmThenToTheSyscallTierAndProcfs) {
  PlanRequest request;
  request.watched_devices = 1;
  MachineOffer offer;
  offer.fentry_missing = "no BTF for snd_pcm: kernel has no ALSA";
  auto plan = walk(request, offer, {"lsm_file_open", "tracepoint_open"});
  EXPECT_EQ(plan["fentry_snd_pcm"], "no BTF for snd_pcm: kernel has no ALSA");
  EXPECT_EQ(plan["lsm_file_open"], "attached");
  EXPECT_EQ(plan["tracepoint_open"], "not needed: a kernel-level tier is attached");

  // Neither kernel-level tier: the syscall tier watches the nodes, procfs polls.
  plan = walk(request, offer, {"tracepoint_open", "tracepoint_close", "procfs_poll"});
  EXPECT_EQ(plan["lsm_file_open"], "tried");
  EXPECT_EQ(plan["tracepoint_open"], "attached");
  EXPECT_EQ(plan["procfs_poll"], "attached");

  // Nothing to watch: no syscall tier, whose tracepoints every process pays.
  request.watched_devices = 0;
  plan = walk(request, offer, {"tracepoint_open"});
  EXPECT_EQ(plan["tracepoint_open"],
            "not needed: no capture device to watch (no ALSA capture node, no "
            "capture.extra_devices)");
}

TEST(HookPlan, ExtraDevicesKeepTheSyscallTierBesideAKernelTier) {
  PlanRequest request;
  request.extra_devices = true;
  auto plan = walk(request, {}, {"fentry_snd_pcm", "tracepoint_open"});
  EXPECT_EQ(plan["tracepoint_open"], "attached");
}

TEST(HookPlan, CamerasUseTheV4l2FentryTierElseTheSyscallTier) {
  PlanRequest request;
  request.watched_devices = 3;  // two microphones, one camera
  request.watched_cameras = 1;
  MachineOffer offer;
  // Both kernel-level tiers: no syscall tracepoint at all.
  auto plan = walk(request, offer,
                   {"fentry_snd_pcm", "fexit_snd_pcm_xfer", "fentry_v4l2", "fexit_v4l2_frames",
                    "tracepoint_open"});
  EXPECT_EQ(plan["fentry_v4l2"], "attached");
  EXPECT_EQ(plan["fexit_v4l2_frames"], "attached");
  EXPECT_EQ(plan["tracepoint_open"], "not needed: a kernel-level tier is attached");

  // The camera tier refused (fentry not allowed, or no videodev BTF): the
  // syscall tier attaches for the camera although ALSA's tier is attached.
  plan = walk(request, offer,
              {"fentry_snd_pcm", "fexit_snd_pcm_xfer", "fexit_v4l2_frames", "tracepoint_open"});
  EXPECT_EQ(plan["fentry_v4l2"], "tried");
  EXPECT_EQ(plan["fexit_v4l2_frames"], "not attached: fentry_v4l2 (its opens) is not");
  EXPECT_EQ(plan["tracepoint_open"], "attached");

  // No ALSA on the machine does not stop the camera tier, and a camera
  // alone, seen by it, needs no syscall tier.
  offer.fentry_missing = "no BTF for snd_pcm: kernel has no ALSA";
  request.watched_devices = 1;
  plan = walk(request, offer, {"fentry_v4l2", "fexit_v4l2_frames", "tracepoint_open"});
  EXPECT_EQ(plan["fentry_snd_pcm"], offer.fentry_missing);
  EXPECT_EQ(plan["fentry_v4l2"], "attached");
  EXPECT_EQ(plan["tracepoint_open"],
            "not needed: fentry_v4l2 sees every watched camera, and no microphone is watched");

  // capture.tiers without fentry turns the camera tier off too.
  request.tiers = {Tier::syscalls};
  plan = walk(request, offer, {"fentry_v4l2", "tracepoint_open"});
  EXPECT_EQ(plan["fentry_v4l2"], "disabled in config (capture.tiers)");
  EXPECT_EQ(plan["tracepoint_open"], "attached");
}

TEST(HookPlan, TheCameraTierNeedsACameraAndV4l2) {
  PlanRequest request;
  MachineOffer offer;
  EXPECT_EQ(reason_not_loaded(row(hooks::kFentryV4l2), request, offer),
            "no camera to watch (capture.cameras, capture.extra_cameras)");
  request.watched_devices = request.watched_cameras = 1;
  offer.v4l2_missing = "no BTF for videodev: kernel has no V4L2 loaded";
  EXPECT_EQ(reason_not_loaded(row(hooks::kFexitV4l2Frames), request, offer), offer.v4l2_missing);
  // Turning one ALSA fentry hook off leaves the camera tier alone.
  offer.v4l2_missing.clear();
  request.disabled_hooks = {"fexit_snd_pcm_xfer"};
  EXPECT_EQ(reason_not_loaded(row(hooks::kFentryV4l2), request, offer), std::nullopt);
}

TEST(HookPlan, WhatTheMachineLacksIsSaid) {
  MachineOffer offer;
  offer.libasound = false;
  offer.proc_asound = false;
  offer.lsm_missing = "BPF LSM not active (lsm= is 'capability,yama')";
  PlanRequest request;
  EXPECT_EQ(reason_not_loaded(row(hooks::kUprobeLibasound), request, offer),
            "libasound.so.2 not found");
  EXPECT_EQ(reason_not_loaded(row(hooks::kProcfsPoll), request, offer),
            "no /proc/asound: kernel has no ALSA");
  EXPECT_EQ(reason_not_loaded(row(hooks::kLsmFileIoctl), request, offer), offer.lsm_missing);
}

TEST(HookPlan, TheSoundServerTiersNeedTheirLibraryAndGoBesideTheOthers) {
  MachineOffer offer;
  offer.libraries_missing = {std::string(kLibpipewire)};
  PlanRequest request;
  EXPECT_EQ(reason_not_loaded(row(hooks::kUprobeLibpulse), request, offer), std::nullopt);
  EXPECT_EQ(reason_not_loaded(row(hooks::kUprobeLibpipewire), request, offer),
            "libpipewire-0.3.so.0 not found");
  request.tiers = {Tier::fentry, Tier::libasound, Tier::libpipewire};
  EXPECT_EQ(reason_not_loaded(row(hooks::kUprobeLibpulse), request, {}),
            "disabled in config (capture.tiers)");
  request.tiers = {kTiers.begin(), kTiers.end()};
  request.disabled_hooks = {"uprobe_libpipewire"};
  EXPECT_EQ(reason_not_loaded(row(hooks::kUprobeLibpipewire), request, {}),
            "disabled in config (kernel.disabled_hooks)");
  // A kernel-level tier does not make them unnecessary: they see clients, not devices.
  auto plan = walk({}, {}, {"fentry_snd_pcm", "uprobe_libpulse", "uprobe_libpipewire"});
  EXPECT_EQ(plan["uprobe_libpulse"], "attached");
  EXPECT_EQ(plan["uprobe_libpipewire"], "attached");
}

}  // namespace
}  // namespace earshot::kernel::hook_plan_test
