#pragma once
// RAII for the kernel objects earshot holds: file descriptors, BPF links and
// skeletons. Every one is released exactly once, on every path.
#include <bpf/libbpf.h>

#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace earshot::kernel {

struct BpfLinkDeleter {
  void operator()(bpf_link* link) const noexcept { bpf_link__destroy(link); }
};
using BpfLink = std::unique_ptr<bpf_link, BpfLinkDeleter>;

// Detaching a link waits for kernel grace periods (40-110 ms a link on the
// 2-core VM of BENCHMARKS.md, 1.5 s for earshot's 15 one after another). Detaching
// them from one thread each lets the waits overlap. Links no thread could be
// started for (std::system_error, std::bad_alloc) are released here, one
// after another.
inline void release_links(std::vector<BpfLink>& links) noexcept {
  std::vector<std::jthread> releasing;
  try {
    releasing.reserve(links.size());
    for (auto& link : links)
      releasing.emplace_back([owned = std::move(link)]() mutable { owned.reset(); });
  } catch (const std::exception&) {
  }
  links.clear();
}

template <typename Skeleton, void (*Destroy)(Skeleton*)>
struct SkeletonDeleter {
  void operator()(Skeleton* s) const noexcept { Destroy(s); }
};
template <typename Skeleton, void (*Destroy)(Skeleton*)>
using SkeletonPtr = std::unique_ptr<Skeleton, SkeletonDeleter<Skeleton, Destroy>>;

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const noexcept { ring_buffer__free(rb); }
};
using RingBuffer = std::unique_ptr<ring_buffer, RingBufferDeleter>;

}  // namespace earshot::kernel
