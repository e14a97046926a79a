#include "kernel/btf_source.h"

#include <fmt/format.h>

namespace earshot::kernel {

BtfSource describe_btf(bool kernel_has_btf, const std::filesystem::path& btf_file) {
  if (!btf_file.empty()) return {true, fmt::format("kernel.btf_file {}", btf_file.string())};
  if (kernel_has_btf) return {true, fmt::format("the kernel's own ({})", kKernelBtfPath)};
  return {false, fmt::format("this kernel has no BTF ({} is missing) and kernel.btf_file is not "
                             "set: no BPF program that reads kernel structures can load; set "
                             "kernel.btf_file to a BTF file of this kernel (BTFHub publishes them)",
                             kKernelBtfPath)};
}

}  // namespace earshot::kernel
