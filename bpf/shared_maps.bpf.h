/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps every object holds: the capture state the counting hooks read, the
 * processes they follow, and the events ring. Declared here, defined once
 * in shared_maps.bpf.c, which is linked into each object; at load the
 * loader makes the other objects reuse net's, so there is one copy.
 */
#ifndef EARSHOT_SHARED_MAPS_BPF_H
#define EARSHOT_SHARED_MAPS_BPF_H

#include "earshot.h"

/* Live capture state the netfilter hook reads on every packet: a global in
 * a section of its own, so the read is a load from a fixed address (no map
 * lookup). Each object gets a one-entry array map for the section; the
 * loader makes the others reuse net's (libbpf names it "<obj>.data.capture",
 * the skeletons data_capture). */
extern struct earshot_capture_state capture_state SEC(".data.capture");

/* A map's type is named so that an extern declaration and the definition
 * spell it once: the static linker wants them to match. */

/* tgid -> live capture handles; consulted per packet only while a capture is live. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_PROCS);
	__type(key, __u32);
	__type(value, struct earshot_capture_proc);
} capture_procs_map;
extern capture_procs_map capture_procs SEC(".maps");

/* tgids that own sockets or captures: their exit is reported so userspace
 * learns the name of short-lived processes and retires their pid. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64); /* start_ns */
} tracked_tgids_map;
extern tracked_tgids_map tracked_tgids SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EARSHOT_RINGBUF_BYTES);
} events_map;
extern events_map events SEC(".maps");

/* Events that could not be reported, by enum earshot_lost_reason. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EARSHOT_LOST_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} lost_map;
extern lost_map lost SEC(".maps");

static __always_inline void count_lost(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &reason);

	if (n)
		(*n)++;
}

#endif /* EARSHOT_SHARED_MAPS_BPF_H */
