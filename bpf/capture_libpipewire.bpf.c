// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The libpipewire capture tier: a PipeWire client records through a
 * pw_stream. Uprobes on its record path: pw_stream_connect with the input
 * direction opens (the stream is the handle), each buffer
 * pw_stream_dequeue_buffer hands out counts its chunks' bytes (and frames,
 * from the stride), pw_stream_disconnect or pw_stream_destroy closes. A
 * stream whose format says video, not audio, is left alone. The client
 * process is the one capturing: the server is named by userspace.
 *
 * The structs below are PipeWire's public, stable ABI (spa/buffer/buffer.h,
 * spa/pod/pod.h, pipewire/stream.h), spelled out for the fields read.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "capture.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EARSHOT_PW_DIRECTION_INPUT 0 /* SPA_DIRECTION_INPUT: the stream consumes */
#define EARSHOT_SPA_TYPE_ID 3        /* SPA_TYPE_Id */
#define EARSHOT_SPA_TYPE_OBJECT 15   /* SPA_TYPE_Object */
#define EARSHOT_SPA_FORMAT_MEDIA_TYPE 1 /* SPA_FORMAT_mediaType */
#define EARSHOT_SPA_MEDIA_TYPE_AUDIO 1  /* SPA_MEDIA_TYPE_audio */
#define EARSHOT_PW_FORMAT_PROPS 8       /* properties of a format searched for its media type */
#define EARSHOT_PW_MAX_DATAS 8          /* planes summed (a channel each, planar audio) */

struct earshot_spa_pod {
	__u32 size; /* of the body */
	__u32 type;
};

struct earshot_spa_pod_prop {
	__u32 key;
	__u32 flags;
	struct earshot_spa_pod value; /* its body follows, padded to 8 bytes */
};

struct earshot_spa_chunk {
	__u32 offset;
	__u32 size;
	__s32 stride;
	__s32 flags;
};

struct earshot_spa_data {
	__u32 type;
	__u32 flags;
	__s64 fd;
	__u32 mapoffset;
	__u32 maxsize;
	__u64 data;
	__u64 chunk; /* struct earshot_spa_chunk * */
};

struct earshot_spa_buffer {
	__u32 n_metas;
	__u32 n_datas;
	__u64 metas;
	__u64 datas; /* struct earshot_spa_data * */
};

/* The first field of struct pw_buffer. */
struct earshot_pw_buffer {
	__u64 buffer; /* struct earshot_spa_buffer * */
};

/* True unless the first format parameter names a media type other than
 * audio (a format object whose mediaType property is an Id). */
static __always_inline int audio_or_unknown(const void *const *params, __u32 n_params)
{
	struct earshot_spa_pod_prop prop;
	struct earshot_spa_pod pod;
	__u64 at, end;
	__u32 value;
	const void *param = 0;

	if (!params || !n_params || bpf_probe_read_user(&param, sizeof(param), params) || !param)
		return 1;
	if (bpf_probe_read_user(&pod, sizeof(pod), param) || pod.type != EARSHOT_SPA_TYPE_OBJECT)
		return 1;
	/* The object body: its type and id, then the properties. */
	at = (__u64)param + sizeof(pod) + 8;
	end = (__u64)param + sizeof(pod) + pod.size;
	for (int i = 0; i < EARSHOT_PW_FORMAT_PROPS; i++) {
		if (at + sizeof(prop) > end || bpf_probe_read_user(&prop, sizeof(prop), (void *)at))
			return 1;
		if (prop.key == EARSHOT_SPA_FORMAT_MEDIA_TYPE) {
			if (prop.value.type != EARSHOT_SPA_TYPE_ID ||
			    bpf_probe_read_user(&value, sizeof(value), (void *)(at + sizeof(prop))))
				return 1;
			return value == EARSHOT_SPA_MEDIA_TYPE_AUDIO;
		}
		at += sizeof(prop) + ((prop.value.size + 7) & ~7U);
	}
	return 1;
}

enum pw_call { PW_CALL_CONNECT = 1, PW_CALL_DEQUEUE = 2 };

struct pw_call_key {
	__u32 tid;
	__u32 call; /* enum pw_call */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pw_call_key);
	__type(value, __u64); /* the stream */
} pw_pending SEC(".maps");

static __always_inline void pw_remember(__u32 call, __u64 stream)
{
	struct pw_call_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .call = call };

	bpf_map_update_elem(&pw_pending, &key, &stream, BPF_ANY);
}

/* The stream the entry of this call remembered (0: none), taken out of the map. */
static __always_inline __u64 pw_recall(__u32 call)
{
	struct pw_call_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .call = call };
	__u64 *stream = bpf_map_lookup_elem(&pw_pending, &key);
	__u64 out;

	if (!stream)
		return 0;
	out = *stream;
	bpf_map_delete_elem(&pw_pending, &key);
	return out;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pw_connect, void *stream, __u32 direction, __u32 target_id, __u32 flags,
	       const void *const *params, __u32 n_params)
{
	if (direction == EARSHOT_PW_DIRECTION_INPUT && audio_or_unknown(params, n_params))
		pw_remember(PW_CALL_CONNECT, (__u64)stream);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pw_connect_ret, int ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 stream = pw_recall(PW_CALL_CONNECT);

	if (!stream || ret != 0)
		return 0;
	if (open_handle(tgid, EARSHOT_TIER_LIBPIPEWIRE, stream, 0, EARSHOT_HANDLE_PCM) == 0)
		emit(EARSHOT_EVENT_CAPTURE_OPEN, EARSHOT_TIER_LIBPIPEWIRE, stream, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(earshot_pw_dequeue, void *stream)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct earshot_handle_key key = { .tgid = tgid, .tier = EARSHOT_TIER_LIBPIPEWIRE,
					  .handle = (__u64)stream };

	if (may_be_capturing(tgid) && bpf_map_lookup_elem(&capture_handles, &key))
		pw_remember(PW_CALL_DEQUEUE, (__u64)stream);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(earshot_pw_dequeue_ret, const struct earshot_pw_buffer *pw_buffer)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 stream = pw_recall(PW_CALL_DEQUEUE);
	struct earshot_pw_buffer b;
	struct earshot_spa_buffer buffer;
	struct earshot_spa_data data;
	struct earshot_spa_chunk chunk;
	__u64 bytes = 0, frames = 0;

	if (!stream || !pw_buffer || bpf_probe_read_user(&b, sizeof(b), pw_buffer) || !b.buffer ||
	    bpf_probe_read_user(&buffer, sizeof(buffer), (void *)b.buffer) || !buffer.datas)
		return 0;
	for (int i = 0; i < EARSHOT_PW_MAX_DATAS; i++) {
		if (i >= buffer.n_datas)
			break;
		if (bpf_probe_read_user(&data, sizeof(data), (void *)(buffer.datas + i * sizeof(data))) ||
		    !data.chunk ||
		    bpf_probe_read_user(&chunk, sizeof(chunk), (void *)data.chunk))
			break;
		if (chunk.size > data.maxsize && data.maxsize)
			chunk.size = data.maxsize;
		bytes += chunk.size;
		/* Interleaved: one plane, stride a frame; planar: a plane a channel,
		 * stride a sample. Either way the first plane's size / stride. */
		if (i == 0 && chunk.stride > 0)
			frames = chunk.size / (__u32)chunk.stride;
	}
	if (bytes)
		add_frames(tgid, EARSHOT_TIER_LIBPIPEWIRE, stream, frames ? frames : bytes, bytes);
	return 0;
}

static __always_inline void stream_closed(void *stream)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct earshot_handle final;

	if (close_handle(tgid, EARSHOT_TIER_LIBPIPEWIRE, (__u64)stream, &final) == 0)
		emit_final(EARSHOT_EVENT_CAPTURE_CLOSE, EARSHOT_TIER_LIBPIPEWIRE, (__u64)stream, 0, 0,
			   &final);
}

SEC("uprobe")
int BPF_UPROBE(earshot_pw_disconnect, void *stream)
{
	stream_closed(stream);
	return 0;
}
