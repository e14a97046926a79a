/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The counters of the net object: what the counting hooks write and the
 * socket hooks mark. Declared here, defined once in counting_maps.bpf.c.
 */
#ifndef EARSHOT_COUNTING_MAPS_BPF_H
#define EARSHOT_COUNTING_MAPS_BPF_H

#include "earshot.h"

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, EARSHOT_MAX_FLOWS);
	__type(key, struct earshot_flow_key);
	__type(value, struct earshot_flow_value);
} flows_map;
extern flows_map flows SEC(".maps");

/* Connected sockets: one slot per socket and CPU, an inlined array lookup
 * instead of a hash on the common path. Per-CPU by layout: CPU c's slots are
 * entries [c * EARSHOT_SOCK_SLOTS, (c + 1) * EARSHOT_SOCK_SLOTS), the loader
 * sizes the array for the possible CPUs. Not a PERCPU_ARRAY: its lookup
 * loads the element's per-CPU pointer first, one more dependent load (and a
 * cache miss, in perf samples) per packet; here the address is computed.
 * Mmapable only for its page-aligned values: a slot's first 64 bytes are
 * then one cache line. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, EARSHOT_SOCK_SLOTS); /* times the possible CPUs, at load */
	__type(key, __u32);
	__type(value, struct earshot_sock_slot);
} sock_slots_map;
extern sock_slots_map sock_slots SEC(".maps");

/* Connected UDP sockets that sent a datagram to another address: sendto()
 * with an address on a connected UDP socket sends there, past the
 * connection. The sendmsg hooks record them; their packets are then counted
 * by the destination in the packet (the flows map), never the socket's, so
 * no upload hides behind a connection to a harmless host. LRU: a socket
 * evicted here is recorded again at its next such send. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EARSHOT_MAX_ELSEWHERE_SOCKS);
	__type(key, __u64);
	__type(value, __u8);
} sends_elsewhere_map;
extern sends_elsewhere_map sends_elsewhere SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct earshot_net_config);
} net_config_map;
extern net_config_map net_config SEC(".maps");

/* Never evicted: totals[ALL] + totals[SLOT_RETIRED] + sum(sock_slots) is
 * every packet seen, so what sum(flows, sock_slots) + unattributed misses
 * (evictions) is a number. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EARSHOT_TOTAL_SLOTS);
	__type(key, __u32);
	__type(value, struct earshot_counters);
} totals_map;
extern totals_map totals SEC(".maps");

#endif /* EARSHOT_COUNTING_MAPS_BPF_H */
