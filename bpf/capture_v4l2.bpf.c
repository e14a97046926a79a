// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel-level camera tier: fentry/fexit on the V4L2 core (videodev's
 * module BTF), for watched camera nodes only (capture_v4l2.bpf.h).
 *
 * v4l2_open returning 0 opens a handle keyed by the struct file *;
 * v4l2_release ends it, whichever process holds the file last; v4l2_ioctl
 * returning 0 for VIDIOC_DQBUF adds a frame and the bytes the buffer
 * carried, and v4l2_read returning data adds a frame of that many bytes.
 * Both sit in front of every V4L2 driver's own file operations, so what
 * they see does not depend on the driver.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture_v4l2.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One open camera file: its opener (the release may run in another
 * process that inherited the file) and its device. */
struct v4l2_file {
	__u32 tgid;
	__u32 dev;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_HANDLES);
	__type(key, __u64); /* struct file * */
	__type(value, struct v4l2_file);
} v4l2_files SEC(".maps");

SEC("fexit/v4l2_open")
int BPF_PROG(earshot_fexit_v4l2_open, struct inode *inode, struct file *filp, int ret)
{
	__u64 key = (__u64)filp;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct v4l2_file value = { .tgid = tgid };

	if (ret != 0)
		return 0;
	value.dev = BPF_CORE_READ(inode, i_rdev);
	if (!watched_camera(value.dev))
		return 0;
	if (open_handle(tgid, EARSHOT_TIER_FENTRY, key, value.dev, EARSHOT_HANDLE_VIDEO) != 0)
		return 0;
	bpf_map_update_elem(&v4l2_files, &key, &value, BPF_ANY);
	emit(EARSHOT_EVENT_CAPTURE_OPEN, EARSHOT_TIER_FENTRY, key, value.dev, 0);
	return 0;
}

SEC("fentry/v4l2_release")
int BPF_PROG(earshot_fentry_v4l2_release, struct inode *inode, struct file *filp)
{
	__u64 key = (__u64)filp;
	struct v4l2_file *f = bpf_map_lookup_elem(&v4l2_files, &key);
	struct earshot_handle final;
	__u32 tgid;

	if (!f)
		return 0;
	tgid = f->tgid;
	bpf_map_delete_elem(&v4l2_files, &key);
	/* The opener may have exited already (its handles end with it). */
	if (close_handle(tgid, EARSHOT_TIER_FENTRY, key, &final) == 0)
		emit_close(tgid, EARSHOT_TIER_FENTRY, key, &final);
	return 0;
}

SEC("fexit/v4l2_ioctl")
int BPF_PROG(earshot_fexit_v4l2_ioctl, struct file *filp, unsigned int cmd, unsigned long arg,
	     long ret)
{
	__u64 key = (__u64)filp;
	struct v4l2_file *f;

	if (ret != 0 || cmd != EARSHOT_VIDIOC_DQBUF)
		return 0;
	f = bpf_map_lookup_elem(&v4l2_files, &key);
	if (f)
		add_frames(f->tgid, EARSHOT_TIER_FENTRY, key, 1, v4l2_dqbuf_bytes((void *)arg));
	return 0;
}

SEC("fexit/v4l2_read")
int BPF_PROG(earshot_fexit_v4l2_read, struct file *filp, char *buf, size_t size, loff_t *off,
	     long ret)
{
	__u64 key = (__u64)filp;
	struct v4l2_file *f;

	if (ret <= 0)
		return 0;
	f = bpf_map_lookup_elem(&v4l2_files, &key);
	if (f)
		add_frames(f->tgid, EARSHOT_TIER_FENTRY, key, 1, ret);
	return 0;
}
