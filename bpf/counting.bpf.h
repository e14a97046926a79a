/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Bytes per process, per destination: what the two counting tiers
 * (counting_netfilter.bpf.c, counting_cgroup_skb.bpf.c) share.
 *
 * Each packet is counted as bytes (skb->len: payload plus IP and transport
 * headers) and as payload, what TCP or UDP carried (payload_after): a
 * download's acknowledgements are bytes sent, but no upload. Each tier
 * reads the header lengths where it already reads the packet or the skb.
 *
 * The owner of a socket is recorded once, in process context, keyed by the
 * socket cookie (sock_create, accept.bpf.c, a start-up iterator; for an
 * accepted socket where accept.bpf.c does not load, the counting hook at
 * the socket's first packet sent by a task holding its lock, learn_owner).
 * Otherwise the counting hooks never look at "current" (TCP sends from
 * softirq): per packet they count in the socket's per-CPU slot (an array
 * lookup at an index hashed from the socket's cookie) when the socket is
 * connected, else in the per-CPU flows hash;
 * userspace joins flows and slots to owners at harvest time. Raw and ping
 * sockets, and a connected UDP socket once it has sendto() another address
 * (the cgroup sendmsg hooks see it), are counted by each packet's own
 * destination: they send past their connection.
 */
#ifndef EARSHOT_COUNTING_BPF_H
#define EARSHOT_COUNTING_BPF_H

#include "counting_maps.bpf.h"
#include "net_constants.bpf.h"
#include "owner.bpf.h"

#define EARSHOT_PF_KTHREAD 0x00200000

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The payload of a packet of len bytes whose IP, TCP or UDP headers take
 * headers bytes: IP's with IPv4 options, TCP's with its options (doff * 4),
 * UDP's 8. A GSO packet (TCP segmentation offload, UDP_SEGMENT) is one skb
 * with one set of headers for all the segments it becomes later, so len
 * less those headers is still the payload of all of them. A packet shorter
 * than its headers claim carries none. Protocols other than TCP and UDP
 * (and UDP-Lite, UDP's header) carry none either: the callers pass 0 for
 * them without calling this. */
static __always_inline __u32 payload_after(__u32 len, __u32 headers)
{
	return len > headers ? len - headers : 0;
}

/* 1..EARSHOT_ACK_SIZED_PAYLOAD bytes of payload (earshot.h): one compare. */
static __always_inline bool ack_sized(__u32 payload)
{
	return payload - 1 < EARSHOT_ACK_SIZED_PAYLOAD;
}

static __always_inline void add_counters(struct earshot_counters *c, __u32 len, __u32 payload,
					 int window)
{
	c->packets++;
	c->bytes += len;
	c->payload_bytes += payload;
	if (ack_sized(payload)) {
		c->ack_sized_packets++;
		c->ack_sized_payload += payload;
	}
	if (window >= 0 && window < EARSHOT_WINDOW_COUNT)
		c->window_bytes[window] += len;
}

/* The egress counters of the slot's first cache line. */
static __always_inline void add_slot_egress(struct earshot_sock_slot *slot, __u32 len,
					    __u32 payload)
{
	slot->packets++;
	slot->bytes += len;
	slot->payload_bytes += payload;
	if (ack_sized(payload)) {
		slot->ack_sized_packets++;
		slot->ack_sized_payload += payload;
	}
}

/* A received packet, in its socket's slot (the second cache line) or flow. */
static __always_inline void add_slot_ingress(struct earshot_sock_slot *slot, __u32 payload)
{
	slot->ingress_packets++;
	slot->ingress_payload += payload;
}

static __always_inline void add_ingress(struct earshot_counters *c, __u32 payload)
{
	c->ingress_packets++;
	c->ingress_payload += payload;
}

static __always_inline void add_slot_window(struct earshot_sock_slot *slot, __u32 len, int window)
{
	if (window >= 0 && window < EARSHOT_WINDOW_COUNT)
		slot->window_bytes[window] += len;
}

static __always_inline void add_to_slot(struct earshot_sock_slot *slot, __u32 len, __u32 payload,
					int window)
{
	add_slot_egress(slot, len, payload);
	add_slot_window(slot, len, window);
}

static __always_inline void add_total(__u32 slot, __u32 len, __u32 payload, int window)
{
	struct earshot_counters *c = bpf_map_lookup_elem(&totals, &slot);

	if (c)
		add_counters(c, len, payload, window);
}

/* While a capture is live: whether the packet's owner is capturing. The
 * owner is cached in the flow's per-CPU slot; a slot that has none yet (a
 * per-CPU value is written only on the CPU that created it) looks it up
 * once, and only while a capture is live. */
static __noinline int capture_window_live(__u32 *owner_tgid, __u64 cookie)
{
	__u32 tgid = owner_tgid ? *owner_tgid : 0;

	if (!tgid && owner_tgid && cookie) {
		struct earshot_owner *owner = bpf_map_lookup_elem(&sock_owner, &cookie);

		if (owner)
			tgid = *owner_tgid = owner->tgid;
	}
	if (tgid && tgid != EARSHOT_OWNER_NONE && bpf_map_lookup_elem(&capture_procs, &tgid))
		return EARSHOT_WINDOW_SELF;
	return EARSHOT_WINDOW_OTHER;
}

static __noinline int capture_window_grace(void)
{
	if (bpf_ktime_get_ns() - capture_state.last_end_ns <= capture_state.grace_ns)
		return EARSHOT_WINDOW_GRACE;
	capture_state.grace_armed = 0;
	return -1;
}

/* Which capture window a packet falls in; -1 for none. Out of capture (the
 * common case) this is two loads and two tests; the rest is subprograms, out
 * of the hot path's instruction cache lines. */
static __always_inline int capture_window(__u32 *owner_tgid, __u64 cookie)
{
	if (unlikely(capture_state.live_procs))
		return capture_window_live(owner_tgid, cookie);
	if (unlikely(capture_state.grace_armed))
		return capture_window_grace();
	return -1;
}

/* The owner of a socket, into this CPU's cache of it: from sock_owner, or
 * for a TCP socket accept() returned that no hook recorded (accept.bpf.c
 * needs BTF trampolines) from the task sending, when that task holds the
 * socket's lock. TCP sends in a task's context only under lock_sock
 * (sendmsg, the ACKs recvmsg sends, close); softirq and timers find the
 * lock free, or defer their work to the holder's release_sock. A packet
 * sent without it is skipped and the next one tries again. Kernel sockets
 * have no file and no owner; a UDP socket's owner is recorded when it is
 * created, so one missing is not learnt here. sk is NULL where the hook
 * cannot see the kernel socket (then only sock_owner is consulted). A
 * subprogram: the hot path only tests the cached owner. */
static __noinline void learn_owner(const struct sock *sk, __u8 protocol, __u64 cookie,
				   __u32 *owner_tgid)
{
	struct earshot_owner *owner = bpf_map_lookup_elem(&sock_owner, &cookie);
	struct task_struct *task;
	struct socket *sock;

	if (owner) {
		*owner_tgid = owner->tgid;
		return;
	}
	if (protocol != EARSHOT_IPPROTO_TCP) {
		*owner_tgid = EARSHOT_OWNER_NONE;
		return;
	}
	if (!sk)
		return;
	sock = sk->sk_socket;
	if (sock && !sock->file) {
		*owner_tgid = EARSHOT_OWNER_NONE;
		return;
	}
	if (!sock || !sk->sk_lock.owned)
		return;
	task = bpf_get_current_task_btf();
	if (task->flags & EARSHOT_PF_KTHREAD)
		return;
	record_owner(cookie, task->tgid, task_start_ns(task), BPF_NOEXIST);
	*owner_tgid = task->tgid;
}

/* A reclaimed slot's counts stay in the ground truth (this CPU's totals). */
static __always_inline void retire_slot_counts(const struct earshot_sock_slot *old)
{
	__u32 slot = EARSHOT_TOTAL_SLOT_RETIRED;
	struct earshot_counters *c = bpf_map_lookup_elem(&totals, &slot);
	int w;

	if (!c)
		return;
	c->packets += old->packets;
	c->bytes += old->bytes;
	c->payload_bytes += old->payload_bytes;
	c->ack_sized_packets += old->ack_sized_packets;
	c->ack_sized_payload += old->ack_sized_payload;
	c->ingress_packets += old->ingress_packets;
	c->ingress_payload += old->ingress_payload;
	for (w = 0; w < EARSHOT_WINDOW_COUNT; w++)
		c->window_bytes[w] += old->window_bytes[w];
}

/* Whether the slot holds this key (its flow key fields). */
static __always_inline bool slot_key_is(const struct earshot_sock_slot *slot,
					const struct earshot_flow_key *key)
{
	const __u64 *x = (const __u64 *)slot, *y = (const __u64 *)key;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && slot->dport == key->dport &&
	       slot->family == key->family && slot->protocol == key->protocol;
}

/* Takes a slot never used, or one whose socket was released long enough ago
 * that userspace has read its final counts (it sees the cookie change). A
 * socket already released (orphaned: TCP flushing its queue after close(),
 * !has_socket) claims nothing: sock_release has run and would never free
 * the slot. */
static __always_inline bool claim_slot(struct earshot_sock_slot *slot,
				       const struct earshot_flow_key *key, bool has_socket)
{
	if (!has_socket)
		return false;
	if (slot->cookie) {
		struct earshot_net_config *cfg;
		__u32 zero = 0;

		if (!slot->dead_since_ns)
			return false;
		cfg = bpf_map_lookup_elem(&net_config, &zero);
		if (!cfg || bpf_ktime_get_ns() - slot->dead_since_ns <= cfg->slot_reclaim_ns)
			return false;
		retire_slot_counts(slot);
	}
	slot->packets = 0;
	slot->bytes = 0;
	slot->payload_bytes = 0;
	slot->ack_sized_packets = 0;
	slot->ack_sized_payload = 0;
	__builtin_memset(slot->window_bytes, 0, sizeof(slot->window_bytes));
	slot->ingress_packets = 0;
	slot->ingress_payload = 0;
	slot->owner_tgid = 0;
	slot->dead_since_ns = 0;
	__builtin_memcpy(slot->daddr, key->daddr, sizeof(slot->daddr));
	slot->dport = key->dport;
	slot->family = key->family;
	slot->protocol = key->protocol;
	slot->cookie = key->cookie;
	return true;
}

/* One packet in the flows map under its key; learn says whether a missing
 * owner may be looked for (sk as for learn_owner). */
static __always_inline void count_key_in_flows(const struct earshot_flow_key *key,
					       const struct sock *sk, bool learn, __u32 len,
					       __u32 payload)
{
	struct earshot_flow_value *v;
	int window;

	v = bpf_map_lookup_elem(&flows, key);
	if (!v) {
		struct earshot_flow_value fresh = {};

		bpf_map_update_elem(&flows, key, &fresh, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&flows, key);
		if (!v) {
			window = capture_window(0, 0);
			add_total(EARSHOT_TOTAL_ALL, len, payload, window);
			add_total(EARSHOT_TOTAL_FLOW_FULL, len, payload, window);
			return;
		}
	}
	if (learn && !v->owner_tgid)
		learn_owner(sk, key->protocol, key->cookie, &v->owner_tgid);
	window = capture_window(&v->owner_tgid, key->cookie);
	add_counters(&v->counters, len, payload, window);
	add_total(EARSHOT_TOTAL_ALL, len, payload, window);
}

/* A received packet whose socket's slot on this CPU is another's: its
 * flow, if the socket has one (it sent to that address before), else the
 * unmatched total. Never inserts: a flow is made by what its socket sends. */
static __always_inline void count_ingress_unmatched(__u32 payload)
{
	__u32 slot = EARSHOT_TOTAL_INGRESS_UNMATCHED;
	struct earshot_counters *c = bpf_map_lookup_elem(&totals, &slot);

	if (c)
		add_ingress(c, payload);
}

static __always_inline void count_ingress_in_flows(const struct earshot_flow_key *key,
						   __u32 payload)
{
	struct earshot_flow_value *v = bpf_map_lookup_elem(&flows, key);

	if (v)
		add_ingress(&v->counters, payload);
	else
		count_ingress_unmatched(payload);
}

/* A packet no socket sent (forwarded, or the kernel's own replies). */
static __always_inline void count_no_socket(__u32 len, __u32 payload)
{
	int window = capture_window(0, 0);

	add_total(EARSHOT_TOTAL_ALL, len, payload, window);
	add_total(EARSHOT_TOTAL_NO_SOCKET, len, payload, window);
}

/* live_procs and grace_armed, the first 8 bytes of capture_state, in one
 * load: non-zero while a capture is live or in its grace period. */
static __always_inline __u64 capture_state_word(void)
{
	return *(volatile __u64 *)&capture_state;
}

/* The hot path's packet, while a capture is live or in grace: its window
 * (a subprogram, so outside captures the hot path is one load and a test). */
static __noinline void count_slot_window(struct earshot_sock_slot *slot, __u32 len)
{
	add_slot_window(slot, len, capture_window(&slot->owner_tgid, slot->cookie));
}

#endif /* EARSHOT_COUNTING_BPF_H */
