// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The libasound capture tier: uprobes on the library's snd_pcm_open (with
 * the capture stream), snd_pcm_close, and the reads (readi/readn, and
 * mmap_commit for a handle read by mmap) that deliver frames.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture.bpf.h"

#define EARSHOT_SND_PCM_STREAM_CAPTURE 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
	    open_handle(id >> 32, EARSHOT_TIER_LIBASOUND, handle, 0, EARSHOT_HANDLE_PCM) == 0)
		emit(EARSHOT_EVENT_CAPTURE_OPEN, EARSHOT_TIER_LIBASOUND, handle, 0, (const char *)name);
	bpf_map_delete_elem(&pcm_open_pending, &tid);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pcm_close, void *pcm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct earshot_handle final;

	if (close_handle(tgid, EARSHOT_TIER_LIBASOUND, (__u64)pcm, &final) == 0)
		emit_final(EARSHOT_EVENT_CAPTURE_CLOSE, EARSHOT_TIER_LIBASOUND, (__u64)pcm, 0, 0, &final);
	return 0;
}

/* Frames read through libasound: readi/readn return frames; mmap_commit
 * returns frames committed (for a capture handle: consumed from the device). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pcm_read_pending SEC(".maps");

static __always_inline void pcm_read_started(void *pcm)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct earshot_handle_key key = { .tgid = tgid, .tier = EARSHOT_TIER_LIBASOUND, .handle = (__u64)pcm };
	__u64 handle = (__u64)pcm;

	if (!may_be_capturing(tgid) || !bpf_map_lookup_elem(&capture_handles, &key))
		return;
	bpf_map_update_elem(&pcm_read_pending, &tid, &handle, BPF_ANY);
}

static __always_inline void pcm_read_finished(long frames)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 *handle = bpf_map_lookup_elem(&pcm_read_pending, &tid);

	if (!handle)
		return;
	if (frames > 0)
		add_frames(id >> 32, EARSHOT_TIER_LIBASOUND, *handle, frames, 0);
	bpf_map_delete_elem(&pcm_read_pending, &tid);
}

SEC("uprobe")
int BPF_UPROBE(earshot_pcm_readi, void *pcm)
{
	pcm_read_started(pcm);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pcm_read_ret, long frames)
{
	pcm_read_finished(frames);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pcm_mmap_commit, void *pcm)
{
	pcm_read_started(pcm);
	return 0;
}
