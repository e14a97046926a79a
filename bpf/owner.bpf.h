/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket owners: the table the counting hooks' counts are joined to, and
 * how a hook in process context records an owner in it. sock_owner is
 * defined once in owner_maps.bpf.c, linked into net and accept; the loader
 * makes accept reuse net's map.
 */
#ifndef EARSHOT_OWNER_BPF_H
#define EARSHOT_OWNER_BPF_H

#include "shared_maps.bpf.h"

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EARSHOT_MAX_SOCKETS);
	__type(key, __u64); /* socket cookie */
	__type(value, struct earshot_owner);
} sock_owner_map;
extern sock_owner_map sock_owner SEC(".maps");

static __always_inline __u64 task_start_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

static __always_inline void record_owner(__u64 cookie, __u32 tgid, __u64 start_ns, __u64 flags)
{
	struct earshot_owner owner = { .tgid = tgid, .start_ns = start_ns };

	if (bpf_map_update_elem(&sock_owner, &cookie, &owner, flags) && flags == BPF_ANY)
		count_lost(EARSHOT_LOST_OWNER_TABLE);
	bpf_map_update_elem(&tracked_tgids, &tgid, &start_ns, BPF_ANY);
}

#endif /* EARSHOT_OWNER_BPF_H */
