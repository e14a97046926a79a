// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The syscall capture tier, which needs no ALSA-level hook: tracepoints on
 * the openat/openat2 exits resolve fd -> file -> inode against the watched
 * device numbers; close ends the handle; read() and the READI/READN ioctls
 * on an open handle add the frames (or bytes) delivered. On a camera
 * (capture_v4l2.bpf.h) each VIDIOC_DQBUF that succeeds is a frame, and so
 * is each read() that returned data.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture_v4l2.bpf.h"

/* _IOR('A', 0x51 / 0x53, struct snd_xferi / snd_xfern), 24 bytes on 64-bit */
#define EARSHOT_SNDRV_PCM_IOCTL_READI_FRAMES 0x80184151U
#define EARSHOT_SNDRV_PCM_IOCTL_READN_FRAMES 0x80184153U

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

static __always_inline int on_open_exit(long fd)
{
	struct file *file = current_file_of_fd(fd);
	struct inode *inode;
	__u32 dev;
	__u16 mode;
	__u32 tgid;

	if (!file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & EARSHOT_S_IFMT) != EARSHOT_S_IFCHR)
		return 0;
	dev = BPF_CORE_READ(inode, i_rdev);
	if (!bpf_map_lookup_elem(&watched_devices, &dev))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (open_handle(tgid, EARSHOT_TIER_SYSCALL, fd, dev, watched_handle_flags(dev)) == 0)
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
	struct earshot_handle final;

	if (!any_capture_live())
		return 0;
	if (close_handle(tgid, EARSHOT_TIER_SYSCALL, fd, &final) == 0)
		emit_final(EARSHOT_EVENT_CAPTURE_CLOSE, EARSHOT_TIER_SYSCALL, fd, final.dev, 0, &final);
	return 0;
}

/* A read or read ioctl on a capture fd, between entry and exit, per thread. */
struct pending_read {
	__u64 fd;
	__u64 xfer;  /* struct snd_xferi/xfern * (struct v4l2_buffer * for DQBUF); 0 for read() */
	__u32 video; /* the handle is a camera's: a frame per DQBUF or read() */
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pending_read);
} read_pending SEC(".maps");

/* Entries in read_pending. Every read() and ioctl() in the system exits
 * through read_finished; while this is zero (nothing is reading a capture
 * fd) the exit costs one load instead of a hash lookup. A thread's own
 * entry is counted before its exit runs, so the gate never hides it. */
__u64 reads_pending = 0;

static __always_inline void read_started(__u64 fd, __u64 xfer, int dqbuf)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct earshot_handle_key key = { .tgid = tgid, .tier = EARSHOT_TIER_SYSCALL, .handle = fd };
	struct pending_read p = { .fd = fd, .xfer = xfer };
	struct earshot_handle *h;

	if (!may_be_capturing(tgid))
		return;
	h = bpf_map_lookup_elem(&capture_handles, &key);
	if (!h)
		return;
	p.video = (h->flags & EARSHOT_HANDLE_VIDEO) != 0;
	if (xfer && dqbuf != p.video) /* a DQBUF on a microphone, or READI on a camera */
		return;
	if (bpf_map_update_elem(&read_pending, &tid, &p, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&reads_pending, 1);
	else /* an entry this thread left (killed mid-read): replace it, counted once */
		bpf_map_update_elem(&read_pending, &tid, &p, BPF_EXIST);
}

static __always_inline void read_finished(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pending_read *p;
	__s64 frames = 0;
	__u64 fd;

	if (!reads_pending)
		return;
	p = bpf_map_lookup_elem(&read_pending, &tid);
	if (!p)
		return;
	fd = p->fd;
	if (p->video) {
		/* DQBUF returns 0 with a filled buffer; read() the bytes of a frame */
		if (p->xfer && ret == 0)
			add_frames(id >> 32, EARSHOT_TIER_SYSCALL, fd, 1, v4l2_dqbuf_bytes((void *)p->xfer));
		else if (!p->xfer && ret > 0)
			add_frames(id >> 32, EARSHOT_TIER_SYSCALL, fd, 1, ret);
	} else if (p->xfer) {
		/* snd_xferi/xfern: result (frames transferred) is the first field */
		if (ret == 0 && !bpf_probe_read_user(&frames, sizeof(frames), (void *)p->xfer) && frames > 0)
			add_frames(id >> 32, EARSHOT_TIER_SYSCALL, fd, frames, 0);
	} else if (ret > 0) {
		/* read() on a node that is not a PCM: its bytes are the audio */
		add_frames(id >> 32, EARSHOT_TIER_SYSCALL, fd, ret, ret);
	}
	if (bpf_map_delete_elem(&read_pending, &tid) == 0)
		__sync_fetch_and_add(&reads_pending, -1);
}

SEC("tracepoint/syscalls/sys_enter_read")
int earshot_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	read_started(ctx->args[0], 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int earshot_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	read_finished(ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int earshot_enter_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = ctx->args[1];

	if (cmd == EARSHOT_SNDRV_PCM_IOCTL_READI_FRAMES || cmd == EARSHOT_SNDRV_PCM_IOCTL_READN_FRAMES)
		read_started(ctx->args[0], ctx->args[2], 0);
	else if (cmd == EARSHOT_VIDIOC_DQBUF)
		read_started(ctx->args[0], ctx->args[2], 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int earshot_exit_ioctl(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	read_finished(ret);
	return 0;
}
