// nf-floor: holds a near-empty netfilter program (bpf/nf_floor.bpf.c) at
// LOCAL_OUT of the current network namespace while scripts/bench.sh measures,
// then prints its mean run time: the floor under earshot's ns-a-packet figure.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>

#include "bench.h"
#include "common/error.h"
#include "kernel/bpf_handles.h"
#include "nf_floor.skel.h"

namespace earshot::bench {

namespace {

constexpr unsigned kNfProtoIpv4 = 2;  // NFPROTO_IPV4
constexpr unsigned kNfInetLocalOut = 3;
// Below earshot's own priorities (1000 and up), so it attaches while earshot runs
// (bench.sh measures the two apart: the first program warms the cache).
constexpr int kFloorPriority = 900;

using FloorSkeleton = kernel::SkeletonPtr<nf_floor_bpf, nf_floor_bpf__destroy>;

}  // namespace

int nf_floor(double seconds) {
  FloorSkeleton skel(nf_floor_bpf__open_and_load());
  if (!skel) throw_errno("loading nf_floor.bpf.o");
  LIBBPF_OPTS(bpf_netfilter_opts, opts, .pf = kNfProtoIpv4, .hooknum = kNfInetLocalOut,
              .priority = kFloorPriority);
  kernel::BpfLink link(bpf_program__attach_netfilter(skel->progs.earshot_nf_floor, &opts));
  if (!link) throw_errno("attaching the floor program at LOCAL_OUT");

  // Held until `seconds` pass or SIGTERM/SIGINT, whichever is first.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  if (sigprocmask(SIG_BLOCK, &stop, nullptr) != 0) throw_errno("sigprocmask");
  UniqueFd signals(::signalfd(-1, &stop, SFD_CLOEXEC));
  if (!signals) throw_errno("signalfd");
  say("ready");
  pollfd wait_for{signals.get(), POLLIN, 0};
  if (::poll(&wait_for, 1, static_cast<int>(seconds * 1000)) < 0 && errno != EINTR)
    throw_errno("poll");

  bpf_prog_info info{};
  __u32 size = sizeof info;
  if (bpf_prog_get_info_by_fd(bpf_program__fd(skel->progs.earshot_nf_floor), &info, &size) != 0)
    throw_errno("bpf_prog_get_info_by_fd");
  say(fmt::format("runs={} run_time_ns={}", info.run_cnt, info.run_time_ns));
  if (info.run_cnt > 0)
    say(fmt::format("floor_ns={:.1f}",
                    static_cast<double>(info.run_time_ns) / static_cast<double>(info.run_cnt)));
  return 0;
}

}  // namespace earshot::bench
