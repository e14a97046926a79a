// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture devices: who opens the microphone, and until when.
 *
 * Tiers that load on a kernel without ALSA-level hooks: syscall tracepoints
 * (openat/openat2 exits resolved fd -> file -> inode against the watched
 * device numbers; close; process exit) and uprobes on libasound
 * (snd_pcm_open with the capture stream, snd_pcm_close).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

#define EARSHOT_S_IFMT 00170000
#define EARSHOT_S_IFCHR 0020000
#define EARSHOT_SND_PCM_STREAM_CAPTURE 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Kernel dev_t of watched capture nodes (filled by userspace). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_WATCHED_DEVICES);
	__type(key, __u32);
	__type(value, __u8);
} watched_devices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_HANDLES);
	__type(key, struct earshot_handle_key);
	__type(value, struct earshot_handle);
} capture_handles SEC(".maps");

/* snd_pcm_open arguments between entry and return, per thread. */
struct pcm_open_args {
	__u64 pcmp;
	__u64 name;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pcm_open_args);
} pcm_open_pending SEC(".maps");

static __always_inline __u64 current_start_ns(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, group_leader, start_boottime);
}

static __always_inline void emit(__u32 kind, __u32 tier, __u64 handle, __u32 dev,
				 const char *user_pcm_name)
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
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void capture_started(__u32 tgid, __u64 start_ns)
{
	struct earshot_capture_proc fresh = {}, *proc;
	struct earshot_capture_state *cs;

	bpf_map_update_elem(&capture_procs, &tgid, &fresh, BPF_NOEXIST);
	proc = bpf_map_lookup_elem(&capture_procs, &tgid);
	if (!proc)
		return;
	if (__sync_fetch_and_add(&proc->open_handles, 1) == 0) {
		cs = get_capture_state();
		if (cs)
			__sync_fetch_and_add(&cs->live_procs, 1);
	}
	bpf_map_update_elem(&tracked_tgids, &tgid, &start_ns, BPF_ANY);
}

static __always_inline void proc_capture_over(__u32 tgid)
{
	struct earshot_capture_state *cs = get_capture_state();

	bpf_map_delete_elem(&capture_procs, &tgid);
	if (!cs)
		return;
	__sync_fetch_and_sub(&cs->live_procs, 1);
	cs->last_end_ns = bpf_ktime_get_ns();
	cs->grace_armed = 1;
}

static __always_inline void capture_ended(__u32 tgid)
{
	struct earshot_capture_proc *proc = bpf_map_lookup_elem(&capture_procs, &tgid);

	if (proc && __sync_fetch_and_sub(&proc->open_handles, 1) == 1)
		proc_capture_over(tgid);
}

/* Opens a handle; returns 0 if it was new. */
static __always_inline int open_handle(__u32 tgid, __u32 tier, __u64 handle, __u32 dev)
{
	struct earshot_handle_key key = { .tgid = tgid, .tier = tier, .handle = handle };
	struct earshot_handle h = { .open_ns = bpf_ktime_get_ns(), .dev = dev };

	if (bpf_map_update_elem(&capture_handles, &key, &h, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&capture_handles, &key))
			count_lost(EARSHOT_LOST_HANDLE_TABLE);
		return -1;
	}
	capture_started(tgid, current_start_ns());
	return 0;
}

static __always_inline int close_handle(__u32 tgid, __u32 tier, __u64 handle, __u32 *dev)
{
	struct earshot_handle_key key = { .tgid = tgid, .tier = tier, .handle = handle };
	struct earshot_handle *h = bpf_map_lookup_elem(&capture_handles, &key);

	if (!h)
		return -1;
	*dev = h->dev;
	bpf_map_delete_elem(&capture_handles, &key);
	capture_ended(tgid);
	return 0;
}

/* ---- syscall tier ---- */

static __always_inline int on_open_exit(long fd)
{
	struct task_struct *task;
	struct file **fds;
	struct file *file = 0;
	struct inode *inode;
	__u32 dev;
	__u16 mode;
	__u32 tgid;

	if (fd < 0)
		return 0;
	task = bpf_get_current_task_btf();
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & EARSHOT_S_IFMT) != EARSHOT_S_IFCHR)
		return 0;
	dev = BPF_CORE_READ(inode, i_rdev);
	if (!bpf_map_lookup_elem(&watched_devices, &dev))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (open_handle(tgid, EARSHOT_TIER_SYSCALL, fd, dev) == 0)
		emit(EARSHOT_EVENT_CAPTURE_OPEN, EARSHOT_TIER_SYSCALL, fd, dev, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int earshot_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	return on_open_exit(ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int earshot_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	return on_open_exit(ret);
}

SEC("tracepoint/syscalls/sys_enter_close")
int earshot_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 fd = ctx->args[0];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 dev;

	if (close_handle(tgid, EARSHOT_TIER_SYSCALL, fd, &dev) == 0)
		emit(EARSHOT_EVENT_CAPTURE_CLOSE, EARSHOT_TIER_SYSCALL, fd, dev, 0);
	return 0;
}

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

/* ---- libasound tier ---- */

SEC("uprobe")
int BPF_UPROBE(earshot_pcm_open, void **pcmp, const char *name, int stream, int mode)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pcm_open_args args = { .pcmp = (__u64)pcmp, .name = (__u64)name };

	if (stream != EARSHOT_SND_PCM_STREAM_CAPTURE)
		return 0;
	bpf_map_update_elem(&pcm_open_pending, &tid, &args, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pcm_open_ret, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pcm_open_args *args = bpf_map_lookup_elem(&pcm_open_pending, &tid);
	__u64 handle = 0;
	__u64 name;

	if (!args)
		return 0;
	name = args->name;
	if (ret == 0 && !bpf_probe_read_user(&handle, sizeof(handle), (void *)args->pcmp) && handle &&
	    open_handle(id >> 32, EARSHOT_TIER_LIBASOUND, handle, 0) == 0)
		emit(EARSHOT_EVENT_CAPTURE_OPEN, EARSHOT_TIER_LIBASOUND, handle, 0, (const char *)name);
	bpf_map_delete_elem(&pcm_open_pending, &tid);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pcm_close, void *pcm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 dev;

	if (close_handle(tgid, EARSHOT_TIER_LIBASOUND, (__u64)pcm, &dev) == 0)
		emit(EARSHOT_EVENT_CAPTURE_CLOSE, EARSHOT_TIER_LIBASOUND, (__u64)pcm, 0, 0);
	return 0;
}
