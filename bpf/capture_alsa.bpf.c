// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel-level capture tiers (tiers 1 and 2 of docs/architecture.md's ladder).
 *
 * Tier 1, fentry/fexit on snd_pcm (module BTF): snd_pcm_capture_open returning
 * 0 opens a handle keyed by the struct file *, snd_pcm_release ends it, and
 * __snd_pcm_lib_xfer returning frames on a capture substream adds them.
 * Frames an application takes through mmap (PipeWire, PulseAudio, arecord -M)
 * never pass __snd_pcm_lib_xfer: the rest of appl_ptr's progress is added at
 * each ioctl on the PCM (the mmap loop syncs or waits through them) and at
 * release.
 *
 * Tier 2, BPF LSM: file_open of a watched device number opens a handle keyed
 * by the struct file *; file_ioctl and file_release read the runtime's
 * appl_ptr (frames the application consumed, by read or by mmap) and add its
 * progress; file_release (or file_free_security, for an open the driver then
 * refused) ends it.
 *
 * The loader enables one tier: the strongest that loads (alsa_tier.cpp).
 * Both go through capture.bpf.h, so the netfilter hook and the collector see
 * one capture state whatever the tier.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EARSHOT_SNDRV_PCM_STREAM_CAPTURE 1

/* ALSA types live in snd_pcm's module BTF, not in vmlinux.h: these minimal
 * views (the ___earshot flavour matches the kernel's type of the name before
 * it) are relocated against it by CO-RE; only the fields read here. */
struct snd_pcm_mmap_control___earshot {
	unsigned long appl_ptr;
} __attribute__((preserve_access_index));

struct snd_pcm_runtime___earshot {
	struct snd_pcm_mmap_control___earshot *control;
	unsigned int frame_bits;
} __attribute__((preserve_access_index));

struct snd_pcm_substream___earshot {
	int stream;
	struct snd_pcm_runtime___earshot *runtime;
} __attribute__((preserve_access_index));

struct snd_pcm_file___earshot {
	struct snd_pcm_substream___earshot *substream;
} __attribute__((preserve_access_index));

/* One open capture file, whichever process ends it: close_handle needs the
 * opener's tgid, and the release may run in a child that inherited the fd. */
struct alsa_file {
	__u32 tgid;
	__u32 tier;
	__u32 dev;
	__u32 reserved;
	__u64 appl_ptr; /* appl_ptr last seen (counted up to here) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_HANDLES);
	__type(key, __u64); /* struct file * */
	__type(value, struct alsa_file);
} alsa_files SEC(".maps");

/* fentry tier: capture substream -> its struct file *, for frame progress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_CAPTURE_HANDLES);
	__type(key, __u64);
	__type(value, __u64);
} alsa_substreams SEC(".maps");

static __always_inline void file_opened(struct file *file, __u32 tier, __u32 dev)
{
	__u64 key = (__u64)file;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct alsa_file value = { .tgid = tgid, .tier = tier, .dev = dev };

	if (open_handle(tgid, tier, key, dev, EARSHOT_HANDLE_PCM) != 0)
		return;
	bpf_map_update_elem(&alsa_files, &key, &value, BPF_ANY);
	emit(EARSHOT_EVENT_CAPTURE_OPEN, tier, key, dev, 0);
}

static __always_inline void file_closed(struct file *file)
{
	__u64 key = (__u64)file;
	struct alsa_file *f = bpf_map_lookup_elem(&alsa_files, &key);
	struct earshot_handle final;
	__u32 tgid, tier;

	if (!f)
		return;
	tgid = f->tgid;
	tier = f->tier;
	bpf_map_delete_elem(&alsa_files, &key);
	/* The opener may have exited already (its handles end with it). */
	if (close_handle(tgid, tier, key, &final) == 0)
		emit_close(tgid, tier, key, &final);
}

/* Adds the progress of appl_ptr since it was last seen (a prepare resets it
 * to 0: then all of it is new), for a file of `tier`. */
static __always_inline void appl_ptr_frames(struct file *file, __u32 tier)
{
	__u64 key = (__u64)file;
	struct alsa_file *f = bpf_map_lookup_elem(&alsa_files, &key);
	struct snd_pcm_file___earshot *pcm_file;
	struct snd_pcm_runtime___earshot *runtime;
	__u64 appl, delta;
	unsigned int frame_bits;

	if (!f || f->tier != tier)
		return;
	pcm_file = (struct snd_pcm_file___earshot *)BPF_CORE_READ(file, private_data);
	runtime = BPF_CORE_READ(pcm_file, substream, runtime);
	if (!runtime)
		return;
	appl = BPF_CORE_READ(runtime, control, appl_ptr);
	frame_bits = BPF_CORE_READ(runtime, frame_bits);
	delta = appl >= f->appl_ptr ? appl - f->appl_ptr : appl;
	f->appl_ptr = appl;
	if (delta)
		add_frames(f->tgid, tier, key, delta, delta * frame_bits / 8);
}

/* ---- tier 1: fentry/fexit on snd_pcm ---- */

SEC("fexit/snd_pcm_capture_open")
int BPF_PROG(earshot_fexit_capture_open, struct inode *inode, struct file *file, int ret)
{
	struct snd_pcm_file___earshot *pcm_file;
	__u64 substream, key = (__u64)file;

	if (ret != 0)
		return 0;
	file_opened(file, EARSHOT_TIER_FENTRY, BPF_CORE_READ(inode, i_rdev));
	pcm_file = (struct snd_pcm_file___earshot *)BPF_CORE_READ(file, private_data);
	substream = (__u64)BPF_CORE_READ(pcm_file, substream);
	if (substream && bpf_map_lookup_elem(&alsa_files, &key))
		bpf_map_update_elem(&alsa_substreams, &substream, &key, BPF_ANY);
	return 0;
}

SEC("fentry/snd_pcm_release")
int BPF_PROG(earshot_fentry_pcm_release, struct inode *inode, struct file *file)
{
	struct snd_pcm_file___earshot *pcm_file;
	__u64 substream, key = (__u64)file;

	if (!bpf_map_lookup_elem(&alsa_files, &key))
		return 0;
	/* Before the driver's release: the runtime still holds the last appl_ptr. */
	appl_ptr_frames(file, EARSHOT_TIER_FENTRY);
	pcm_file = (struct snd_pcm_file___earshot *)BPF_CORE_READ(file, private_data);
	substream = (__u64)BPF_CORE_READ(pcm_file, substream);
	bpf_map_delete_elem(&alsa_substreams, &substream);
	file_closed(file);
	return 0;
}

/* Any ioctl on a PCM: what mmap moved appl_ptr by since last seen. Reads
 * (READI/READN) come here before they move it, and are counted at
 * __snd_pcm_lib_xfer's exit. */
SEC("fentry/snd_pcm_ioctl")
int BPF_PROG(earshot_fentry_pcm_ioctl, struct file *file, unsigned int cmd, unsigned long arg)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (may_be_capturing(tgid))
		appl_ptr_frames(file, EARSHOT_TIER_FENTRY);
	return 0;
}

/* read()/READI/READN on a capture substream: ret is the frames delivered. */
SEC("fexit/__snd_pcm_lib_xfer")
int BPF_PROG(earshot_fexit_pcm_xfer, struct snd_pcm_substream___earshot *substream, void *data,
	     bool interleaved, unsigned long size, bool in_kernel, long ret)
{
	__u64 key = (__u64)substream, file;
	__u64 *filep;
	struct alsa_file *f;
	unsigned int frame_bits;

	if (ret <= 0)
		return 0;
	filep = bpf_map_lookup_elem(&alsa_substreams, &key);
	if (!filep)
		return 0;
	file = *filep;
	f = bpf_map_lookup_elem(&alsa_files, &file);
	if (!f)
		return 0;
	frame_bits = BPF_CORE_READ(substream, runtime, frame_bits);
	/* Counted here: appl_ptr's progress up to now is not mmap's. */
	f->appl_ptr = BPF_CORE_READ(substream, runtime, control, appl_ptr);
	add_frames(f->tgid, EARSHOT_TIER_FENTRY, file, ret, (__u64)ret * frame_bits / 8);
	return 0;
}

/* ---- tier 2: BPF LSM ---- */

SEC("lsm/file_open")
int BPF_PROG(earshot_lsm_file_open, struct file *file, int ret)
{
	struct inode *inode;
	__u8 *kind;
	__u32 dev;

	if (ret != 0)
		return ret;
	inode = BPF_CORE_READ(file, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & EARSHOT_S_IFMT) != EARSHOT_S_IFCHR)
		return 0;
	dev = BPF_CORE_READ(inode, i_rdev);
	kind = bpf_map_lookup_elem(&watched_devices, &dev);
	/* A camera is not a PCM (its frames are not appl_ptr): capture_v4l2.bpf.c's. */
	if (kind && *kind != EARSHOT_DEVICE_CAMERA)
		file_opened(file, EARSHOT_TIER_LSM, dev);
	return 0;
}

SEC("lsm/file_ioctl")
int BPF_PROG(earshot_lsm_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (may_be_capturing(tgid))
		appl_ptr_frames(file, EARSHOT_TIER_LSM);
	return ret;
}

/* Before the driver's release: the runtime still holds the last appl_ptr. */
SEC("lsm/file_release")
int BPF_PROG(earshot_lsm_file_release, struct file *file)
{
	__u64 key = (__u64)file;

	if (!bpf_map_lookup_elem(&alsa_files, &key))
		return 0;
	appl_ptr_frames(file, EARSHOT_TIER_LSM);
	file_closed(file);
	return 0;
}

/* An open the driver refused never reaches file_release. */
SEC("lsm/file_free_security")
int BPF_PROG(earshot_lsm_file_free, struct file *file)
{
	file_closed(file);
	return 0;
}
