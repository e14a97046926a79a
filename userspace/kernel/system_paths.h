#pragma once
// Where this system keeps the filesystems BPF attachment needs.
#include <filesystem>
#include <optional>
#include <string>

namespace earshot::kernel {

// Mount point of the cgroup v2 hierarchy (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on hybrid hosts), parsed from mountinfo text.
std::optional<std::filesystem::path> find_cgroup2_mount(const std::string& mountinfo_text);

// libbpf resolves tracepoints through tracefs; some systems do not mount it
// at boot. Mounts it at /sys/kernel/tracing when absent. Throws earshot::Error.
void ensure_tracefs();

// Reads a whole small file (procfs, sysfs). Throws earshot::Error naming it.
std::string read_text_file(const std::filesystem::path& path);

// libasound.so.2 in the usual library directories; empty when absent.
std::filesystem::path find_libasound();

// A shared library (by soname, e.g. libpulse.so.0) in the usual library
// directories, resolved to its file (uprobes attach to the file); empty
// when absent.
std::filesystem::path find_library(std::string_view soname);

}  // namespace earshot::kernel
