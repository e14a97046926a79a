// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process exit: a capturing process's captures end with it, and the exit of
 * any process that owned sockets or captures (tracked_tgids) is reported.
 * Loaded with the capture tiers whatever tiers are on: it ends captures and
 * names socket owners alike.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The last thread of a process exits: its captures end (handles are
 * dropped by userspace, which saw them open), and userspace learns its name. */
SEC("tracepoint/sched/sched_process_exit")
int earshot_process_exit(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	int live = BPF_CORE_READ(task, signal, live.counter);

	if (live != 0)
		return 0;
	if (bpf_map_lookup_elem(&capture_procs, &tgid))
		proc_capture_over(tgid);
	if (bpf_map_lookup_elem(&tracked_tgids, &tgid)) {
		bpf_map_delete_elem(&tracked_tgids, &tgid);
		emit(EARSHOT_EVENT_PROCESS_EXIT, 0, 0, 0, 0);
	}
	return 0;
}
