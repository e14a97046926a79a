#pragma once
// The owners of accepted sockets through fexit on inet_accept
// (bpf/accept.bpf.c): on kernels with BTF trampolines it costs each accept()
// and nothing else. Where it does not load, the netfilter program learns
// the owner from the socket's first packet sent in a task's context.
#include <bpf/libbpf.h>

#include <memory>
#include <vector>

#include "kernel/hooks.h"

namespace earshot::kernel {

class AcceptObject {
 public:
  // Opens and loads accept.bpf.c on the maps of `net` (each map of the same
  // name: sock_owner, tracked_tgids, lost, ...). Throws Error with the reason.
  AcceptObject(bpf_object* net, const bpf_object_open_opts& open_options);
  ~AcceptObject();
  AcceptObject(const AcceptObject&) = delete;
  AcceptObject& operator=(const AcceptObject&) = delete;

  bpf_program* program() const;  // attach it; the link is the caller's
  std::vector<ProgramRef> loaded_programs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace earshot::kernel
