// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The counting tier for 6.4+: netfilter at LOCAL_OUT, one program per
 * family. Sees the kernel's struct sk_buff and its socket, so a connected
 * socket is counted from the socket alone (counting.bpf.h says how).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "counting.bpf.h"

#define NF_ACCEPT 1
#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10
#define EARSHOT_TCP_TIME_WAIT 6
#define EARSHOT_TCP_NEW_SYN_RECV 12

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The length of the TCP header at transport, options included. Packet
 * headers are read through bpf_core_cast: the verifier makes its loads
 * fault-safe ones, so no helper call and no copy (the cast itself is
 * inlined); a header that cannot be read gives zeros. */
static __always_inline __u32 tcp_header_len(const unsigned char *transport)
{
	return bpf_core_cast(transport, struct tcphdr)->doff * 4;
}

/* The payload of a packet of len bytes a TCP or UDP socket sent (protocol:
 * its sk_protocol), from the offsets the transport set in the skb: the IP
 * headers end where its header begins, so IPv4 options and IPv6 extension
 * headers are left out too. Only TCP's header length is read from the
 * packet (the line the kernel has just written). */
static __always_inline __u32 socket_payload(const struct sk_buff *skb, __u8 protocol, __u32 len)
{
	__u16 transport = skb->transport_header;
	__u32 ip_len = transport - skb->network_header;

	if (protocol == EARSHOT_IPPROTO_TCP)
		return payload_after(len, ip_len + tcp_header_len(skb->head + transport));
	if (protocol == EARSHOT_IPPROTO_UDP || protocol == EARSHOT_IPPROTO_UDPLITE)
		return payload_after(len, ip_len + EARSHOT_UDP_HEADER_LEN);
	return 0;
}

/* Destination from the packet, for sockets that are not connected, and the
 * payload, from the same headers. IPv6 extension headers are not walked:
 * behind one the packet has no port and counts no payload. */
static __always_inline __u32 dest_from_packet(const struct sk_buff *skb, int pf,
					      struct earshot_flow_key *key)
{
	unsigned char *network = skb->head + skb->network_header;
	__u32 ip_len;

	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = bpf_core_cast(network, struct iphdr);

		key->protocol = iph->protocol;
		*(__u32 *)key->daddr = iph->daddr;
		ip_len = iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = bpf_core_cast(network, struct ipv6hdr);

		key->protocol = ip6h->nexthdr;
		__builtin_memcpy(key->daddr, &ip6h->daddr, 16);
		ip_len = sizeof(*ip6h);
	}
	if (key->protocol == EARSHOT_IPPROTO_TCP) {
		key->dport = bpf_ntohs(bpf_core_cast(network + ip_len, struct tcphdr)->dest);
		return payload_after(skb->len, ip_len + tcp_header_len(network + ip_len));
	}
	if (key->protocol == EARSHOT_IPPROTO_UDP || key->protocol == EARSHOT_IPPROTO_UDPLITE) {
		key->dport = bpf_ntohs(bpf_core_cast(network + ip_len, struct udphdr)->dest);
		return payload_after(skb->len, ip_len + EARSHOT_UDP_HEADER_LEN);
	}
	return 0;
}

/* The slot counts this socket and destination. A connected UDP socket can
 * connect elsewhere under the same cookie: then the flows map counts it.
 * Compared field by field against the socket, after the slot lookup, so the
 * path every connected socket's packets take builds no key on the stack.
 * The protocol is not compared (a socket keeps its own); the address bytes
 * a family does not use are zero in every slot (claim_slot writes them). */
static __always_inline bool slot_holds(const struct earshot_sock_slot *slot, const struct sock *sk,
				       int pf, __u64 cookie)
{
	const __u32 *daddr = (const __u32 *)slot->daddr;

	if (slot->cookie != cookie || slot->dport != bpf_ntohs(sk->__sk_common.skc_dport))
		return false;
	if (pf == NFPROTO_IPV4)
		return slot->family == EARSHOT_AF_INET && daddr[0] == sk->__sk_common.skc_daddr;
	return slot->family == EARSHOT_AF_INET6 &&
	       daddr[0] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[0] &&
	       daddr[1] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[1] &&
	       daddr[2] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[2] &&
	       daddr[3] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3];
}

/* The destination of a connected full socket, from the socket. */
static __always_inline void key_from_socket(const struct sock *sk, int pf, __u64 cookie,
					    struct earshot_flow_key *key)
{
	key->cookie = cookie;
	key->family = pf == NFPROTO_IPV4 ? EARSHOT_AF_INET : EARSHOT_AF_INET6;
	key->protocol = sk->sk_protocol;
	key->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (pf == NFPROTO_IPV4)
		__builtin_memcpy(key->daddr, &sk->__sk_common.skc_daddr, 4);
	else
		__builtin_memcpy(key->daddr, &sk->__sk_common.skc_v6_daddr, 16);
}

/* A slot that does not hold this socket and destination: take it if it is
 * free (a subprogram: a socket's first packet on a CPU, or a new
 * destination, comes here; the packets after it do not). */
static __noinline bool take_slot(struct earshot_sock_slot *slot, const struct sock *sk, int pf,
				 __u64 cookie)
{
	struct earshot_flow_key key = {};

	key_from_socket(sk, pf, cookie, &key);
	return claim_slot(slot, &key, sk->sk_socket);
}

/* Counts the packet of a connected socket in its slot, taking the slot if
 * it is free; false when it belongs to another live socket. */
static __always_inline bool count_in_slot(struct earshot_sock_slot *slot, const struct sock *sk,
					  int pf, __u64 cookie, __u32 len, __u32 payload)
{
	int window;

	if (!slot_holds(slot, sk, pf, cookie) && !take_slot(slot, sk, pf, cookie))
		return false;
	if (!slot->owner_tgid)
		learn_owner(sk, sk->sk_protocol, cookie, &slot->owner_tgid);
	window = capture_window(&slot->owner_tgid, cookie);
	add_to_slot(slot, len, payload, window);
	return true;
}

/* Everything else: sockets without a slot of their own, unconnected ones
 * (destination and payload from the packet), TCP's time-wait and request
 * sockets. payload: a connected socket's (socket_payload). */
static __always_inline void count_in_flows(const struct sk_buff *skb, int pf,
					   const struct sock *sk, __u64 cookie, bool connected,
					   __u32 len, __u32 payload)
{
	struct earshot_flow_key key = {};

	if (connected) {
		key_from_socket(sk, pf, cookie, &key);
	} else {
		key.cookie = cookie;
		key.family = pf == NFPROTO_IPV4 ? EARSHOT_AF_INET : EARSHOT_AF_INET6;
		payload = dest_from_packet(skb, pf, &key);
	}
	count_key_in_flows(&key, sk, connected, len, payload);
}

/* Whether every packet of this connected full socket goes to the address it
 * is connected to. TCP's do. UDP's do unless it sendto()s another address
 * (sends_elsewhere). Raw and ping sockets send wherever sendto() or their own
 * IP header says, whatever they are connected to (connect() still sets the
 * port it was passed): the packet names the destination. */
static __always_inline bool sends_only_to_peer(const struct sock *sk, __u64 cookie)
{
	__u16 protocol = sk->sk_protocol;

	if (protocol == EARSHOT_IPPROTO_TCP)
		return true;
	if (protocol == EARSHOT_IPPROTO_UDP || protocol == EARSHOT_IPPROTO_UDPLITE)
		return !bpf_map_lookup_elem(&sends_elsewhere, &cookie);
	return false;
}

/* Any packet the hot path did not count: a socket's first on this CPU, one
 * whose slot another socket holds, unconnected sockets, TCP's time-wait and
 * request sockets. */
static __noinline void count_packet_slow(const struct sk_buff *skb, int pf,
					 struct earshot_sock_slot *slot, const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	__u8 state = sk->__sk_common.skc_state;
	/* A connected full socket names its destination: no packet read needed,
	 * and it has a slot of its own unless another live socket holds it.
	 * (Time-wait and request sockets have no sk_protocol to read.) */
	bool connected = sk->__sk_common.skc_dport && state != EARSHOT_TCP_TIME_WAIT &&
			 state != EARSHOT_TCP_NEW_SYN_RECV && sends_only_to_peer(sk, cookie);
	__u32 len = skb->len;
	__u32 payload = connected ? socket_payload(skb, sk->sk_protocol, len) : 0;

	if (connected && cookie && slot && count_in_slot(slot, sk, pf, cookie, len, payload))
		return;
	count_in_flows(skb, pf, sk, cookie, connected, len, payload);
}

/* A packet no socket sent: its payload from its headers. */
static __noinline void count_packet_no_socket(const struct sk_buff *skb, int pf)
{
	struct earshot_flow_key key = {};
	__u32 payload = dest_from_packet(skb, pf, &key);

	count_no_socket(skb->len, payload);
}

/* The hot path: a connected socket whose slot on this CPU is its own, with
 * its owner known. The slot's index comes from the socket's cookie, which
 * no later socket shares (see earshot_sock_slot_index). Everything else is
 * a subprogram, so the path stays a few contiguous instruction cache lines
 * (the stack in between evicts them per packet). pf is a constant: one
 * program per family. */
static __always_inline int count_packet(const struct bpf_nf_ctx *ctx, int pf)
{
	const struct sk_buff *skb = ctx->skb;
	const struct sock *sk = skb->sk;
	struct earshot_sock_slot *slot;
	__u64 cookie;
	__u32 len;
	__u32 idx;

	if (unlikely(!sk)) {
		count_packet_no_socket(skb, pf);
		return NF_ACCEPT;
	}
	cookie = sk->__sk_common.skc_cookie.counter;
	idx = earshot_sock_slot_index(cookie) + bpf_get_smp_processor_id() * EARSHOT_SOCK_SLOTS;
	slot = bpf_map_lookup_elem(&sock_slots, &idx);
	if (likely(slot && slot->owner_tgid && slot_holds(slot, sk, pf, cookie))) {
		len = skb->len;
		add_slot_egress(slot, len, socket_payload(skb, slot->protocol, len));
		if (unlikely(capture_state_word()))
			count_slot_window(slot, len);
		return NF_ACCEPT;
	}
	count_packet_slow(skb, pf, slot, sk);
	return NF_ACCEPT;
}

/* LOCAL_IN: the payload of a received packet, from its headers (the
 * transport header is set by now; IPv6 extension headers are not walked). */
static __always_inline __u32 received_payload(const struct sk_buff *skb, int pf)
{
	unsigned char *network = skb->head + skb->network_header;
	__u8 protocol;
	__u32 ip_len;

	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = bpf_core_cast(network, struct iphdr);

		protocol = iph->protocol;
		ip_len = iph->ihl * 4;
	} else {
		protocol = bpf_core_cast(network, struct ipv6hdr)->nexthdr;
		ip_len = sizeof(struct ipv6hdr);
	}
	if (protocol == EARSHOT_IPPROTO_TCP)
		return payload_after(skb->len, ip_len + tcp_header_len(network + ip_len));
	if (protocol == EARSHOT_IPPROTO_UDP || protocol == EARSHOT_IPPROTO_UDPLITE)
		return payload_after(skb->len, ip_len + EARSHOT_UDP_HEADER_LEN);
	return 0;
}

/* A received packet whose slot on this CPU is not its socket's yet: take
 * the slot if it is free, else the socket's flow (a subprogram). */
static __noinline void count_received_slow(const struct sk_buff *skb, int pf,
					   struct earshot_sock_slot *slot, const struct sock *sk,
					   __u32 payload)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	__u8 state = sk->__sk_common.skc_state;
	struct earshot_flow_key key = {};

	/* Early demux hands over time-wait and request sockets too: no slot. */
	if (!cookie || state == EARSHOT_TCP_TIME_WAIT || state == EARSHOT_TCP_NEW_SYN_RECV ||
	    !sk->__sk_common.skc_dport || !sends_only_to_peer(sk, cookie)) {
		count_ingress_unmatched(payload);
		return;
	}
	if (slot && (slot_holds(slot, sk, pf, cookie) || take_slot(slot, sk, pf, cookie))) {
		add_slot_ingress(slot, payload);
		return;
	}
	key_from_socket(sk, pf, cookie, &key);
	count_ingress_in_flows(&key, payload);
}

/* LOCAL_IN: what a socket received. The socket is the one early demux found
 * (connected TCP and UDP sockets arriving through a device; none on
 * loopback, whose packets keep their route): a packet without one is
 * counted as unmatched. One slot lookup, one update, as at LOCAL_OUT. */
static __always_inline int count_received(const struct bpf_nf_ctx *ctx, int pf)
{
	const struct sk_buff *skb = ctx->skb;
	const struct sock *sk = skb->sk;
	struct earshot_sock_slot *slot;
	__u32 payload = received_payload(skb, pf);
	__u64 cookie;
	__u32 idx;

	if (!sk) {
		count_ingress_unmatched(payload);
		return NF_ACCEPT;
	}
	cookie = sk->__sk_common.skc_cookie.counter;
	idx = earshot_sock_slot_index(cookie) + bpf_get_smp_processor_id() * EARSHOT_SOCK_SLOTS;
	slot = bpf_map_lookup_elem(&sock_slots, &idx);
	if (likely(slot && cookie && slot->cookie == cookie)) {
		add_slot_ingress(slot, payload);
		return NF_ACCEPT;
	}
	count_received_slow(skb, pf, slot, sk, payload);
	return NF_ACCEPT;
}

SEC("netfilter")
int earshot_nf_local_in4(struct bpf_nf_ctx *ctx)
{
	return count_received(ctx, NFPROTO_IPV4);
}

SEC("netfilter")
int earshot_nf_local_in6(struct bpf_nf_ctx *ctx)
{
	return count_received(ctx, NFPROTO_IPV6);
}

SEC("netfilter")
int earshot_nf_local_out4(struct bpf_nf_ctx *ctx)
{
	return count_packet(ctx, NFPROTO_IPV4);
}

SEC("netfilter")
int earshot_nf_local_out6(struct bpf_nf_ctx *ctx)
{
	return count_packet(ctx, NFPROTO_IPV6);
}
