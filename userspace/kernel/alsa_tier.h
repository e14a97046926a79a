#pragma once
// The kernel-level capture tiers (bpf/capture_alsa.bpf.c): fentry/fexit on snd_pcm
// (tier 1) and BPF LSM on watched device numbers (tier 2). The strongest that
// loads is used and the other is not loaded: both see the same opens, and one
// is enough. Each hook's outcome is recorded with the reason, like the rest.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kernel/hooks.h"

namespace earshot::kernel {

// File descriptors of the maps capture_alsa.bpf.c shares with the net and
// capture_user objects (capture.bpf.h, shared_maps.bpf.h): one capture state
// for every tier.
struct SharedCaptureMaps {
  int capture_state = -1;
  int capture_procs = -1;
  int tracked_tgids = -1;
  int events = -1;
  int lost = -1;
  int watched_devices = -1;
  int capture_handles = -1;
};

struct AlsaTierOptions {
  bool fentry = true;  // capture.tiers has fentry, and kernel.disabled_hooks not its hooks
  bool lsm = true;     // likewise for lsm
  std::filesystem::path btf_file;  // kernel.btf_file; empty: the kernel's own
};

class AlsaTier {
 public:
  // Never throws for a tier the kernel refuses: that is recorded in status().
  AlsaTier(const AlsaTierOptions& options, const SharedCaptureMaps& maps);
  ~AlsaTier();
  AlsaTier(const AlsaTier&) = delete;
  AlsaTier& operator=(const AlsaTier&) = delete;

  const std::vector<HookStatus>& status() const;
  std::vector<ProgramRef> loaded_programs() const;
  // True when tier 1 or 2 attached: the procfs floor is then not needed.
  bool kernel_tier_attached() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace earshot::kernel
