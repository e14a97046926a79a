#pragma once
// Where the BTF for CO-RE relocations comes from: the kernel's own
// (/sys/kernel/btf/vmlinux), or kernel.btf_file for a kernel built without
// it (BTFHub publishes such files). Pure, unit-tested.
#include <filesystem>
#include <string>

namespace earshot::kernel {

inline constexpr const char* kKernelBtfPath = "/sys/kernel/btf/vmlinux";

struct BtfSource {
  bool usable = false;
  std::string description;  // where from, or exactly what is missing
};

BtfSource describe_btf(bool kernel_has_btf, const std::filesystem::path& btf_file);

}  // namespace earshot::kernel
