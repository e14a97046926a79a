#include "kernel/tc_filter.h"

#include <fmt/format.h>
#include <net/if.h>

#include <cerrno>

#include "common/error.h"

namespace earshot::kernel {

namespace {

// earshot's filters on a hook: "es" in the handle, priorities of their own
// from kPriority on.
constexpr __u32 kHandle = 0xe5;
constexpr __u32 kPriority = 0xe5;

bpf_tc_attach_point point(bool ingress) {
  return ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

}  // namespace

TcFilter::TcFilter(bpf_program* program, const std::string& interface, bool ingress,
                   std::uint32_t slot)
    : interface_(interface), ingress_(ingress), priority_(kPriority + slot) {
  const char* where = ingress ? "ingress" : "egress";
  ifindex_ = static_cast<int>(if_nametoindex(interface.c_str()));
  if (ifindex_ == 0) throw Error(fmt::format("tc {} of {}: no such interface", where, interface));
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = point(ingress));
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST)
    throw Error(
        fmt::format("tc {} of {}: cannot add clsact: {}", where, interface, errno_text(-err)));
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(program), .flags = BPF_TC_F_REPLACE,
              .handle = kHandle, .priority = priority_);
  err = bpf_tc_attach(&hook, &opts);
  if (err) throw Error(fmt::format("tc {} of {}: {}", where, interface, errno_text(-err)));
}

TcFilter::~TcFilter() {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = point(ingress_));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kHandle, .priority = priority_);
  bpf_tc_detach(&hook, &opts);  // gone with its interface already: nothing to do
}

}  // namespace earshot::kernel
