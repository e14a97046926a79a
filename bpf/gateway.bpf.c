// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Gateway mode: bytes, packets and payload LAN devices send through this
 * machine, per device (source MAC as the LAN side saw it) and destination. Counted
 * where the packet still carries the device's own addresses, before
 * masquerading rewrites the source: netfilter FORWARD (6.4+), else tc
 * ingress of the LAN interfaces (every kernel), which asks the FIB whether
 * the packet will be forwarded (not delivered to this machine).
 *
 * And what each device receives from each destination, in the same pair
 * (the verdicts tell a download's acknowledgements from an upload by it):
 * at FORWARD, a packet going out through a LAN interface, its device found
 * by its destination address in lan_hosts (the destination MAC is not
 * known there yet); else at tc egress of the LAN interfaces, by the
 * frame's destination MAC. After masquerading is undone either way: the
 * device's own address, the destination's as the source.
 *
 * Per packet: one lookup in a per-CPU hash, its counters incremented. A
 * pair seen for the first time is inserted (a subprogram); when the map is
 * full the packet is counted in gateway_totals[EARSHOT_GATEWAY_FLOW_FULL]
 * and nowhere else (the map is not LRU: nothing is evicted silently). A
 * received packet never inserts a pair: without one (or without its
 * device's address in lan_hosts) it is counted in
 * gateway_totals[EARSHOT_GATEWAY_INGRESS_UNMATCHED].
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
#define EARSHOT_MAX_LAN_HOSTS 1024

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
 * counts packets that came in through one of them (sent by a device) or go
 * out through one (received by a device). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EARSHOT_MAX_LAN_INTERFACES);
	__type(key, __u32);
	__type(value, __u8);
} lan_interfaces SEC(".maps");

/* lan_hosts key: an address a LAN device sends from. */
struct lan_host_key {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 reserved[3];
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
};

struct lan_host {
	__u8 mac[6];
	__u8 reserved[2];
};

/* A LAN device's MAC by the address it sends from, for FORWARD's packets
 * toward it. Written where one of its pairs is inserted (the slow path),
 * read per packet toward the LAN. LRU: addresses a device stopped using
 * (IPv6 privacy addresses rotate) age out, one in use is read by every
 * packet it receives and stays; a device whose entry was evicted anyway
 * is written again at its next new pair, its packets unmatched (counted)
 * until then. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EARSHOT_MAX_LAN_HOSTS);
	__type(key, struct lan_host_key);
	__type(value, struct lan_host);
} lan_hosts SEC(".maps");

/* The payload of a packet of len bytes whose IP, TCP or UDP headers take
 * headers bytes (as payload_after in counting.bpf.h): what TCP or UDP
 * carried, 0 for a packet shorter than its headers claim. */
static __always_inline __u32 gateway_payload_after(__u32 len, __u32 headers)
{
	return len > headers ? len - headers : 0;
}

/* 1..EARSHOT_ACK_SIZED_PAYLOAD bytes of payload (earshot.h): one compare. */
static __always_inline bool ack_sized(__u32 payload)
{
	return payload - 1 < EARSHOT_ACK_SIZED_PAYLOAD;
}

static __always_inline void add_sent(struct earshot_device_counters *c, __u32 len, __u32 payload)
{
	c->packets++;
	c->bytes += len;
	c->payload_bytes += payload;
	if (ack_sized(payload)) {
		c->ack_sized_packets++;
		c->ack_sized_payload += payload;
	}
}

/* A pair not in the map yet: insert it, or count the packet as refused.
 * host (FORWARD only, else NULL): the address the device sent from, which
 * lan_hosts then maps to its MAC. */
static __noinline void count_new_pair(const struct earshot_device_flow_key *key,
				      const struct lan_host_key *host, __u32 len, __u32 payload)
{
	struct earshot_device_counters fresh = {};
	struct earshot_device_counters *c;
	struct lan_host device = {};
	__u32 slot = EARSHOT_GATEWAY_FLOW_FULL;

	if (host) {
		__builtin_memcpy(device.mac, key->mac, sizeof(device.mac));
		bpf_map_update_elem(&lan_hosts, host, &device, BPF_ANY);
	}
	add_sent(&fresh, len, payload);
	if (bpf_map_update_elem(&device_flows, key, &fresh, BPF_NOEXIST) == 0)
		return;
	c = bpf_map_lookup_elem(&device_flows, key); /* another CPU made it meanwhile */
	if (!c)
		c = bpf_map_lookup_elem(&gateway_totals, &slot);
	if (c)
		add_sent(c, len, payload);
}

/* A packet the device sent, in its pair if the pair is there: false if not. */
static __always_inline bool count_known_pair(const struct earshot_device_flow_key *key, __u32 len,
					     __u32 payload)
{
	struct earshot_device_counters *c = bpf_map_lookup_elem(&device_flows, key);

	if (likely(c)) {
		add_sent(c, len, payload);
		return true;
	}
	return false;
}

/* A packet a device received from key's destination: in that pair if it is
 * there (never inserted: a device's pairs are what it sent to), else in
 * gateway_totals[EARSHOT_GATEWAY_INGRESS_UNMATCHED]. key NULL: no device
 * known for it. */
static __always_inline void count_received(const struct earshot_device_flow_key *key,
					   __u32 payload)
{
	struct earshot_device_counters *c = NULL;
	__u32 slot = EARSHOT_GATEWAY_INGRESS_UNMATCHED;

	if (key)
		c = bpf_map_lookup_elem(&device_flows, key);
	if (!c)
		c = bpf_map_lookup_elem(&gateway_totals, &slot);
	if (c) {
		c->ingress_packets++;
		c->ingress_payload += payload;
	}
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

/* FORWARD, a pair's first packet: the device's address from the packet
 * (for lan_hosts), then the pair inserted. */
static __noinline void count_new_forwarded(const struct earshot_device_flow_key *key,
					   unsigned char *network, int pf, __u32 len, __u32 payload)
{
	struct lan_host_key host = {.family = key->family};

	if (pf == NFPROTO_IPV4)
		bpf_probe_read_kernel(host.addr, 4, network + offsetof(struct iphdr, saddr));
	else
		bpf_probe_read_kernel(host.addr, 16, network + offsetof(struct ipv6hdr, saddr));
	count_new_pair(key, &host, len, payload);
}

/* FORWARD, a packet going out to the LAN: the device is the one lan_hosts
 * names for its destination address, the pair's destination its source. */
static __noinline void count_toward_lan(unsigned char *network, int pf, __u32 len)
{
	struct earshot_device_flow_key key = {};
	struct lan_host_key host = {};
	struct lan_host *device;

	if (pf == NFPROTO_IPV4) {
		host.family = key.family = EARSHOT_AF_INET;
		bpf_probe_read_kernel(host.addr, 4, network + offsetof(struct iphdr, daddr));
		bpf_probe_read_kernel(key.daddr, 4, network + offsetof(struct iphdr, saddr));
	} else {
		host.family = key.family = EARSHOT_AF_INET6;
		bpf_probe_read_kernel(host.addr, 16, network + offsetof(struct ipv6hdr, daddr));
		bpf_probe_read_kernel(key.daddr, 16, network + offsetof(struct ipv6hdr, saddr));
	}
	device = bpf_map_lookup_elem(&lan_hosts, &host);
	if (device)
		__builtin_memcpy(key.mac, device->mac, sizeof(key.mac));
	count_received(device ? &key : NULL, forwarded_payload(network, pf, len));
}

static __always_inline bool lan_interface(const struct net_device *dev)
{
	__u32 ifindex;

	if (!dev)
		return false;
	ifindex = dev->ifindex;
	return bpf_map_lookup_elem(&lan_interfaces, &ifindex) != NULL;
}

/* FORWARD: the kernel's sk_buff. The headers are copied with
 * bpf_probe_read_kernel: bpf_core_cast (what counting_netfilter.bpf.c uses)
 * cannot be declared in two sources of one object (bpftool's linker refuses
 * a second extern of the kfunc). The source MAC is the frame's, still in
 * front of the network header; a LAN interface without Ethernet headers
 * gives a zero MAC. A packet from one LAN interface to another is one
 * device's sent and another's received. */
static __always_inline int count_forwarded(const struct bpf_nf_ctx *ctx, int pf)
{
	const struct nf_hook_state *state = ctx->state;
	const struct sk_buff *skb = ctx->skb;
	struct earshot_device_flow_key key = {};
	const struct net_device *in = state->in;
	unsigned char *network = skb->head + skb->network_header;
	__u32 len, payload;

	if (lan_interface(state->out))
		count_toward_lan(network, pf, skb->len);
	if (!lan_interface(in))
		return NF_ACCEPT;
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
	len = skb->len;
	payload = forwarded_payload(network, pf, len);
	if (!count_known_pair(&key, len, payload))
		count_new_forwarded(&key, network, pf, len, payload);
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
	__u32 ip_len = 0, len, payload;
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
	payload = tc_payload(skb, protocol, ip_len, len);
	if (!count_known_pair(&key, len, payload))
		count_new_pair(&key, NULL, len, payload);
	return EARSHOT_TC_ACT_UNSPEC;
}

/* tc egress of a LAN interface (Ethernet): what a device receives, forwarded
 * to it (come in through an interface: not the gateway's own packets, whose
 * ingress_ifindex is 0; from another LAN interface too, as at FORWARD). The
 * frame's destination MAC is the device's, the IP source the pair's
 * destination. Only looked up: a pair is what a device sent to. */
SEC("tc")
int earshot_gateway_tc_lan_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct earshot_device_flow_key key = {};
	struct ethhdr *eth = data;
	__u32 ip_len, len;
	__u8 protocol;

	if (!skb->ingress_ifindex || (void *)(eth + 1) > data_end || skb->len <= ETH_HLEN)
		return EARSHOT_TC_ACT_UNSPEC;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->version != 4)
			return EARSHOT_TC_ACT_UNSPEC;
		protocol = ip->protocol;
		ip_len = ip->ihl * 4;
		key.family = EARSHOT_AF_INET;
		*(__u32 *)key.daddr = ip->saddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return EARSHOT_TC_ACT_UNSPEC;
		protocol = ip6->nexthdr;
		ip_len = sizeof(*ip6);
		key.family = EARSHOT_AF_INET6;
		__builtin_memcpy(key.daddr, &ip6->saddr, 16);
	} else {
		return EARSHOT_TC_ACT_UNSPEC;
	}
	__builtin_memcpy(key.mac, eth->h_dest, 6);
	len = skb->len - ETH_HLEN;
	count_received(&key, tc_payload(skb, protocol, ip_len, len));
	return EARSHOT_TC_ACT_UNSPEC;
}
