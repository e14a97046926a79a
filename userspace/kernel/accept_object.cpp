#include "kernel/accept_object.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

// The ABI first: the skeletons declare global data with its structs.
// clang-format off
#include "kernel/abi.h"
#include "accept.skel.h"
// clang-format on

#include "common/error.h"
#include "kernel/bpf_handles.h"
#include "kernel/program_loader.h"

namespace earshot::kernel {

using AcceptSkeleton = SkeletonPtr<accept_bpf, accept_bpf__destroy>;

struct AcceptObject::Impl {
  AcceptSkeleton skel;
};

AcceptObject::AcceptObject(bpf_object* net, const bpf_object_open_opts& open_options)
    : impl_(std::make_unique<Impl>()) {
  AcceptSkeleton s(accept_bpf__open_opts(&open_options));
  if (!s) throw Error(fmt::format("accept BPF object did not open: {}", std::strerror(errno)));
  bpf_map* map;
  bpf_object__for_each_map(map, s->obj) {
    bpf_map* shared = bpf_object__find_map_by_name(net, bpf_map__name(map));
    if (!shared) continue;
    if (int err = bpf_map__reuse_fd(map, bpf_map__fd(shared)); err)
      throw Error(fmt::format("cannot share map {}: {}", bpf_map__name(map), std::strerror(-err)));
  }
  LibbpfWarnings warnings;
  if (int err = accept_bpf__load(s.get()); err) {
    auto refusal = find_refused_program(warnings.lines());
    throw Error(fmt::format("program {} refused by the kernel ({}){}",
                            bpf_program__name(s->progs.earshot_fexit_inet_accept),
                            std::strerror(-err), refusal ? ": " + refusal->reason : ""));
  }
  impl_->skel = std::move(s);
}

AcceptObject::~AcceptObject() = default;

bpf_program* AcceptObject::program() const {
  return impl_->skel->progs.earshot_fexit_inet_accept;
}

std::vector<ProgramRef> AcceptObject::loaded_programs() const {
  return {{bpf_program__name(program()), bpf_program__fd(program())}};
}

}  // namespace earshot::kernel
