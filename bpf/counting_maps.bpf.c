// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The definitions of counting_maps.bpf.h: linked into net. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "counting_maps.bpf.h"

flows_map flows SEC(".maps");
sock_slots_map sock_slots SEC(".maps");
sends_elsewhere_map sends_elsewhere SEC(".maps");
net_config_map net_config SEC(".maps");
totals_map totals SEC(".maps");
