// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the counting hooks need to know of each socket, from the cgroup
 * socket hooks: its owner at creation, a cookie once an accepted socket is
 * established, sends past its connection, and its release.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "counting_maps.bpf.h"
#include "net_constants.bpf.h"
#include "owner.bpf.h"

#define EARSHOT_BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB 5

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
		if (slot->cookie != cookie)
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
