// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The counting tier for kernels without netfilter BPF programs (before 6.4,
 * or where they are refused): cgroup_skb egress on the root cgroup v2, run
 * for every packet a full socket sends, in every network namespace. The
 * same maps and the same slots as the netfilter hook; what differs is what
 * the hook can see: a struct __sk_buff, the socket's cookie from a helper
 * (which also gives a socket its first cookie), the destination from the
 * packet's headers (so a datagram sendto() past a connection is counted
 * where it went without the sendmsg hooks), and the kernel socket only for
 * TCP (bpf_skc_to_tcp_sock). The kernel runs it with a full socket: a
 * request socket's packets (SYN-ACK) under its listener, and the kernel's
 * own replies (resets, ICMP, TIME_WAIT's last ACK) under its per-namespace
 * control sockets, which have no owner (unattributed), as at netfilter.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "counting.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The packet's destination, and its payload, from its headers (the packet
 * starts at the IP header here), read directly from the linear head where
 * it holds them (a helper call each would double the program's cost), else
 * copied out; false when they cannot be read (then no payload either).
 * IPv6 extension headers are not walked: behind one the packet has no port
 * and counts no payload. */
static __always_inline bool key_from_skb(struct __sk_buff *skb, __u64 cookie,
					 struct earshot_flow_key *key, __u32 *payload, bool received)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct tcphdr *th;
	__u32 l4off;
	__be16 port;
	__u8 doff;

	key->cookie = cookie;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data, copy;

		if ((void *)(iph + 1) > data_end) {
			if (bpf_skb_load_bytes(skb, 0, &copy, sizeof(copy)))
				return false;
			iph = &copy;
		}
		key->family = EARSHOT_AF_INET;
		key->protocol = iph->protocol;
		__builtin_memcpy(key->daddr, received ? &iph->saddr : &iph->daddr, 4);
		l4off = iph->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data, copy;

		if ((void *)(ip6h + 1) > data_end) {
			if (bpf_skb_load_bytes(skb, 0, &copy, sizeof(copy)))
				return false;
			ip6h = &copy;
		}
		key->family = EARSHOT_AF_INET6;
		key->protocol = ip6h->nexthdr; /* extension headers: no port */
		__builtin_memcpy(key->daddr, received ? &ip6h->saddr : &ip6h->daddr, 16);
		l4off = sizeof(*ip6h);
	} else {
		return false;
	}
	if (l4off > 60)
		return true;
	if (key->protocol == EARSHOT_IPPROTO_TCP) {
		/* The port, and the header length (doff) 12 bytes in. */
		th = data + l4off;
		if ((void *)(th + 1) <= data_end) {
			key->dport = bpf_ntohs(received ? th->source : th->dest);
			*payload = payload_after(skb->len, l4off + th->doff * 4);
		} else if (!bpf_skb_load_bytes(skb, l4off + (received ? 0 : 2), &port, sizeof(port)) &&
			   !bpf_skb_load_bytes(skb, l4off + 12, &doff, sizeof(doff))) {
			key->dport = bpf_ntohs(port);
			*payload = payload_after(skb->len, l4off + (doff >> 4) * 4);
		}
	} else if (key->protocol == EARSHOT_IPPROTO_UDP ||
		   key->protocol == EARSHOT_IPPROTO_UDPLITE) {
		*payload = payload_after(skb->len, l4off + EARSHOT_UDP_HEADER_LEN);
		__u32 port_off = l4off + (received ? 0 : 2); /* source or destination port */

		if (data + port_off + 2 <= data_end)
			key->dport = bpf_ntohs(*(__be16 *)(data + port_off));
		else if (!bpf_skb_load_bytes(skb, port_off, &port, sizeof(port)))
			key->dport = bpf_ntohs(port);
	}
	return true;
}

/* Everything but a packet of a socket whose slot on this CPU is its own and
 * knows its owner. learn: the program may look at the current task (the
 * helper is not allowed in cgroup_skb programs on every kernel). */
static __noinline void count_skb_slow(struct __sk_buff *skb, struct earshot_sock_slot *slot,
				      const struct earshot_flow_key *key, __u32 payload, bool learn)
{
	struct bpf_sock *bsk = skb->sk;
	const struct sock *sk = 0;
	bool has_socket = true;
	__u32 len = skb->len;
	int window;

	if (key->protocol == EARSHOT_IPPROTO_TCP && bsk) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(bsk);

		if (tp) {
			sk = (const struct sock *)tp;
			has_socket = sk->sk_socket;
		}
	}
	if (key->cookie && slot && (slot_key_is(slot, key) || claim_slot(slot, key, has_socket))) {
		if (!slot->owner_tgid)
			learn_owner(learn ? sk : 0, key->protocol, key->cookie, &slot->owner_tgid);
		window = capture_window(&slot->owner_tgid, key->cookie);
		add_to_slot(slot, len, payload, window);
		return;
	}
	count_key_in_flows(key, learn ? sk : 0, true, len, payload);
}

/* A packet without a socket (the kernel runs this hook only with one: kept
 * so that nothing is left uncounted if that changes). */
static __noinline void count_skb_no_socket(struct __sk_buff *skb)
{
	struct earshot_flow_key key = {};
	__u32 payload = 0;

	key_from_skb(skb, 0, &key, &payload, false);
	count_no_socket(skb->len, payload);
}

static __always_inline void count_skb(struct __sk_buff *skb, bool learn)
{
	struct earshot_flow_key key = {};
	struct earshot_sock_slot *slot;
	__u32 len = skb->len;
	__u32 payload = 0;
	__u64 cookie;
	__u32 idx;

	if (!skb->sk) {
		count_skb_no_socket(skb);
		return;
	}
	cookie = bpf_get_socket_cookie(skb);
	if (!key_from_skb(skb, cookie, &key, &payload, false)) {
		count_key_in_flows(&key, 0, false, len, 0);
		return;
	}
	idx = earshot_sock_slot_index(cookie) + bpf_get_smp_processor_id() * EARSHOT_SOCK_SLOTS;
	slot = bpf_map_lookup_elem(&sock_slots, &idx);
	if (likely(slot && slot->owner_tgid && slot_key_is(slot, &key))) {
		add_slot_egress(slot, len, payload);
		if (unlikely(capture_state_word()))
			count_slot_window(slot, len);
		return;
	}
	count_skb_slow(skb, slot, &key, payload, learn);
}

/* A received packet, keyed by where it came from (the flow key its
 * socket's packets to there have): the socket's slot, taken if free, else
 * its flow, else the unmatched total. The kernel runs the hook with the
 * receiving full socket. */
static __noinline void count_received_slow(struct earshot_sock_slot *slot,
					   const struct earshot_flow_key *key, __u32 payload)
{
	if (slot && (slot_key_is(slot, key) || claim_slot(slot, key, true))) {
		add_slot_ingress(slot, payload);
		return;
	}
	count_ingress_in_flows(key, payload);
}

SEC("cgroup_skb/ingress")
int earshot_cgroup_ingress(struct __sk_buff *skb)
{
	struct earshot_flow_key key = {};
	struct earshot_sock_slot *slot;
	__u32 payload = 0;
	__u64 cookie;
	__u32 idx;

	if (!skb->sk)
		return 1;
	cookie = bpf_get_socket_cookie(skb);
	if (!cookie || !key_from_skb(skb, cookie, &key, &payload, true)) {
		count_ingress_unmatched(payload);
		return 1;
	}
	idx = earshot_sock_slot_index(cookie) + bpf_get_smp_processor_id() * EARSHOT_SOCK_SLOTS;
	slot = bpf_map_lookup_elem(&sock_slots, &idx);
	if (likely(slot && slot_key_is(slot, &key))) {
		add_slot_ingress(slot, payload);
		return 1;
	}
	count_received_slow(slot, &key, payload);
	return 1;
}

/* Two builds of one program, for the loader's ladder: the first names the
 * owner of an accepted TCP socket from the task sending on it (as the
 * netfilter hook does), which needs bpf_get_current_task_btf in cgroup_skb
 * programs; the second, where that is refused, only reads sock_owner. */
SEC("cgroup_skb/egress")
int earshot_cgroup_egress(struct __sk_buff *skb)
{
	count_skb(skb, true);
	return 1;
}

SEC("cgroup_skb/egress")
int earshot_cgroup_egress_basic(struct __sk_buff *skb)
{
	count_skb(skb, false);
	return 1;
}
