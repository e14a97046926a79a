// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The definitions of shared_maps.bpf.h: linked into every object. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "shared_maps.bpf.h"

struct earshot_capture_state capture_state SEC(".data.capture");
capture_procs_map capture_procs SEC(".maps");
tracked_tgids_map tracked_tgids SEC(".maps");
events_map events SEC(".maps");
lost_map lost SEC(".maps");
