// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The libpulse capture tier: a client of a PulseAudio server (pulseaudio,
 * or pipewire-pulse) records through libpulse. Uprobes on its record path:
 * pa_stream_connect_record opens (the stream is the handle), pa_stream_drop
 * counts the fragment pa_stream_peek handed out, pa_stream_disconnect
 * closes. pa_stream_new_with_proplist gives the sample spec, so bytes
 * become frames. The client process is the one capturing: the server is
 * named by userspace.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* pa_sample_spec, as libpulse's public header lays it out. */
struct earshot_pa_sample_spec {
	__u32 format; /* pa_sample_format_t */
	__u32 rate;
	__u8 channels;
};

/* Bytes a sample of a pa_sample_format_t; 0 for none of them. */
static __always_inline __u32 pa_sample_bytes(__u32 format)
{
	if (format <= 2) /* U8, ALAW, ULAW */
		return 1;
	if (format <= 4) /* S16LE, S16BE */
		return 2;
	if (format <= 8) /* FLOAT32LE, FLOAT32BE, S32LE, S32BE */
		return 4;
	if (format <= 10) /* S24LE, S24BE */
		return 3;
	if (format <= 12) /* S24_32LE, S24_32BE */
		return 4;
	return 0;
}

struct pa_stream_key {
	__u32 tgid;
	__u32 reserved;
	__u64 stream;
};

/* Frame size of each stream made with a sample spec (0: unknown). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pa_stream_key);
	__type(value, __u32);
} pa_frame_sizes SEC(".maps");

/* Bytes pa_stream_peek handed out and pa_stream_drop has not dropped yet. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pa_stream_key);
	__type(value, __u64);
} pa_peeked SEC(".maps");

/* Arguments between a call's entry and its return, per thread. */
struct pa_call_args {
	__u64 stream;
	__u64 arg; /* frame size (new), device name (connect), nbytes pointer (peek) */
};

enum pa_call { PA_CALL_NEW = 1, PA_CALL_CONNECT = 2, PA_CALL_PEEK = 3 };

struct pa_call_key {
	__u32 tid;
	__u32 call; /* enum pa_call */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pa_call_key);
	__type(value, struct pa_call_args);
} pa_pending SEC(".maps");

static __always_inline void pa_remember(__u32 call, __u64 stream, __u64 arg)
{
	struct pa_call_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .call = call };
	struct pa_call_args args = { .stream = stream, .arg = arg };

	bpf_map_update_elem(&pa_pending, &key, &args, BPF_ANY);
}

/* The arguments the entry of this call remembered, taken out of the map. */
static __always_inline int pa_recall(__u32 call, struct pa_call_args *out)
{
	struct pa_call_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .call = call };
	struct pa_call_args *args = bpf_map_lookup_elem(&pa_pending, &key);

	if (!args)
		return -1;
	*out = *args;
	bpf_map_delete_elem(&pa_pending, &key);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pa_stream_new, void *context, const char *name,
	       const struct earshot_pa_sample_spec *ss)
{
	struct earshot_pa_sample_spec spec = {};
	__u32 frame = 0;

	if (ss && !bpf_probe_read_user(&spec, sizeof(spec), ss))
		frame = pa_sample_bytes(spec.format) * spec.channels;
	pa_remember(PA_CALL_NEW, 0, frame);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pa_stream_new_ret, void *stream)
{
	struct pa_call_args args;
	struct pa_stream_key key = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	__u32 frame;

	if (pa_recall(PA_CALL_NEW, &args) || !stream)
		return 0;
	key.stream = (__u64)stream;
	frame = (__u32)args.arg;
	bpf_map_update_elem(&pa_frame_sizes, &key, &frame, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pa_connect_record, void *stream, const char *dev)
{
	pa_remember(PA_CALL_CONNECT, (__u64)stream, (__u64)dev);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pa_connect_record_ret, int ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pa_stream_key key = { .tgid = tgid };
	struct pa_call_args args;
	__u32 *frame;

	if (pa_recall(PA_CALL_CONNECT, &args) || ret != 0)
		return 0;
	key.stream = args.stream;
	frame = bpf_map_lookup_elem(&pa_frame_sizes, &key);
	if (open_handle(tgid, EARSHOT_TIER_LIBPULSE, args.stream, 0,
			frame && *frame ? EARSHOT_HANDLE_PCM : 0) == 0)
		emit(EARSHOT_EVENT_CAPTURE_OPEN, EARSHOT_TIER_LIBPULSE, args.stream, 0,
		     (const char *)args.arg);
	return 0;
}

static __always_inline int is_capture_stream(__u32 tgid, void *stream)
{
	struct earshot_handle_key key = { .tgid = tgid, .tier = EARSHOT_TIER_LIBPULSE,
					  .handle = (__u64)stream };

	return may_be_capturing(tgid) && bpf_map_lookup_elem(&capture_handles, &key);
}

SEC("uprobe")
int BPF_UPROBE(earshot_pa_peek, void *stream, const void **data, __u64 *nbytes)
{
	if (is_capture_stream(bpf_get_current_pid_tgid() >> 32, stream))
		pa_remember(PA_CALL_PEEK, (__u64)stream, (__u64)nbytes);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pa_peek_ret, int ret)
{
	struct pa_stream_key key = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct pa_call_args args;
	__u64 bytes = 0;

	if (pa_recall(PA_CALL_PEEK, &args) || ret != 0)
		return 0;
	if (bpf_probe_read_user(&bytes, sizeof(bytes), (void *)args.arg) || !bytes)
		return 0;
	key.stream = args.stream;
	/* Peeking again before a drop hands out the same fragment: counted once. */
	bpf_map_update_elem(&pa_peeked, &key, &bytes, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pa_drop, void *stream)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pa_stream_key key = { .tgid = tgid, .stream = (__u64)stream };
	__u64 *bytes = bpf_map_lookup_elem(&pa_peeked, &key);
	__u32 *frame;
	__u64 n;

	if (!bytes)
		return 0;
	n = *bytes;
	bpf_map_delete_elem(&pa_peeked, &key);
	frame = bpf_map_lookup_elem(&pa_frame_sizes, &key);
	add_frames(tgid, EARSHOT_TIER_LIBPULSE, (__u64)stream, frame && *frame ? n / *frame : n, n);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pa_disconnect, void *stream)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pa_stream_key key = { .tgid = tgid, .stream = (__u64)stream };
	struct earshot_handle final;

	bpf_map_delete_elem(&pa_peeked, &key);
	if (close_handle(tgid, EARSHOT_TIER_LIBPULSE, (__u64)stream, &final) == 0)
		emit_final(EARSHOT_EVENT_CAPTURE_CLOSE, EARSHOT_TIER_LIBPULSE, (__u64)stream, 0, 0,
			   &final);
	return 0;
}
