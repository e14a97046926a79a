/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Cameras (V4L2 capture nodes) beside microphones: what a watched node's
 * kind is, and what a dequeued buffer carried. Shared by the syscall tier
 * (capture_syscalls.bpf.c) and the V4L2 fentry tier (capture_v4l2.bpf.c).
 */
#ifndef EARSHOT_CAPTURE_V4L2_BPF_H
#define EARSHOT_CAPTURE_V4L2_BPF_H

#include "capture.bpf.h"

#define EARSHOT_ALSA_MAJOR 116

/* The handle flags of a watched node: a camera's frames are buffers, an
 * ALSA PCM's are frames, anything else counts bytes read. */
static __always_inline __u32 watched_handle_flags(__u32 dev)
{
	__u8 *kind = bpf_map_lookup_elem(&watched_devices, &dev);

	if (kind && *kind == EARSHOT_DEVICE_CAMERA)
		return EARSHOT_HANDLE_VIDEO;
	return (dev >> EARSHOT_MINORBITS) == EARSHOT_ALSA_MAJOR ? EARSHOT_HANDLE_PCM : 0;
}

/* True when a watched node is a camera. */
static __always_inline int watched_camera(__u32 dev)
{
	__u8 *kind = bpf_map_lookup_elem(&watched_devices, &dev);

	return kind && *kind == EARSHOT_DEVICE_CAMERA;
}

/* Bytes a successful VIDIOC_DQBUF handed back (the user's struct
 * v4l2_buffer, filled in by the kernel): bytesused, or for a multi-planar
 * buffer the sum over its planes. 0 when unreadable. */
static __always_inline __u64 v4l2_dqbuf_bytes(const void *ubuf)
{
	const char *buf = ubuf;
	__u32 type = 0, used = 0, planes = 0;
	__u64 planes_ptr = 0, sum = 0;

	if (!buf || bpf_probe_read_user(&type, sizeof(type), buf + EARSHOT_V4L2_BUFFER_TYPE_OFF))
		return 0;
	if (type != EARSHOT_V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		bpf_probe_read_user(&used, sizeof(used), buf + EARSHOT_V4L2_BUFFER_BYTESUSED_OFF);
		return used;
	}
	if (bpf_probe_read_user(&planes_ptr, sizeof(planes_ptr), buf + EARSHOT_V4L2_BUFFER_PLANES_OFF) ||
	    bpf_probe_read_user(&planes, sizeof(planes), buf + EARSHOT_V4L2_BUFFER_LENGTH_OFF))
		return 0;
	for (__u32 i = 0; i < EARSHOT_V4L2_MAX_PLANES; i++) {
		if (i >= planes)
			break;
		used = 0;
		bpf_probe_read_user(&used, sizeof(used),
				    (const char *)planes_ptr + i * EARSHOT_V4L2_PLANE_SIZE);
		sum += used;
	}
	return sum;
}

#endif /* EARSHOT_CAPTURE_V4L2_BPF_H */
