#include "kernel/alsa_tier.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

// The ABI first: the skeletons declare global data with its structs.
// clang-format off
#include "kernel/abi.h"
#include "capture_kernel.skel.h"
// clang-format on

#include "common/error.h"
#include "common/hook_names.h"
#include "common/log.h"
#include "kernel/bpf_handles.h"
#include "kernel/program_loader.h"
#include "kernel/system_paths.h"

namespace earshot::kernel {

namespace {

using CaptureKernelSkeleton = SkeletonPtr<capture_kernel_bpf, capture_kernel_bpf__destroy>;

enum class Tier { fentry, lsm };

const char* tier_word(Tier t) {
  return t == Tier::fentry ? "fentry" : "lsm";
}

// Hooks of one tier: each name with the programs it attaches.
struct TierHook {
  const char* hook;
  std::vector<bpf_program*> programs;
};

std::vector<TierHook> hooks_of(capture_kernel_bpf* s, Tier t) {
  if (t == Tier::fentry)
    return {{hooks::kFentrySndPcm.data(),
             {s->progs.earshot_fexit_capture_open, s->progs.earshot_fentry_pcm_release}},
            {hooks::kFexitSndPcmXfer.data(), {s->progs.earshot_fexit_pcm_xfer}}};
  return {{hooks::kLsmFileOpen.data(),
           {s->progs.earshot_lsm_file_open, s->progs.earshot_lsm_file_release,
            s->progs.earshot_lsm_file_free}},
          {hooks::kLsmFileIoctl.data(), {s->progs.earshot_lsm_file_ioctl}}};
}

const std::vector<const char*>& hook_names(Tier t) {
  static const std::vector<const char*> fentry{hooks::kFentrySndPcm.data(),
                                               hooks::kFexitSndPcmXfer.data()};
  static const std::vector<const char*> lsm{hooks::kLsmFileOpen.data(),
                                            hooks::kLsmFileIoctl.data()};
  return t == Tier::fentry ? fentry : lsm;
}

// Why a tier cannot work here, found without loading anything; empty if it may.
std::string precheck(Tier t) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (t == Tier::fentry) {
    // A modular snd_pcm carries its own BTF; a built-in one is in vmlinux's.
    if (!fs::exists("/sys/kernel/btf/snd_pcm", ec) && !fs::exists("/proc/asound", ec))
      return "no BTF for snd_pcm: kernel has no ALSA";
    return {};
  }
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

}  // namespace

struct AlsaTier::Impl {
  CaptureKernelSkeleton skel;
  std::vector<BpfLink> links;
  std::vector<HookStatus> status;
  bool attached = false;

  void unavailable(Tier t, const std::string& reason) {
    for (const char* hook : hook_names(t)) {
      status.push_back({hook, false, reason});
      log::warn("hook not attached", {{"hook", hook}, {"reason", reason}});
    }
  }

  // Opens, loads and attaches one tier alone, each program failing alone:
  // the tier works when its first hook (the opens) attached; a later hook
  // (frames) that did not says why. When the opens did not attach, leaves
  // nothing loaded and throws the reason (the next tier is tried).
  void load(Tier t, const SharedCaptureMaps& maps, const std::filesystem::path& btf_file) {
    LIBBPF_OPTS(bpf_object_open_opts, open_options,
                .btf_custom_path = btf_file.empty() ? nullptr : btf_file.c_str());
    ProgramChoice choice;
    {
      CaptureKernelSkeleton names(capture_kernel_bpf__open_opts(&open_options));
      if (!names)
        throw Error(fmt::format("capture_kernel BPF object did not open: {}", errno_text(errno)));
      for (Tier each : {Tier::fentry, Tier::lsm})
        for (const auto& h : hooks_of(names.get(), each))
          for (bpf_program* p : h.programs)
            if (each != t) choice.off.insert(bpf_program__name(p));
    }
    auto reuse = [](bpf_map* into, int fd) {
      if (fd < 0) return;
      int err = bpf_map__reuse_fd(into, fd);
      if (err)
        throw Error(fmt::format("cannot share map {}: {}", bpf_map__name(into), errno_text(err)));
    };
    std::vector<ProgramRefusal> refused;
    CaptureKernelSkeleton s = load_programs_alone<capture_kernel_bpf, capture_kernel_bpf__destroy>(
        tier_word(t), [&] { return capture_kernel_bpf__open_opts(&open_options); },
        [&](capture_kernel_bpf& a) {
          reuse(a.maps.data_capture, maps.capture_state);
          reuse(a.maps.capture_procs, maps.capture_procs);
          reuse(a.maps.tracked_tgids, maps.tracked_tgids);
          reuse(a.maps.events, maps.events);
          reuse(a.maps.lost, maps.lost);
          reuse(a.maps.watched_devices, maps.watched_devices);
          reuse(a.maps.capture_handles, maps.capture_handles);
        },
        capture_kernel_bpf__load, choice, refused);
    auto why_not_loaded = [&](const bpf_program* p) {
      for (const auto& r : refused)
        if (r.program == bpf_program__name(p))
          return fmt::format("{}: program {} {}", tier_word(t), r.program, r.reason);
      return fmt::format("{}: program {} not loaded", tier_word(t), bpf_program__name(p));
    };
    std::vector<BpfLink> made;
    std::vector<HookStatus> outcome;
    for (const auto& h : hooks_of(s.get(), t)) {
      HookStatus hook{h.hook, false, {}};
      std::vector<BpfLink> hook_links;
      try {
        for (bpf_program* p : h.programs) {
          if (bpf_program__fd(p) < 0) throw Error(why_not_loaded(p));
          bpf_link* link = bpf_program__attach(p);
          if (!link)
            throw Error(fmt::format("{}: attaching {}: {}", tier_word(t), bpf_program__name(p),
                                    errno_text(errno)));
          hook_links.emplace_back(link);
          hook.detail +=
              (hook.detail.empty() ? "" : ", ") + std::string(bpf_program__section_name(p));
        }
        hook.attached = true;
        for (auto& link : hook_links) made.push_back(std::move(link));
      } catch (const Error& e) {
        if (outcome.empty()) {
          release_links(made);
          throw;  // the opens: without them the tier sees nothing
        }
        hook.detail = e.what();
        log::warn("hook not attached", {{"hook", hook.hook}, {"reason", hook.detail}});
      }
      outcome.push_back(std::move(hook));
    }
    skel = std::move(s);
    links = std::move(made);
    status.insert(status.end(), outcome.begin(), outcome.end());
    attached = true;
  }

  void try_tier(Tier t, bool allowed, const SharedCaptureMaps& maps,
                const std::filesystem::path& btf_file) {
    if (!allowed) return unavailable(t, "disabled in config (capture.tiers)");
    if (attached)
      return unavailable(t, "not loaded: fentry_snd_pcm is in use and sees the same opens");
    if (std::string why = precheck(t); !why.empty()) return unavailable(t, why);
    try {
      load(t, maps, btf_file);
    } catch (const Error& e) {
      unavailable(t, e.what());
    }
  }
};

AlsaTier::AlsaTier(const AlsaTierOptions& options, const SharedCaptureMaps& maps)
    : impl_(std::make_unique<Impl>()) {
  // Strongest first: fentry is exact (frames from the kernel's own transfer);
  // LSM sees the same opens with frames from appl_ptr.
  impl_->try_tier(Tier::fentry, options.fentry, maps, options.btf_file);
  impl_->try_tier(Tier::lsm, options.lsm, maps, options.btf_file);
}

AlsaTier::~AlsaTier() {
  release_links(impl_->links);
}

const std::vector<HookStatus>& AlsaTier::status() const {
  return impl_->status;
}

bool AlsaTier::kernel_tier_attached() const {
  return impl_->attached;
}

std::vector<ProgramRef> AlsaTier::loaded_programs() const {
  std::vector<ProgramRef> out;
  if (!impl_->skel) return out;
  bpf_program* prog;
  bpf_object__for_each_program(prog, impl_->skel->obj) {
    if (bpf_program__fd(prog) >= 0) out.push_back({bpf_program__name(prog), bpf_program__fd(prog)});
  }
  return out;
}

}  // namespace earshot::kernel
