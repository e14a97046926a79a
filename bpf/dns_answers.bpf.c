// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * DNS answers received, copied to userspace for naming destinations: at tcx
 * ingress (6.6+), else at cgroup_skb ingress.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "net_constants.bpf.h"
#include "shared_maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EARSHOT_DNS_RINGBUF_BYTES);
} dns_events SEC(".maps");

/* DNS answers received, for naming destinations. This runs for every packet
 * a monitored interface receives, so it decides from the linear packet head
 * with direct reads (no helper call, no socket lookup): anything that is not
 * UDP from port 53 leaves after one or two byte compares. l3off is where the
 * IP header starts: a constant per program, so the reads stay direct. */
static __always_inline void read_dns_answer(struct __sk_buff *skb, __u32 l3off)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct earshot_dns_event *e;
	struct udphdr *udp;
	__u32 l4off, len;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + l3off;

		if ((void *)(ip + 1) > data_end || ip->version != 4 ||
		    ip->protocol != EARSHOT_IPPROTO_UDP)
			return;
		l4off = l3off + ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + l3off;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6 ||
		    ip6->nexthdr != EARSHOT_IPPROTO_UDP)
			return;
		l4off = l3off + sizeof(*ip6);
	} else {
		return;
	}
	if (l4off < l3off + sizeof(struct iphdr) || l4off > l3off + 60)
		return;
	udp = data + l4off;
	if ((void *)(udp + 1) > data_end || udp->source != bpf_htons(53))
		return;

	/* A DNS answer: rare, so the copy may use the helper. */
	if (skb->len <= l4off + sizeof(*udp))
		return;
	len = skb->len - l4off - sizeof(*udp);
	if (len > EARSHOT_DNS_PAYLOAD_MAX)
		len = EARSHOT_DNS_PAYLOAD_MAX;
	e = bpf_ringbuf_reserve(&dns_events, sizeof(*e), 0);
	if (!e) {
		count_lost(EARSHOT_LOST_DNS_RINGBUF_FULL);
		return;
	}
	e->reserved = 0;
	/* The verifier wants a length it can bound to [1, payload size] by
	 * itself: older ones (6.1) lose the clamp above, so bound it again
	 * with a mask and an add, which every verifier follows (len is in
	 * [1, EARSHOT_DNS_PAYLOAD_MAX], so this is len). */
	if (bpf_skb_load_bytes(skb, l4off + sizeof(*udp), e->payload,
			       ((len - 1) & (EARSHOT_DNS_PAYLOAD_MAX - 1)) + 1)) {
		e->len = 0;
		bpf_ringbuf_discard(e, 0);
		return;
	}
	e->len = len;
	bpf_ringbuf_submit(e, 0);
}

/* At tcx ingress of each interface in the monitored namespaces: only their
 * packets pay. On a device with a link-layer header (Ethernet, Wi-Fi,
 * loopback) the packet starts with it; on one without (WireGuard, tun, PPP)
 * at the IP header. TCX_NEXT: earshot only reads, never decides. */
SEC("tcx/ingress")
int earshot_dns_tcx_eth(struct __sk_buff *skb)
{
	read_dns_answer(skb, ETH_HLEN);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int earshot_dns_tcx_l3(struct __sk_buff *skb)
{
	read_dns_answer(skb, 0);
	return TCX_NEXT;
}

/* Where the kernel has no tcx (before 6.6): every packet any socket of the
 * machine receives, in every namespace, at the root cgroup. The packet
 * starts at the IP header here. */
SEC("cgroup_skb/ingress")
int earshot_dns_ingress(struct __sk_buff *skb)
{
	read_dns_answer(skb, 0);
	return 1;
}

/* Gateway mode, where tcx_dns_ingress does not attach (before 6.6): the
 * answers a LAN device gets, at tc egress of the LAN interfaces (legacy tc,
 * every kernel). The root cgroup's ingress sees only answers to this
 * machine's own sockets, never those it forwards. */
SEC("tc")
int earshot_dns_tc_lan_egress(struct __sk_buff *skb)
{
	read_dns_answer(skb, ETH_HLEN);
	return -1; /* TC_ACT_UNSPEC: read only */
}
