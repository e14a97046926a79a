// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The definition of owner.bpf.h's table: linked into net and accept. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "owner.bpf.h"

sock_owner_map sock_owner SEC(".maps");
