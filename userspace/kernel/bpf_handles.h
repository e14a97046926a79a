#pragma once
// RAII for the kernel objects earshot holds: file descriptors, BPF links and
// skeletons. Every one is released exactly once, on every path.
#include <bpf/libbpf.h>
#include <unistd.h>

#include <memory>
#include <utility>

namespace earshot::kernel {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

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
