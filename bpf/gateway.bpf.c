// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Gateway mode: bytes, packets and payload LAN devices send through this
 * machine, per device (source MAC as the LAN side saw it) and destination. Counted
 * where the packet still carries the device's own addresses, before
 * masquerading rewrites the source: netfilter FORWARD (6.4+), else tc
 * ingress of the LAN interfaces (every kernel), which asks the FIB whether
 * the packet will be forwarded (not delivered to this machine).
 *
 * Per packet: one lookup in a per-CPU hash, its counters incremented. A
 * pair seen for the first time is inserted (a subprogram); when the map is
 * full the packet is counted in gateway_totals[EARSHOT_GATEWAY_FLOW_FULL]
 * and nowhere else (the map is not LRU: nothing is evicted silently).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "earshot.h"
#include "net_constants.bpf.h"

#define NF_ACCEPT 1
#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10
#define EARSHOT_ARPHRD_ETHER 1
#define EARSHOT_TC_ACT_UNSPEC -1 /* read only: let the next filter decide */

#define likely(x) __builtin_expect(!!(x), 1)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, EARSHOT_MAX_DEVICE_FLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* costs nothing while gateway mode is off */
	__type(key, struct earshot_device_flow_key);
	__type(value, struct earshot_device_counters);
} device_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EARSHOT_GATEWAY_TOTAL_SLOTS);
	__type(key, __u32);
	__type(value, struct earshot_device_counters);
} gateway_totals SEC(".maps");

/* The LAN interfaces (ifindex), written by userspace: the FORWARD hook
 * counts only packets that came in through one of them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_LAN_INTERFACES);
	__type(key, __u32);
	__type(value, __u8);
} lan_interfaces SEC(".maps");

/* The payload of a packet of len bytes whose IP, TCP or UDP headers take
 * headers bytes (as payload_after in counting.bpf.h): what TCP or UDP
 * carried, 0 for a packet shorter than its headers claim. */
static __always_inline __u32 gateway_payload_after(__u32 len, __u32 headers)
{
	return len > headers ? len - headers : 0;
}

/* A pair not in the map yet: insert it, or count the packet as refused. */
static __noinline void count_new_pair(const struct earshot_device_flow_key *key, __u32 len,
				      __u32 payload)
{
	struct earshot_device_counters fresh = {.packets = 1, .bytes = len, .payload_bytes = payload};
	struct earshot_device_counters *c;
	__u32 slot = EARSHOT_GATEWAY_FLOW_FULL;

	if (bpf_map_update_elem(&device_flows, key, &fresh, BPF_NOEXIST) == 0)
		return;
	c = bpf_map_lookup_elem(&device_flows, key); /* another CPU made it meanwhile */
	if (!c)
		c = bpf_map_lookup_elem(&gateway_totals, &slot);
	if (c) {
		c->packets++;
		c->bytes += len;
		c->payload_bytes += payload;
	}
}

static __always_inline void count_device(const struct earshot_device_flow_key *key, __u32 len,
					 __u32 payload)
{
	struct earshot_device_counters *c = bpf_map_lookup_elem(&device_flows, key);

	if (likely(c)) {
		c->packets++;
		c->bytes += len;
		c->payload_bytes += payload;
		return;
	}
	count_new_pair(key, len, payload);
}

/* FORWARD: the payload of the packet whose IP header is at network, from
 * its protocol and header lengths (IPv4 options included; IPv6 extension
 * headers are not walked: behind one the packet counts no payload). */
static __always_inline __u32 forwarded_payload(unsigned char *network, int pf, __u32 len)
{
	__u8 protocol = 0, first = 0, doff = 0;
	__u32 ip_len;

	if (pf == NFPROTO_IPV4) {
		bpf_probe_read_kernel(&first, 1, network); /* version and ihl */
		bpf_probe_read_kernel(&protocol, 1, network + offsetof(struct iphdr, protocol));
		ip_len = (first & 0x0f) * 4;
	} else {
		bpf_probe_read_kernel(&protocol, 1, network + offsetof(struct ipv6hdr, nexthdr));
		ip_len = sizeof(struct ipv6hdr);
	}
	if (protocol == EARSHOT_IPPROTO_TCP) {
		bpf_probe_read_kernel(&doff, 1, network + ip_len + 12); /* doff in the high nibble */
		return gateway_payload_after(len, ip_len + (doff >> 4) * 4);
	}
	if (protocol == EARSHOT_IPPROTO_UDP || protocol == EARSHOT_IPPROTO_UDPLITE)
		return gateway_payload_after(len, ip_len + EARSHOT_UDP_HEADER_LEN);
	return 0;
}

/* FORWARD: the kernel's sk_buff. The headers are copied with
 * bpf_probe_read_kernel: bpf_core_cast (what counting_netfilter.bpf.c uses)
 * cannot be declared in two sources of one object (bpftool's linker refuses
 * a second extern of the kfunc). The source MAC is the frame's, still in
 * front of the network header; a LAN interface without Ethernet headers
 * gives a zero MAC. */
static __always_inline int count_forwarded(const struct bpf_nf_ctx *ctx, int pf)
{
	const struct nf_hook_state *state = ctx->state;
	const struct sk_buff *skb = ctx->skb;
	struct earshot_device_flow_key key = {};
	const struct net_device *in = state->in;
	unsigned char *network;
	__u32 ifindex;

	if (!in)
		return NF_ACCEPT;
	ifindex = in->ifindex;
	if (!bpf_map_lookup_elem(&lan_interfaces, &ifindex))
		return NF_ACCEPT;
	network = skb->head + skb->network_header;
	if (in->type == EARSHOT_ARPHRD_ETHER && skb->mac_header != (__u16)~0U &&
	    skb->network_header >= skb->mac_header + ETH_HLEN)
		bpf_probe_read_kernel(key.mac, sizeof(key.mac),
				      skb->head + skb->mac_header + 6 /* h_source */);
	if (pf == NFPROTO_IPV4) {
		key.family = EARSHOT_AF_INET;
		bpf_probe_read_kernel(key.daddr, 4, network + offsetof(struct iphdr, daddr));
	} else {
		key.family = EARSHOT_AF_INET6;
		bpf_probe_read_kernel(key.daddr, 16, network + offsetof(struct ipv6hdr, daddr));
	}
	count_device(&key, skb->len, forwarded_payload(network, pf, skb->len));
	return NF_ACCEPT;
}

SEC("netfilter")
int earshot_nf_forward4(struct bpf_nf_ctx *ctx)
{
	return count_forwarded(ctx, NFPROTO_IPV4);
}

SEC("netfilter")
int earshot_nf_forward6(struct bpf_nf_ctx *ctx)
{
	return count_forwarded(ctx, NFPROTO_IPV6);
}

/* tc: the payload of an IP packet of len bytes behind the Ethernet header,
 * whose IP headers take ip_len bytes: TCP's data offset is loaded from the
 * frame (bpf_skb_load_bytes: the header need not be in the linear part).
 * IPv6 extension headers are not walked, as at FORWARD. */
static __always_inline __u32 tc_payload(struct __sk_buff *skb, __u8 protocol, __u32 ip_len,
					__u32 len)
{
	__u8 doff = 0;

	if (protocol == EARSHOT_IPPROTO_TCP) {
		if (ip_len > 60 ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + ip_len + 12, &doff, 1) != 0)
			return 0;
		return gateway_payload_after(len, ip_len + (doff >> 4) * 4);
	}
	if (protocol == EARSHOT_IPPROTO_UDP || protocol == EARSHOT_IPPROTO_UDPLITE)
		return gateway_payload_after(len, ip_len + EARSHOT_UDP_HEADER_LEN);
	return 0;
}

/* tc ingress of a LAN interface (Ethernet): every packet a device sends
 * here, to this machine or through it; the FIB says which. The bytes
 * counted are the IP packet's (the frame less its Ethernet header), as at
 * FORWARD. Counted before the forward chain's filters: a packet the
 * firewall drops is counted here, not at FORWARD. */
SEC("tc")
int earshot_gateway_tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct earshot_device_flow_key key = {};
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth = data;
	__u32 ip_len = 0, len;
	__u8 protocol;
	long rc;

	if ((void *)(eth + 1) > data_end)
		return EARSHOT_TC_ACT_UNSPEC;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->version != 4)
			return EARSHOT_TC_ACT_UNSPEC;
		fib.family = EARSHOT_AF_INET;
		fib.tos = ip->tos;
		fib.l4_protocol = ip->protocol;
		fib.tot_len = bpf_ntohs(ip->tot_len);
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
		protocol = ip->protocol;
		ip_len = ip->ihl * 4;
		key.family = EARSHOT_AF_INET;
		*(__u32 *)key.daddr = ip->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return EARSHOT_TC_ACT_UNSPEC;
		fib.family = EARSHOT_AF_INET6;
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
		protocol = ip6->nexthdr;
		ip_len = sizeof(*ip6);
		key.family = EARSHOT_AF_INET6;
		__builtin_memcpy(key.daddr, &ip6->daddr, 16);
	} else {
		return EARSHOT_TC_ACT_UNSPEC;
	}
	fib.ifindex = skb->ingress_ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	/* Forwarded: routed out another way (with or without a neighbour entry
	 * yet, or to be fragmented). Delivered here, dropped by a route, or
	 * forwarding off: not the device's traffic through the gateway. */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH &&
	    rc != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return EARSHOT_TC_ACT_UNSPEC;
	__builtin_memcpy(key.mac, eth->h_source, 6);
	if (skb->len <= ETH_HLEN)
		return EARSHOT_TC_ACT_UNSPEC;
	len = skb->len - ETH_HLEN;
	count_device(&key, len, tc_payload(skb, protocol, ip_len, len));
	return EARSHOT_TC_ACT_UNSPEC;
}
