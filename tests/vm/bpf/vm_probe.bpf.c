// SPDX-License-Identifier: GPL-2.0
// The smallest proof that the guest kernel takes the hooks earshot's kernel
// tiers need: fentry on a module function (snd_pcm, through its module BTF)
// and BPF LSM file_open. Each counts its calls so the check can see it fire.
// vmlinux.h must come before the libbpf headers.
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

__u64 capture_opens = 0;
__u64 file_opens = 0;

SEC("fentry/snd_pcm_capture_open")
int BPF_PROG(probe_capture_open, struct inode* inode, struct file* file) {
  __sync_fetch_and_add(&capture_opens, 1);
  return 0;
}

SEC("lsm/file_open")
int BPF_PROG(probe_file_open, struct file* file) {
  __sync_fetch_and_add(&file_opens, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
