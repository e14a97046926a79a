// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owners of accepted sockets, where the kernel has BTF trampolines: fexit on
 * inet_accept runs in the accepting process once per accepted connection
 * (TCP over IPv4 and IPv6) and costs other system calls nothing. Where it
 * does not load, the counting hooks learn the owner from the first packet
 * the socket sends in a task's context (learn_owner, counting.bpf.h); this
 * hook also names the owner of a connection that never sends from one.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "owner.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Only the two arguments whose types never changed: the others became a
 * struct proto_accept_arg * in 6.10. A failed accept leaves newsock->sk NULL. */
SEC("fexit/inet_accept")
int BPF_PROG(earshot_fexit_inet_accept, struct socket *sock, struct socket *newsock)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock *sk = newsock->sk;

	if (!sk)
		return 0;
	record_owner(bpf_get_socket_cookie(sk), task->tgid, task_start_ns(task), BPF_ANY);
	return 0;
}
