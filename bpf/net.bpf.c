// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bytes per process, per destination.
 *
 * The owner of a socket is recorded once, in process context, keyed by the
 * socket cookie (sock_create, accept.bpf.c, a start-up iterator; for an
 * accepted socket where accept.bpf.c does not load, the netfilter hook at
 * the socket's first packet sent by a task holding its lock, learn_owner).
 * Otherwise the netfilter hook never looks at "current" (TCP sends from
 * softirq): per packet it counts in the socket's per-CPU slot (an array
 * lookup at an index hashed from the socket's cookie) when the socket is
 * connected, else in the per-CPU flows hash;
 * userspace joins flows and slots to owners at harvest time. Raw and ping
 * sockets, and a connected UDP socket once it has sendto() another address
 * (the cgroup sendmsg hooks see it), are counted by each packet's own
 * destination: they send past their connection.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "owner.bpf.h"

#define NF_ACCEPT 1
#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10
#define EARSHOT_AF_INET 2
#define EARSHOT_AF_INET6 10
#define EARSHOT_IPPROTO_TCP 6
#define EARSHOT_IPPROTO_UDP 17
#define EARSHOT_IPPROTO_UDPLITE 136
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_HLEN 14
#define EARSHOT_TCP_TIME_WAIT 6
#define EARSHOT_TCP_NEW_SYN_RECV 12
#define EARSHOT_BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB 5
#define EARSHOT_PF_KTHREAD 0x00200000

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, EARSHOT_MAX_FLOWS);
	__type(key, struct earshot_flow_key);
	__type(value, struct earshot_flow_value);
} flows SEC(".maps");

/* Connected sockets: one slot per socket and CPU, an inlined array lookup
 * instead of a hash on the common path. Per-CPU by layout: CPU c's slots are
 * entries [c * EARSHOT_SOCK_SLOTS, (c + 1) * EARSHOT_SOCK_SLOTS), the loader
 * sizes the array for the possible CPUs. Not a PERCPU_ARRAY: its lookup
 * loads the element's per-CPU pointer first, one more dependent load (and a
 * cache miss, in perf samples) per packet; here the address is computed.
 * Mmapable only for its page-aligned values: a slot's first 64 bytes are
 * then one cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, EARSHOT_SOCK_SLOTS); /* times the possible CPUs, at load */
	__type(key, __u32);
	__type(value, struct earshot_sock_slot);
} sock_slots SEC(".maps");

/* Connected UDP sockets that sent a datagram to another address: sendto()
 * with an address on a connected UDP socket sends there, past the
 * connection. The sendmsg hooks record them; their packets are then counted
 * by the destination in the packet (the flows map), never the socket's, so
 * no upload hides behind a connection to a harmless host. LRU: a socket
 * evicted here is recorded again at its next such send. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EARSHOT_MAX_ELSEWHERE_SOCKS);
	__type(key, __u64);
	__type(value, __u8);
} sends_elsewhere SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct earshot_net_config);
} net_config SEC(".maps");

/* Never evicted: totals[ALL] + totals[SLOT_RETIRED] + sum(sock_slots) is
 * every packet seen, so what sum(flows, sock_slots) + unattributed misses
 * (evictions) is a number. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EARSHOT_TOTAL_SLOTS);
	__type(key, __u32);
	__type(value, struct earshot_counters);
} totals SEC(".maps");

static __always_inline void add_counters(struct earshot_counters *c, __u32 len, int window)
{
	c->packets++;
	c->bytes += len;
	if (window >= 0 && window < EARSHOT_WINDOW_COUNT)
		c->window_bytes[window] += len;
}

static __always_inline void add_slot_window(struct earshot_sock_slot *slot, __u32 len, int window)
{
	if (window >= 0 && window < EARSHOT_WINDOW_COUNT)
		slot->window_bytes[window] += len;
}

static __always_inline void add_to_slot(struct earshot_sock_slot *slot, __u32 len, int window)
{
	slot->packets++;
	slot->bytes += len;
	add_slot_window(slot, len, window);
}

static __always_inline void add_total(__u32 slot, __u32 len, int window)
{
	struct earshot_counters *c = bpf_map_lookup_elem(&totals, &slot);

	if (c)
		add_counters(c, len, window);
}

/* Destination from the packet, for sockets that are not connected. The
 * headers are read through bpf_core_cast: the verifier makes its loads
 * fault-safe ones, so no helper call and no copy (the cast itself is
 * inlined); a header that cannot be read gives zeros. */
static __always_inline void dest_from_packet(const struct sk_buff *skb, int pf,
					     struct earshot_flow_key *key)
{
	unsigned char *network = skb->head + skb->network_header;
	unsigned char *transport;

	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = bpf_core_cast(network, struct iphdr);

		key->protocol = iph->protocol;
		*(__u32 *)key->daddr = iph->daddr;
		transport = network + iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = bpf_core_cast(network, struct ipv6hdr);

		key->protocol = ip6h->nexthdr; /* extension headers: no port */
		__builtin_memcpy(key->daddr, &ip6h->daddr, 16);
		transport = network + sizeof(*ip6h);
	}
	if (key->protocol == EARSHOT_IPPROTO_TCP || key->protocol == EARSHOT_IPPROTO_UDP ||
	    key->protocol == EARSHOT_IPPROTO_UDPLITE)
		key->dport = bpf_ntohs(bpf_core_cast(transport, struct udphdr)->dest);
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

/* The slot counts this socket and destination. A connected UDP socket can
 * connect elsewhere under the same cookie: then the flows map counts it.
 * Compared field by field against the socket, after the slot lookup, so the
 * path every connected socket's packets take builds no key on the stack.
 * The protocol is not compared (a socket keeps its own); the address bytes
 * a family does not use are zero in every slot (claim_slot writes them). */
static __always_inline bool slot_holds(const struct earshot_sock_slot *slot, const struct sock *sk,
				       int pf, __u64 cookie)
{
	const struct earshot_flow_key *key = &slot->key;
	const __u32 *daddr = (const __u32 *)key->daddr;

	if (key->cookie != cookie || key->dport != bpf_ntohs(sk->__sk_common.skc_dport))
		return false;
	if (pf == NFPROTO_IPV4)
		return key->family == EARSHOT_AF_INET && daddr[0] == sk->__sk_common.skc_daddr;
	return key->family == EARSHOT_AF_INET6 &&
	       daddr[0] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[0] &&
	       daddr[1] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[1] &&
	       daddr[2] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[2] &&
	       daddr[3] == sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3];
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
	for (w = 0; w < EARSHOT_WINDOW_COUNT; w++)
		c->window_bytes[w] += old->window_bytes[w];
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
	if (slot->key.cookie) {
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
	__builtin_memset(slot->window_bytes, 0, sizeof(slot->window_bytes));
	slot->owner_tgid = 0;
	slot->dead_since_ns = 0;
	slot->key = *key;
	return true;
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
					  int pf, __u64 cookie, __u32 len)
{
	int window;

	if (!slot_holds(slot, sk, pf, cookie) && !take_slot(slot, sk, pf, cookie))
		return false;
	if (!slot->owner_tgid)
		learn_owner(sk, sk->sk_protocol, cookie, &slot->owner_tgid);
	window = capture_window(&slot->owner_tgid, cookie);
	add_to_slot(slot, len, window);
	return true;
}

/* One packet in the flows map under its key; learn says whether a missing
 * owner may be looked for (sk as for learn_owner). */
static __always_inline void count_key_in_flows(const struct earshot_flow_key *key,
					       const struct sock *sk, bool learn, __u32 len)
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
			add_total(EARSHOT_TOTAL_ALL, len, window);
			add_total(EARSHOT_TOTAL_FLOW_FULL, len, window);
			return;
		}
	}
	if (learn && !v->owner_tgid)
		learn_owner(sk, key->protocol, key->cookie, &v->owner_tgid);
	window = capture_window(&v->owner_tgid, key->cookie);
	add_counters(&v->counters, len, window);
	add_total(EARSHOT_TOTAL_ALL, len, window);
}

/* Everything else: sockets without a slot of their own, unconnected ones
 * (destination from the packet), TCP's time-wait and request sockets. */
static __always_inline void count_in_flows(const struct sk_buff *skb, int pf,
					   const struct sock *sk, __u64 cookie, bool connected,
					   __u32 len)
{
	struct earshot_flow_key key = {};

	if (connected) {
		key_from_socket(sk, pf, cookie, &key);
	} else {
		key.cookie = cookie;
		key.family = pf == NFPROTO_IPV4 ? EARSHOT_AF_INET : EARSHOT_AF_INET6;
		dest_from_packet(skb, pf, &key);
	}
	count_key_in_flows(&key, sk, connected, len);
}

/* A packet no socket sent (forwarded, or the kernel's own replies). */
static __noinline void count_no_socket(__u32 len)
{
	int window = capture_window(0, 0);

	add_total(EARSHOT_TOTAL_ALL, len, window);
	add_total(EARSHOT_TOTAL_NO_SOCKET, len, window);
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
					 struct earshot_sock_slot *slot, const struct sock *sk,
					 __u32 len)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	__u8 state = sk->__sk_common.skc_state;
	/* A connected full socket names its destination: no packet read needed,
	 * and it has a slot of its own unless another live socket holds it.
	 * (Time-wait and request sockets have no sk_protocol to read.) */
	bool connected = sk->__sk_common.skc_dport && state != EARSHOT_TCP_TIME_WAIT &&
			 state != EARSHOT_TCP_NEW_SYN_RECV && sends_only_to_peer(sk, cookie);

	if (connected && cookie && slot && count_in_slot(slot, sk, pf, cookie, len))
		return;
	count_in_flows(skb, pf, sk, cookie, connected, len);
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
	add_slot_window(slot, len, capture_window(&slot->owner_tgid, slot->key.cookie));
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
	__u32 len = skb->len;
	__u64 cookie;
	__u32 idx;

	if (unlikely(!sk)) {
		count_no_socket(len);
		return NF_ACCEPT;
	}
	cookie = sk->__sk_common.skc_cookie.counter;
	idx = earshot_sock_slot_index(cookie) + bpf_get_smp_processor_id() * EARSHOT_SOCK_SLOTS;
	slot = bpf_map_lookup_elem(&sock_slots, &idx);
	if (likely(slot && slot->owner_tgid && slot_holds(slot, sk, pf, cookie))) {
		slot->packets++;
		slot->bytes += len;
		if (unlikely(capture_state_word()))
			count_slot_window(slot, len);
		return NF_ACCEPT;
	}
	count_packet_slow(skb, pf, slot, sk, len);
	return NF_ACCEPT;
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

/* The packet's destination, from its headers (the packet starts at the IP
 * header here), read directly from the linear head where it holds them (a
 * helper call each would double the program's cost), else copied out;
 * false when they cannot be read. */
static __always_inline bool key_from_skb(struct __sk_buff *skb, __u64 cookie,
					 struct earshot_flow_key *key)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 l4off;
	__be16 port;

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
		__builtin_memcpy(key->daddr, &iph->daddr, 4);
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
		__builtin_memcpy(key->daddr, &ip6h->daddr, 16);
		l4off = sizeof(*ip6h);
	} else {
		return false;
	}
	if (key->protocol != EARSHOT_IPPROTO_TCP && key->protocol != EARSHOT_IPPROTO_UDP &&
	    key->protocol != EARSHOT_IPPROTO_UDPLITE)
		return true;
	if (l4off > 60)
		return true;
	if (data + l4off + 4 <= data_end) {
		key->dport = bpf_ntohs(*(__be16 *)(data + l4off + 2));
	} else if (!bpf_skb_load_bytes(skb, l4off + 2, &port, sizeof(port))) {
		key->dport = bpf_ntohs(port);
	}
	return true;
}

static __always_inline bool same_key(const struct earshot_flow_key *a,
				     const struct earshot_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Everything but a packet of a socket whose slot on this CPU is its own and
 * knows its owner. learn: the program may look at the current task (the
 * helper is not allowed in cgroup_skb programs on every kernel). */
static __noinline void count_skb_slow(struct __sk_buff *skb, struct earshot_sock_slot *slot,
				      const struct earshot_flow_key *key, __u32 len, bool learn)
{
	struct bpf_sock *bsk = skb->sk;
	const struct sock *sk = 0;
	bool has_socket = true;
	int window;

	if (key->protocol == EARSHOT_IPPROTO_TCP && bsk) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(bsk);

		if (tp) {
			sk = (const struct sock *)tp;
			has_socket = sk->sk_socket;
		}
	}
	if (key->cookie && slot && (same_key(&slot->key, key) || claim_slot(slot, key, has_socket))) {
		if (!slot->owner_tgid)
			learn_owner(learn ? sk : 0, key->protocol, key->cookie, &slot->owner_tgid);
		window = capture_window(&slot->owner_tgid, key->cookie);
		add_to_slot(slot, len, window);
		return;
	}
	count_key_in_flows(key, learn ? sk : 0, true, len);
}

static __always_inline void count_skb(struct __sk_buff *skb, bool learn)
{
	struct earshot_flow_key key = {};
	struct earshot_sock_slot *slot;
	__u32 len = skb->len;
	__u64 cookie;
	__u32 idx;

	if (!skb->sk) {
		count_no_socket(len);
		return;
	}
	cookie = bpf_get_socket_cookie(skb);
	if (!key_from_skb(skb, cookie, &key)) {
		count_key_in_flows(&key, 0, false, len);
		return;
	}
	idx = earshot_sock_slot_index(cookie) + bpf_get_smp_processor_id() * EARSHOT_SOCK_SLOTS;
	slot = bpf_map_lookup_elem(&sock_slots, &idx);
	if (likely(slot && slot->owner_tgid && same_key(&slot->key, &key))) {
		slot->packets++;
		slot->bytes += len;
		if (unlikely(capture_state_word()))
			count_slot_window(slot, len);
		return;
	}
	count_skb_slow(skb, slot, &key, len, learn);
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

/* Every inet socket, in the creating process's context. */
SEC("cgroup/sock_create")
int earshot_sock_create(struct bpf_sock *ctx)
{
	__u64 cookie;

	if (ctx->family != EARSHOT_AF_INET && ctx->family != EARSHOT_AF_INET6)
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	record_owner(cookie, bpf_get_current_pid_tgid() >> 32,
		     task_start_ns(bpf_get_current_task_btf()), BPF_ANY);
	return 1;
}

#define EARSHOT_MAX_SLOT_CPUS 256

enum slot_mark {
	SLOT_RELEASED,	   /* dead since now: a later socket may take it */
	SLOT_OFF_HOT_PATH, /* no cached owner: the next packet takes the slow path */
};

/* The socket's slots on every CPU: those at the index its cookie gives
 * (as in the netfilter hook) that it holds. Written from another CPU than
 * theirs: only fields their own CPU's hot path does not write. */
static __always_inline void mark_socket_slots(__u64 cookie, enum slot_mark mark)
{
	__u32 first = earshot_sock_slot_index(cookie);
	__u64 now = mark == SLOT_RELEASED ? bpf_ktime_get_ns() : 0;
	__u32 cpu;

	for (cpu = 0; cpu < EARSHOT_MAX_SLOT_CPUS; cpu++) {
		__u32 idx = first + cpu * EARSHOT_SOCK_SLOTS;
		struct earshot_sock_slot *slot = bpf_map_lookup_elem(&sock_slots, &idx);

		if (!slot)
			break;
		if (slot->key.cookie != cookie)
			continue;
		if (mark == SLOT_RELEASED)
			slot->dead_since_ns = now;
		else
			slot->owner_tgid = 0;
	}
}

/* A released socket sends nothing more from user space (TCP may still flush
 * its queue): mark its slots on every CPU so a later socket can take them
 * once the last counts were harvested. ctx is the socket. */
SEC("cgroup/sock_release")
int earshot_sock_release(struct bpf_sock *ctx)
{
	if (ctx->family != EARSHOT_AF_INET && ctx->family != EARSHOT_AF_INET6)
		return 1;
	mark_socket_slots(bpf_get_socket_cookie(ctx), SLOT_RELEASED);
	return 1;
}

/* A connected UDP socket sends past its connection: record it (see
 * sends_elsewhere) and clear the owner its slots cache on every CPU, which
 * sends its next packet on each CPU off the hot path into count_packet_slow,
 * where the record keeps it. (A packet of the socket that clears the slot
 * concurrently on another CPU, in the window between its slow path's check
 * and its learn_owner, can set the owner again; the socket's next such send
 * clears it once more.) */
static __noinline void mark_sends_elsewhere(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u8 yes = 1;

	bpf_map_update_elem(&sends_elsewhere, &cookie, &yes, BPF_ANY);
	mark_socket_slots(cookie, SLOT_OFF_HOT_PATH);
}

/* sendmsg() naming an address on a UDP socket (the only sends these hooks
 * see; unconnected sockets leave at once, their packets name their
 * destination anyway). Any difference from the connection counts, however
 * spelt: a false alarm costs only the slow path. Always allows the send. */
SEC("cgroup/sendmsg4")
int earshot_sendmsg4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (sk && sk->dst_port &&
	    (ctx->user_ip4 != sk->dst_ip4 || (__u16)ctx->user_port != sk->dst_port))
		mark_sends_elsewhere(ctx);
	return 1;
}

SEC("cgroup/sendmsg6")
int earshot_sendmsg6(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (sk && sk->dst_port &&
	    (ctx->user_ip6[0] != sk->dst_ip6[0] || ctx->user_ip6[1] != sk->dst_ip6[1] ||
	     ctx->user_ip6[2] != sk->dst_ip6[2] || ctx->user_ip6[3] != sk->dst_ip6[3] ||
	     (__u16)ctx->user_port != sk->dst_port))
		mark_sends_elsewhere(ctx);
	return 1;
}

/* Accepted sockets are clones, not created: give them a cookie when the
 * handshake completes, so the netfilter hook can read it from the socket. */
SEC("sockops")
int earshot_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op == EARSHOT_BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_get_socket_cookie(skops);
	return 1;
}

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

/* Run once at start-up, before earshot_iter_sockets: sockets that predate
 * earshot may never have been given a cookie (the kernel makes one the
 * first time something asks), and the netfilter hook can only read one.
 * Asking here, where the verifier trusts the socket, gives every TCP and
 * UDP socket of the namespace the iterator was made in its cookie. */
SEC("iter/tcp")
int earshot_iter_tcp_cookies(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (skc)
		bpf_get_socket_cookie(skc);
	return 0;
}

SEC("iter/udp")
int earshot_iter_udp_cookies(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;

	if (udp)
		bpf_get_socket_cookie(&udp->inet.sk);
	return 0;
}

#define EARSHOT_S_IFMT 00170000
#define EARSHOT_S_IFSOCK 0140000

/* Run once at start-up: owners of sockets that predate earshot. The socket
 * is reached through the file's private data and its cookie read from the
 * socket, never through helpers: kernels differ in whether the verifier
 * trusts a socket reached from a file (some refuse bpf_get_socket_cookie on
 * it), and bpf_sock_from_file is 5.11+. A socket without a cookie yet (the
 * cookie iterators did not run) is left for the netfilter hook. */
SEC("iter/task_file")
int earshot_iter_sockets(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct socket *sock;
	struct sock *sk;
	__u16 family;
	__u64 cookie;

	if (!task || !file)
		return 0;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & EARSHOT_S_IFMT) != EARSHOT_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != EARSHOT_AF_INET && family != EARSHOT_AF_INET6)
		return 0;
	cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie)
		return 0;
	/* The first process seen holding a shared socket keeps it. */
	record_owner(cookie, task->tgid, task_start_ns(task), BPF_NOEXIST);
	return 0;
}
