#pragma once
// pid -> process identity, read from /proc with a guard against pid reuse.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace earshot::resolve {

struct ProcessIdentity {
  std::string process;    // executable basename, or comm when the exe is unreadable
  std::string unit;       // systemd unit or container ("" when none)
  std::string comm;       // raw comm from /proc/PID/stat (at most 15 bytes)
  uint64_t start_ns = 0;  // start time in boot-time ns (tick resolution when derived)
};

// Values are raw bytes as the kernel reports them; sanitize them
// (model/label_value.h) before they become metric labels.
class ProcReader {
 public:
  explicit ProcReader(std::filesystem::path proc_root = "/proc");

  // The identity of process `tgid`, or nullopt when it is gone or, with a
  // nonzero expected_start_ns (task->group_leader->start_boottime), when the
  // pid now belongs to a different process. expected_start_ns == 0 means
  // "unknown": whatever process has the pid now is returned.
  std::optional<ProcessIdentity> read(uint32_t tgid, uint64_t expected_start_ns) const;

 private:
  std::filesystem::path proc_root_;
  long ticks_per_second_;
};

}  // namespace earshot::resolve
