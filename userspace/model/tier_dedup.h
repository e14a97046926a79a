#pragma once
// Two detection tiers seeing the same open count it once.
//
// One arecord on hw:0,0 is seen by up to four tiers: the kernel (fentry or
// LSM, keyed by struct file *), the openat tracepoint (fd), libasound
// (snd_pcm_t *, no device number) and the procfs poller (substream). The
// opens of one process are grouped:
//   - an open that names a device joins a live group of the same process and
//     device that has no open from its tier yet, else a group that has only a
//     libasound open (device unknown) and none from its tier;
//   - a libasound open joins the most recent live group of the process that
//     has no libasound open (snd_pcm_open opens the device inside, so the
//     kernel-side opens come first);
//   - a libpulse or libpipewire open (a sound server's client stream, no
//     device) joins only a live group of the process that has a libasound
//     open and no device (an ALSA application on the server's plugin, whose
//     snd_pcm_open came first); nothing joins a group it is the primary of.
// The first open of a group is its primary: only it is counted, its frames
// are the group's, and the group ends when it closes (later closes of the
// others are swallowed). The kernel tiers fire first, so in practice the
// primary is the strongest tier present.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "model/capture_ledger.h"

namespace earshot::model {

class TierDedup {
 public:
  // Returns the primary this open duplicates, or nullopt when it is a new
  // capture (it becomes a primary). dev: kernel dev_t, 0 when the tier
  // cannot see it.
  std::optional<HandleId> opened(const HandleId& id, std::uint32_t dev);
  // True when this close ends a counted capture (the handle is a primary, or
  // was never seen: the ledger then decides); false for a duplicate's close.
  bool closed(const HandleId& id);
  // The process exited: every open it held is gone.
  void process_exited(std::uint32_t tgid);
  std::size_t tracked() const { return members_.size(); }

 private:
  struct Group {
    HandleId primary;
    std::uint32_t dev = 0;
    std::set<Tier> tiers;
    std::uint64_t order = 0;  // when it was formed (later = more recent)
    bool ended = false;
  };
  std::map<HandleId, std::shared_ptr<Group>> members_;
  std::uint64_t next_order_ = 0;
};

}  // namespace earshot::model
