// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The definitions of capture.bpf.h's maps: linked into both capture objects. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "capture.bpf.h"

watched_devices_map watched_devices SEC(".maps");
capture_handles_map capture_handles SEC(".maps");
