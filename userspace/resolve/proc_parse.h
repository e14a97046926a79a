#pragma once
// Pure parsers for /proc text: they take what the kernel wrote and return data,
// with no I/O, so every hostile shape of a process name can be unit-tested.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace earshot::resolve {

// The fields of /proc/PID/stat that process identity needs.
struct ProcStat {
  uint32_t pid = 0;
  std::string comm;  // raw bytes between the parentheses; may be any bytes
  char state = '?';
  uint64_t start_ticks = 0;  // field 22: clock ticks since boot
};

// Parses /proc/PID/stat. The comm may contain spaces, parentheses and
// newlines, so the fields after it are found from the LAST ')'.
// Returns nullopt when the text is not a stat line.
std::optional<ProcStat> parse_stat(std::string_view text);

// The clock-tick value /proc/PID/stat shows for a start time that BPF read as
// task->start_boottime (ns): the kernel's nsec_to_clock_t, integer division.
uint64_t start_ticks_from_ns(uint64_t start_ns, long ticks_per_second);

// The systemd unit or container a process belongs to, from /proc/PID/cgroup.
// Uses the cgroup v2 line ("0::/path") or, when that names no unit (hybrid
// hosts), the "name=systemd" v1 line. Containers get a short form such as
// "docker:0123456789ab"; otherwise the innermost .service/.scope; "" when none.
std::string unit_from_cgroup(std::string_view cgroup_text);

// The unit or container named by one cgroup path ("/system.slice/x.service").
std::string unit_from_cgroup_path(std::string_view path);

// The executable's name from readlink(/proc/PID/exe): the basename, without
// the " (deleted)" the kernel appends once the file was unlinked or replaced.
std::string exe_basename(std::string_view exe_link);

// The name a process goes by: the executable's basename, except when comm is
// the name of a link to that same executable (comm_is_alias_of_exe): then
// comm, the name it was run by (`arecord` is a link to aplay, busybox
// applets are one binary). Empty exe (unreadable): comm.
std::string process_name(std::string_view exe_name, std::string_view comm, bool comm_is_alias_of_exe);

}  // namespace earshot::resolve
