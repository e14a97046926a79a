#pragma once
// A BPF program as a legacy tc filter (clsact, direct action) on one
// interface: what gateway mode attaches to the LAN interfaces, on every
// kernel (tcx needs 6.6). A filter is not a link: it outlives the process
// that made it, so it has a fixed handle and priority, and attaching
// replaces a leftover of an earlier run instead of adding a second one.
// Programs on one hook are told apart by their slot (the priority is
// earshot's plus the slot): each keeps its own, whichever others attach.
#include <bpf/libbpf.h>

#include <cstdint>
#include <string>

namespace earshot::kernel {

class TcFilter {
 public:
  // Attaches at ingress or egress of the interface (creating its clsact
  // qdisc if needed) in `slot`. Throws Error naming the interface.
  TcFilter(bpf_program* program, const std::string& interface, bool ingress,
           std::uint32_t slot = 0);
  ~TcFilter();  // detaches; the clsact qdisc stays (others may use it)
  TcFilter(const TcFilter&) = delete;
  TcFilter& operator=(const TcFilter&) = delete;

  const std::string& interface() const { return interface_; }

 private:
  std::string interface_;
  int ifindex_ = 0;
  bool ingress_ = true;
  std::uint32_t priority_ = 0;
};

}  // namespace earshot::kernel
