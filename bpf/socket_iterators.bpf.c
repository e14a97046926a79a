// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sockets that predate earshot, run once at start-up: the socket iterators
 * give them cookies, the task_file iterator names their owners.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "net_constants.bpf.h"
#include "owner.bpf.h"

#define EARSHOT_S_IFMT 00170000
#define EARSHOT_S_IFSOCK 0140000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
