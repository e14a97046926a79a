#pragma once
// The kernel/user ABI (bpf/earshot.h) seen from C++, with its layout pinned:
// a field moved on one side only fails the build instead of corrupting counts.
#include <linux/types.h>

#include <cstddef>

extern "C" {
#include "earshot.h"
}

static_assert(sizeof(earshot_owner) == 16);
static_assert(offsetof(earshot_owner, start_ns) == 8);

static_assert(sizeof(earshot_flow_key) == 32);
static_assert(offsetof(earshot_flow_key, daddr) == 8);
static_assert(offsetof(earshot_flow_key, dport) == 24);
static_assert(offsetof(earshot_flow_key, family) == 26);
static_assert(offsetof(earshot_flow_key, protocol) == 27);

static_assert(sizeof(earshot_counters) == 8 * (3 + EARSHOT_WINDOW_COUNT + 4));
static_assert(offsetof(earshot_counters, payload_bytes) == 16);
static_assert(offsetof(earshot_counters, window_bytes) == 24);
static_assert(offsetof(earshot_counters, ack_sized_packets) == 24 + 8 * EARSHOT_WINDOW_COUNT);
static_assert(offsetof(earshot_counters, ingress_payload) == sizeof(earshot_counters) - 8);
static_assert(sizeof(earshot_flow_value) == sizeof(earshot_counters) + 8);
static_assert(offsetof(earshot_flow_value, owner_tgid) == sizeof(earshot_counters));

// Two cache lines in a page-aligned array. The first is all a sent packet
// writes outside captures: the key, the counters and the cached owner. Its
// key fields sit where a flow key has them (the BPF side compares them as
// words), its ack-sized payload in the flow key's reserved word.
static_assert(sizeof(earshot_sock_slot) == 128);
static_assert(offsetof(earshot_sock_slot, cookie) == offsetof(earshot_flow_key, cookie));
static_assert(offsetof(earshot_sock_slot, daddr) == offsetof(earshot_flow_key, daddr));
static_assert(offsetof(earshot_sock_slot, dport) == offsetof(earshot_flow_key, dport));
static_assert(offsetof(earshot_sock_slot, family) == offsetof(earshot_flow_key, family));
static_assert(offsetof(earshot_sock_slot, protocol) == offsetof(earshot_flow_key, protocol));
static_assert(offsetof(earshot_sock_slot, ack_sized_payload) == 28);
static_assert(offsetof(earshot_sock_slot, packets) == 32);
static_assert(offsetof(earshot_sock_slot, bytes) == 40);
static_assert(offsetof(earshot_sock_slot, payload_bytes) == 48);
static_assert(offsetof(earshot_sock_slot, owner_tgid) == 56);
static_assert(offsetof(earshot_sock_slot, ack_sized_packets) + sizeof(__u32) == 64);
// The second: window bytes (captures only), dead_since_ns (sock_release
// writes it from any CPU; a packet reads it only to take the slot over),
// and what the socket received (a received packet writes only this line).
static_assert(offsetof(earshot_sock_slot, window_bytes) == 64);
static_assert(offsetof(earshot_sock_slot, dead_since_ns) == 64 + 8 * EARSHOT_WINDOW_COUNT);
static_assert(offsetof(earshot_sock_slot, ingress_packets) == 96);
static_assert(offsetof(earshot_sock_slot, ingress_payload) == 104);
static_assert((EARSHOT_SOCK_SLOTS & (EARSHOT_SOCK_SLOTS - 1)) == 0);

// The flow key a slot's key fields make (its reserved word zero).
inline earshot_flow_key slot_flow_key(const earshot_sock_slot& slot) {
  earshot_flow_key key{};
  key.cookie = slot.cookie;
  for (std::size_t i = 0; i < sizeof key.daddr; ++i) key.daddr[i] = slot.daddr[i];
  key.dport = slot.dport;
  key.family = slot.family;
  key.protocol = slot.protocol;
  return key;
}
static_assert(earshot_sock_slot_index(~0ULL) < EARSHOT_SOCK_SLOTS);
static_assert(sizeof(earshot_net_config) == 8);

static_assert(sizeof(earshot_capture_proc) == 16);
static_assert(sizeof(earshot_handle_key) == 16);
static_assert(offsetof(earshot_handle_key, handle) == 8);
static_assert(sizeof(earshot_handle) == 40);
static_assert(offsetof(earshot_handle, last_frame_ns) == 24);
static_assert(offsetof(earshot_handle, dev) == 32);

static_assert(sizeof(earshot_event) == 48 + EARSHOT_COMM_LEN + EARSHOT_PCM_NAME_LEN + 16);
static_assert(offsetof(earshot_event, frames) == 48 + EARSHOT_COMM_LEN + EARSHOT_PCM_NAME_LEN);
static_assert(offsetof(earshot_event, kind) == 24);
static_assert(offsetof(earshot_event, comm) == 48);
static_assert(offsetof(earshot_event, pcm_name) == 48 + EARSHOT_COMM_LEN);

static_assert(sizeof(earshot_capture_state) == 24);
// The netfilter hot path reads live_procs and grace_armed as one 8-byte word.
static_assert(offsetof(earshot_capture_state, grace_armed) == 4);
static_assert(offsetof(earshot_capture_state, last_end_ns) == 8);
static_assert(offsetof(earshot_capture_state, grace_ns) == 16);

static_assert(sizeof(earshot_device_flow_key) == 24);
static_assert(offsetof(earshot_device_flow_key, family) == 6);
static_assert(offsetof(earshot_device_flow_key, daddr) == 8);
static_assert(sizeof(earshot_device_counters) == 56);
static_assert(offsetof(earshot_device_counters, ack_sized_packets) == 24);
static_assert(offsetof(earshot_device_counters, ingress_payload) == 48);
static_assert(offsetof(earshot_device_counters, bytes) == 8);
static_assert(offsetof(earshot_device_counters, payload_bytes) == 16);

// What the camera tiers read of V4L2's uapi, pinned against the header.
#include <linux/videodev2.h>
static_assert(EARSHOT_VIDIOC_DQBUF == VIDIOC_DQBUF);
static_assert(EARSHOT_V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
static_assert(EARSHOT_V4L2_BUFFER_TYPE_OFF == offsetof(v4l2_buffer, type));
static_assert(EARSHOT_V4L2_BUFFER_BYTESUSED_OFF == offsetof(v4l2_buffer, bytesused));
static_assert(EARSHOT_V4L2_BUFFER_PLANES_OFF == offsetof(v4l2_buffer, m.planes));
static_assert(EARSHOT_V4L2_BUFFER_LENGTH_OFF == offsetof(v4l2_buffer, length));
static_assert(EARSHOT_V4L2_PLANE_SIZE == sizeof(v4l2_plane));
static_assert(offsetof(v4l2_plane, bytesused) == 0);
static_assert(EARSHOT_V4L2_MAX_PLANES == VIDEO_MAX_PLANES);
