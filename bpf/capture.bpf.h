/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture bookkeeping shared by every detection tier (capture_syscalls.bpf.c,
 * capture_libasound.bpf.c, capture_alsa.bpf.c): watched devices, open
 * handles, live capture state, events. The maps are defined once in
 * capture_maps.bpf.c, linked into both capture objects; the loader makes
 * them one copy.
 */
#ifndef EARSHOT_CAPTURE_BPF_H
#define EARSHOT_CAPTURE_BPF_H

#include "shared_maps.bpf.h"

#define EARSHOT_S_IFMT 00170000
#define EARSHOT_S_IFCHR 0020000

/* Kernel dev_t of watched capture nodes (filled by userspace). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_WATCHED_DEVICES);
	__type(key, __u32);
	__type(value, __u8);
} watched_devices_map;
extern watched_devices_map watched_devices SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_HANDLES);
	__type(key, struct earshot_handle_key);
	__type(value, struct earshot_handle);
} capture_handles_map;
extern capture_handles_map capture_handles SEC(".maps");

static __always_inline __u64 current_start_ns(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, group_leader, start_boottime);
}

static __always_inline void emit_final(__u32 kind, __u32 tier, __u64 handle, __u32 dev,
				       const char *user_pcm_name, const struct earshot_handle *final)
{
	struct earshot_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!e) {
		count_lost(EARSHOT_LOST_RINGBUF_FULL);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->start_ns = current_start_ns();
	e->handle = handle;
	e->kind = kind;
	e->tier = tier;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->dev = dev;
	e->reserved = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->pcm_name[0] = 0;
	if (user_pcm_name)
		bpf_probe_read_user_str(e->pcm_name, sizeof(e->pcm_name), user_pcm_name);
	e->frames = final ? final->frames : 0;
	e->bytes = final ? final->bytes : 0;
	bpf_ringbuf_submit(e, 0);
}

/* emit() names the current process; a release in another process must
 * still report the opener's handle. */
static __always_inline void emit_close(__u32 tgid, __u32 tier, __u64 handle,
				       const struct earshot_handle *final)
{
	struct earshot_event *e;

	if (tgid == bpf_get_current_pid_tgid() >> 32) {
		emit_final(EARSHOT_EVENT_CAPTURE_CLOSE, tier, handle, final->dev, 0, final);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(EARSHOT_LOST_RINGBUF_FULL);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->handle = handle;
	e->kind = EARSHOT_EVENT_CAPTURE_CLOSE;
	e->tier = tier;
	e->tgid = tgid;
	e->dev = final->dev;
	e->frames = final->frames;
	e->bytes = final->bytes;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void emit(__u32 kind, __u32 tier, __u64 handle, __u32 dev,
				 const char *user_pcm_name)
{
	emit_final(kind, tier, handle, dev, user_pcm_name, 0);
}

static __always_inline void capture_started(__u32 tgid, __u64 start_ns)
{
	struct earshot_capture_proc fresh = {}, *proc;

	bpf_map_update_elem(&capture_procs, &tgid, &fresh, BPF_NOEXIST);
	proc = bpf_map_lookup_elem(&capture_procs, &tgid);
	if (!proc)
		return;
	if (__sync_fetch_and_add(&proc->open_handles, 1) == 0)
		__sync_fetch_and_add(&capture_state.live_procs, 1);
	bpf_map_update_elem(&tracked_tgids, &tgid, &start_ns, BPF_ANY);
}

static __always_inline void proc_capture_over(__u32 tgid)
{
	bpf_map_delete_elem(&capture_procs, &tgid);
	__sync_fetch_and_sub(&capture_state.live_procs, 1);
	capture_state.last_end_ns = bpf_ktime_get_ns();
	capture_state.grace_armed = 1;
}

static __always_inline void capture_ended(__u32 tgid)
{
	struct earshot_capture_proc *proc = bpf_map_lookup_elem(&capture_procs, &tgid);

	if (proc && __sync_fetch_and_sub(&proc->open_handles, 1) == 1)
		proc_capture_over(tgid);
}

/* Opens a handle; returns 0 if it was new. */
static __always_inline int open_handle(__u32 tgid, __u32 tier, __u64 handle, __u32 dev, __u32 flags)
{
	struct earshot_handle_key key = { .tgid = tgid, .tier = tier, .handle = handle };
	struct earshot_handle h = { .open_ns = bpf_ktime_get_ns(), .dev = dev, .flags = flags };

	if (bpf_map_update_elem(&capture_handles, &key, &h, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&capture_handles, &key))
			count_lost(EARSHOT_LOST_HANDLE_TABLE);
		return -1;
	}
	capture_started(tgid, current_start_ns());
	return 0;
}

/* Ends a handle; *final gets its last state. Returns 0 if it was open. */
static __always_inline int close_handle(__u32 tgid, __u32 tier, __u64 handle,
					struct earshot_handle *final)
{
	struct earshot_handle_key key = { .tgid = tgid, .tier = tier, .handle = handle };
	struct earshot_handle *h = bpf_map_lookup_elem(&capture_handles, &key);

	if (!h)
		return -1;
	__builtin_memcpy(final, h, sizeof(*final));
	bpf_map_delete_elem(&capture_handles, &key);
	capture_ended(tgid);
	return 0;
}

/* True when any process holds a capture handle (every open handle counts
 * its process in live_procs): one load, so a hook on a hot syscall (close)
 * costs next to nothing while nothing captures. */
static __always_inline int any_capture_live(void)
{
	return capture_state.live_procs;
}

/* True when this process may hold a capture handle. */
static __always_inline int may_be_capturing(__u32 tgid)
{
	return any_capture_live() && bpf_map_lookup_elem(&capture_procs, &tgid);
}

/* Frames (or bytes, for a node that is not a PCM) a handle delivered. */
static __always_inline void add_frames(__u32 tgid, __u32 tier, __u64 handle, __u64 frames, __u64 bytes)
{
	struct earshot_handle_key key = { .tgid = tgid, .tier = tier, .handle = handle };
	struct earshot_handle *h = bpf_map_lookup_elem(&capture_handles, &key);
	struct earshot_capture_proc *proc;
	__u64 now;

	if (!h)
		return;
	now = bpf_ktime_get_ns();
	__sync_fetch_and_add(&h->frames, frames);
	__sync_fetch_and_add(&h->bytes, bytes);
	h->last_frame_ns = now;
	proc = bpf_map_lookup_elem(&capture_procs, &tgid);
	if (proc)
		proc->last_frame_ns = now;
}

#endif /* EARSHOT_CAPTURE_BPF_H */
