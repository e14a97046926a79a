#include "kernel/hook_plan.h"

#include <algorithm>

#include "common/hook_names.h"

namespace earshot::kernel {

namespace {

bool kernel_tier(const HookSpec& spec) {
  return spec.object == BpfObject::capture_kernel;
}

// The hooks of a kernel-level tier load as one unit: one turned off turns
// the tier off.
std::optional<std::string_view> disabled_in_tier(const HookSpec& spec, const PlanRequest& request) {
  for (const auto& other : hook_table())
    if (kernel_tier(other) && other.tier == spec.tier && request.disabled_hooks.count(other.hook))
      return other.hook;
  return std::nullopt;
}

bool gateway_hook(const HookSpec& spec) {
  return spec.attach == AttachKind::netfilter_forward ||
         spec.attach == AttachKind::tc_lan_ingress || spec.attach == AttachKind::tc_lan_egress;
}

}  // namespace

std::optional<std::string> reason_not_loaded(const HookSpec& spec, const PlanRequest& request,
                                             const MachineOffer& offer) {
  if (request.disabled_hooks.count(spec.hook)) return "disabled in config (kernel.disabled_hooks)";
  if (spec.tier &&
      std::find(request.tiers.begin(), request.tiers.end(), *spec.tier) == request.tiers.end())
    return "disabled in config (capture.tiers)";
  if (kernel_tier(spec))
    if (auto other = disabled_in_tier(spec, request))
      return "disabled in config (kernel.disabled_hooks has " + std::string(*other) +
             ", of the same tier)";
  if (spec.hook == hooks::kTcxDnsIngress && !request.dns_tcx)
    return "disabled in config (network.dns_hook: cgroup)";
  if (spec.hook == hooks::kCgroupDnsIngress && !request.dns_cgroup)
    return "disabled in config (network.dns_hook: tcx)";
  if (gateway_hook(spec) && !request.gateway) return "gateway mode off (gateway.enabled)";
  if ((spec.attach == AttachKind::netfilter || spec.attach == AttachKind::netfilter_in ||
       spec.attach == AttachKind::netfilter_forward) &&
      !offer.netfilter_programs)
    return "not loaded: this kernel has no netfilter BPF programs (6.4+)";
  if (spec.attach == AttachKind::uprobe_libasound && !offer.libasound)
    return "libasound.so.2 not found";
  if (spec.attach == AttachKind::uprobe_library && offer.libraries_missing.count(spec.library))
    return std::string(spec.library) + " not found";
  if (spec.object == BpfObject::capture_video) {
    if (request.watched_cameras == 0)
      return "no camera to watch (capture.cameras, capture.extra_cameras)";
    if (!offer.v4l2_missing.empty()) return offer.v4l2_missing;
  } else if (spec.tier == Tier::fentry && !offer.fentry_missing.empty()) {
    return offer.fentry_missing;
  }
  if (spec.tier == Tier::lsm && !offer.lsm_missing.empty()) return offer.lsm_missing;
  if (spec.tier == Tier::procfs && !offer.proc_asound) return "no /proc/asound: kernel has no ALSA";
  return std::nullopt;
}

std::optional<std::string> reason_not_needed(const HookSpec& spec, const PlanRequest& request,
                                             const std::set<std::string, std::less<>>& attached) {
  auto has = [&](std::string_view hook) { return attached.count(hook) > 0; };
  bool kernel_capture = has(hooks::kFentrySndPcm) || has(hooks::kLsmFileOpen);
  if (spec.hook == hooks::kCgroupSkbEgress && has(hooks::kNetfilterIpv4) &&
      has(hooks::kNetfilterIpv6))
    return "not needed: netfilter_ipv4 and netfilter_ipv6 count at LOCAL_OUT";
  if (spec.hook == hooks::kCgroupSkbIngress && has(hooks::kNetfilterLocalInIpv4) &&
      has(hooks::kNetfilterLocalInIpv6))
    return "not needed: netfilter_local_in_ipv4 and netfilter_local_in_ipv6 count at LOCAL_IN";
  if (spec.hook == hooks::kTcGatewayIngress && has(hooks::kNetfilterForwardIpv4) &&
      has(hooks::kNetfilterForwardIpv6))
    return "not needed: netfilter_forward_ipv4 and netfilter_forward_ipv6 count at FORWARD";
  if (spec.hook == hooks::kTcGatewayLanEgress && has(hooks::kNetfilterForwardIpv4) &&
      has(hooks::kNetfilterForwardIpv6))
    return "not needed: netfilter_forward_ipv4 and netfilter_forward_ipv6 count what LAN devices "
           "receive at FORWARD";
  if (spec.hook == hooks::kTcGatewayLanEgress && !has(hooks::kTcGatewayIngress))
    return "not attached: tc_gateway_ingress (the pairs it counts into) is not";
  if (spec.hook == hooks::kTcDnsLanEgress && has(hooks::kTcxDnsIngress))
    return "not needed: tcx_dns_ingress reads the answers as they arrive to be forwarded";
  if (spec.hook == hooks::kCgroupDnsIngress && has(hooks::kTcxDnsIngress))
    return "not needed: tcx_dns_ingress is attached";
  if (spec.tier == Tier::lsm && has(hooks::kFentrySndPcm))
    return "not loaded: fentry_snd_pcm is in use and sees the same opens";
  if (spec.hook == hooks::kFexitV4l2Frames && !has(hooks::kFentryV4l2))
    return "not attached: fentry_v4l2 (its opens) is not";
  // Cameras the kernel-level camera tier does not see need the syscall tier.
  bool cameras_unseen = request.watched_cameras > 0 && !has(hooks::kFentryV4l2);
  if (spec.tier == Tier::syscalls && !request.extra_devices && !cameras_unseen) {
    if (kernel_capture) return "not needed: a kernel-level tier is attached";
    if (request.watched_devices == 0)
      return "not needed: no capture device to watch (no ALSA capture node, no "
             "capture.extra_devices)";
    if (request.watched_devices == request.watched_cameras)
      return "not needed: fentry_v4l2 sees every watched camera, and no microphone is watched";
  }
  if (spec.tier == Tier::procfs && kernel_capture)
    return "not needed: a kernel-level tier is attached";
  return std::nullopt;
}

}  // namespace earshot::kernel
