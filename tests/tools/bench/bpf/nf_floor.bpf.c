// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The measurement floor of scripts/bench.sh: a netfilter program that reads
 * the packet length, as earshot's does first, and accepts. With
 * kernel.bpf_stats_enabled its mean run time is what the hook call and the
 * statistics themselves cost on this machine, so earshot's own figure can be
 * read against it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("netfilter")
int earshot_nf_floor(struct bpf_nf_ctx *ctx)
{
	__u32 len = ctx->skb->len;

	/* keep the read: the compiler may not drop it */
	asm volatile("" : : "r"(len));
	return 1; /* NF_ACCEPT */
}
