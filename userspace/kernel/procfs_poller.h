#pragma once
// Tier 5, the floor: /proc/asound/card*/pcm*c/sub*/status, polled. Parsing
// and the open/close/frames bookkeeping are pure (unit-tested); only
// ProcfsPoller::read touches the filesystem.
#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace earshot::kernel {

// One status file. A closed substream reads "closed"; an open one names its
// state, the opener (owner_pid, a thread id) and, once configured, the pointers.
struct PcmStatus {
  bool open = false;
  std::string state;  // RUNNING, PREPARED, SETUP, OPEN, XRUN, ...
  std::uint32_t owner_pid = 0;
  std::uint64_t hw_ptr = 0;
  std::uint64_t appl_ptr = 0;  // frames the application consumed since the last prepare
};

// Throws earshot::Error naming what is malformed.
PcmStatus parse_pcm_status(std::string_view text);

struct SubstreamId {
  int card = 0;
  int device = 0;
  int sub = 0;
  auto operator<=>(const SubstreamId&) const = default;
};

// One capture substream as one poll saw it.
struct SubstreamReading {
  SubstreamId id;
  std::uint32_t dev = 0;   // kernel dev_t of /dev/snd/pcmC<card>D<device>c; 0 if unknown
  std::uint32_t tgid = 0;  // process of owner_pid; 0 if unknown
  PcmStatus status;
};

struct ProcfsOpen {
  std::uint64_t handle;  // stable for the open's lifetime
  std::uint32_t tgid;
  std::uint32_t dev;
};
struct ProcfsClose {
  std::uint64_t handle;
  std::uint32_t tgid;
  std::uint32_t dev;
};
struct ProcfsFrames {
  std::uint64_t handle;
  std::uint32_t tgid;
  std::uint64_t frames;  // cumulative since the open
};

struct ProcfsChanges {
  std::vector<ProcfsOpen> opened;
  std::vector<ProcfsClose> closed;
  std::vector<ProcfsFrames> frames;  // every open handle, after the opens
};

// Turns successive polls into opens, closes and frames. An open substream
// with an owner is an open capture; it ends when the substream reads
// "closed", disappears, or changes owner. Frames follow appl_ptr (what the
// application consumed, as the other tiers count), not hw_ptr (what the
// hardware wrote, read or not).
class ProcfsTracker {
 public:
  ProcfsChanges update(const std::vector<SubstreamReading>& poll);

 private:
  struct Live {
    std::uint64_t handle = 0;
    std::uint32_t tgid = 0;
    std::uint32_t owner_pid = 0;
    std::uint32_t dev = 0;
    std::uint64_t last_appl_ptr = 0;
    std::uint64_t frames = 0;
  };
  std::map<SubstreamId, Live> live_;
  std::uint32_t generation_ = 0;
};

class ProcfsPoller {
 public:
  explicit ProcfsPoller(std::filesystem::path asound = "/proc/asound",
                        std::filesystem::path sound_class = "/sys/class/sound",
                        std::filesystem::path proc = "/proc");
  // Every capture substream's status; unreadable ones (a card going away) are skipped.
  std::vector<SubstreamReading> read() const;

 private:
  std::filesystem::path asound_, sound_class_, proc_;
};

}  // namespace earshot::kernel
