/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps shared by net.bpf.c and audio.bpf.c. Both objects declare them; the
 * loader makes audio reuse net's file descriptors, so there is one copy.
 */
#ifndef EARSHOT_MAPS_BPF_H
#define EARSHOT_MAPS_BPF_H

#include "earshot.h"

/* Live capture state the netfilter hook reads on every packet: a global in
 * a section of its own, so the read is a load from a fixed address (no map
 * lookup). Each object gets a one-entry array map for the section; the
 * loader makes the others reuse net's (libbpf names it "<obj>.data.capture",
 * the skeletons data_capture). */
struct earshot_capture_state capture_state SEC(".data.capture");

/* tgid -> live capture handles; consulted per packet only while a capture is live. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_PROCS);
	__type(key, __u32);
	__type(value, struct earshot_capture_proc);
} capture_procs SEC(".maps");

/* tgids that own sockets or captures: their exit is reported so userspace
 * learns the name of short-lived processes and retires their pid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64); /* start_ns */
} tracked_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EARSHOT_RINGBUF_BYTES);
} events SEC(".maps");

/* Events that could not be reported, by enum earshot_lost_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EARSHOT_LOST_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &reason);

	if (n)
		(*n)++;
}

/* The struct file behind one of the current task's descriptors, or NULL. */
static __always_inline struct file *current_file_of_fd(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds;
	struct file *file = 0;

	if (fd < 0)
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return 0;
	return file;
}

#endif /* EARSHOT_MAPS_BPF_H */
