#pragma once
// RAII for the kernel objects earshot holds: file descriptors, BPF links and
// skeletons. Every one is released exactly once, on every path.
#include <bpf/libbpf.h>

#include <memory>

#include "common/unique_fd.h"

namespace earshot::kernel {

struct BpfLinkDeleter {
  void operator()(bpf_link* link) const noexcept { bpf_link__destroy(link); }
};
using BpfLink = std::unique_ptr<bpf_link, BpfLinkDeleter>;

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
