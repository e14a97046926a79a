/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * earshot kernel/user ABI: every struct, enum and constant the BPF programs
 * share with the collector. Fixed-width types only; userspace checks the
 * layout with static_asserts (userspace/kernel/abi.h).
 */
#ifndef EARSHOT_H
#define EARSHOT_H

#define EARSHOT_COMM_LEN 16
#define EARSHOT_PCM_NAME_LEN 32

#define EARSHOT_MAX_SOCKETS 65536 /* owner records (LRU) */
#define EARSHOT_MAX_FLOWS 16384 /* per-socket, per-destination counters (LRU) */
#define EARSHOT_SOCK_SLOT_BITS 12
#define EARSHOT_SOCK_SLOTS (1 << EARSHOT_SOCK_SLOT_BITS) /* connected sockets' counters, per CPU */
#define EARSHOT_MAX_ELSEWHERE_SOCKS 4096 /* connected UDP sockets that sendto() elsewhere (LRU) */
#define EARSHOT_MAX_WATCHED_DEVICES 256
#define EARSHOT_MAX_CAPTURE_HANDLES 4096
#define EARSHOT_MAX_CAPTURE_PROCS 1024
#define EARSHOT_RINGBUF_BYTES (256 * 1024)

/* Where a packet left relative to live captures (earshot_egress_capture_bytes_total{window}). */
enum earshot_window {
	EARSHOT_WINDOW_SELF = 0,  /* its sender is capturing */
	EARSHOT_WINDOW_OTHER = 1, /* another process is capturing */
	EARSHOT_WINDOW_GRACE = 2, /* within correlation.grace after the last capture ended */
	EARSHOT_WINDOW_COUNT = 3,
};

/* Slots of the never-evicted totals map. Every packet the hooks see is
 * counted exactly once in ALL, in a claimed sock_slots entry, or (once that
 * entry is reclaimed) in SLOT_RETIRED: their sum is the ground truth. A
 * socket slot is not added to ALL per packet, since that second per-CPU
 * update was a quarter of the netfilter program's own cost. */
enum earshot_total_slot {
	EARSHOT_TOTAL_ALL = 0,          /* packets not counted in a socket slot */
	EARSHOT_TOTAL_NO_SOCKET = 1,    /* packets without a socket (kernel-made) */
	EARSHOT_TOTAL_FLOW_FULL = 2,    /* flow map refused a new entry */
	EARSHOT_TOTAL_SLOT_RETIRED = 3, /* counts of socket slots taken over by another socket */
	EARSHOT_TOTAL_INGRESS_UNMATCHED = 4, /* received packets no slot or flow of theirs took
					      * (no socket at LOCAL_IN, a socket that sent nothing
					      * yet): their ingress counters only */
	EARSHOT_TOTAL_SLOTS = 5,
};

/* A sent packet with 1..EARSHOT_ACK_SIZED_PAYLOAD bytes of payload is
 * "ack-sized": what a QUIC (or other datagram transport's) acknowledgement
 * carries, a few dozen bytes. Counted apart, with what the flow received,
 * so userspace can tell the acknowledgements of a download (as many as the
 * packets that came back, all small) from an upload (voice frames are
 * larger: an Opus frame and its framing are 60 bytes and more). */
#define EARSHOT_ACK_SIZED_PAYLOAD 64

/* The detection tier an audio event came from (docs/architecture.md, "Tier ladders"). */
enum earshot_tier {
	EARSHOT_TIER_FENTRY = 1,
	EARSHOT_TIER_LSM = 2,
	EARSHOT_TIER_SYSCALL = 3,
	EARSHOT_TIER_LIBASOUND = 4,
	EARSHOT_TIER_PROCFS = 5,
	EARSHOT_TIER_LIBPULSE = 6,    /* a PulseAudio client (pulseaudio or pipewire-pulse serves it) */
	EARSHOT_TIER_LIBPIPEWIRE = 7, /* a PipeWire client */
};

/* Why something could not be reported (earshot_events_lost_total{reason}). */
enum earshot_lost_reason {
	EARSHOT_LOST_RINGBUF_FULL = 0,   /* event dropped: ring buffer full */
	EARSHOT_LOST_HANDLE_TABLE = 1,   /* capture handle table full */
	EARSHOT_LOST_OWNER_TABLE = 2,    /* socket owner could not be recorded */
	EARSHOT_LOST_DNS_RINGBUF_FULL = 3, /* DNS answer dropped: its ring buffer full */
	EARSHOT_LOST_REASONS = 4,
};

enum earshot_event_kind {
	EARSHOT_EVENT_CAPTURE_OPEN = 1,
	EARSHOT_EVENT_CAPTURE_CLOSE = 2,
	EARSHOT_EVENT_PROCESS_EXIT = 3, /* a process that owned sockets or captures exited */
};

/* Kernel dev_t encoding (MKDEV), as in inode->i_rdev. */
#define EARSHOT_MINORBITS 20
#define EARSHOT_MKDEV(ma, mi) (((__u32)(ma) << EARSHOT_MINORBITS) | (__u32)(mi))

/* sock_owner: socket cookie -> the process that created or accepted it. */
struct earshot_owner {
	__u32 tgid;
	__u32 reserved;
	__u64 start_ns; /* process start (boot time ns); tells a reused pid apart; 0 if unknown */
};

/* flows key: one socket and one destination. Connected sockets take the
 * destination from the socket, unconnected ones from the packet. */
struct earshot_flow_key {
	__u64 cookie;     /* socket cookie; owner is found in sock_owner by userspace */
	__u8 daddr[16];   /* IPv4 in the first 4 bytes */
	__u16 dport;      /* host byte order; 0 when not TCP/UDP */
	__u8 family;      /* AF_INET or AF_INET6 */
	__u8 protocol;    /* IPPROTO_* */
	__u32 reserved;
};

/* totals value (per CPU). */
struct earshot_counters {
	__u64 packets;
	__u64 bytes;         /* skb->len at LOCAL_OUT: payload plus IP and transport headers */
	__u64 payload_bytes; /* what TCP or UDP carried: bytes less the IP and TCP or UDP
			      * headers; 0 for other protocols (counting.bpf.h) */
	__u64 window_bytes[EARSHOT_WINDOW_COUNT];
	__u64 ack_sized_packets; /* sent with 1..EARSHOT_ACK_SIZED_PAYLOAD bytes of payload */
	__u64 ack_sized_payload; /* their payload */
	__u64 ingress_packets;   /* received from the flow's destination (LOCAL_IN, cgroup ingress) */
	__u64 ingress_payload;   /* what TCP or UDP carried in them */
};

/* flows value (per CPU). owner_tgid caches the socket's owner tgid in this
 * CPU's copy, so later packets need no owner lookup: 0 not known yet,
 * EARSHOT_OWNER_NONE for a socket no process owns (a kernel socket). */
#define EARSHOT_OWNER_NONE 0xffffffffU
struct earshot_flow_value {
	struct earshot_counters counters;
	__u32 owner_tgid;
	__u32 reserved;
};

/* sock_slots value (one per CPU): the counters of one connected socket, at
 * an index hashed from the socket's cookie (earshot_sock_slot_index), so a
 * packet finds its slot without a hash-map lookup; the key's cookie then
 * says whether the slot is the socket's. 128 bytes in a page-aligned array
 * (BPF_F_MMAPABLE): the first cache line is all a packet reads and writes
 * outside captures. The second holds the window bytes (written only while a
 * capture is live or in grace) and dead_since_ns, which sock_release writes
 * from any CPU and a packet reads only when the slot's key is not its own.
 * cookie == 0: never claimed. A slot keeps its socket until another one
 * needing the index finds it dead for longer than net_config.slot_reclaim_ns;
 * then its counts move to totals[EARSHOT_TOTAL_SLOT_RETIRED] and restart from
 * zero under the new cookie. */
struct earshot_sock_slot {
	/* The flow key's fields (struct earshot_flow_key, less its reserved
	 * word, which holds ack_sized_payload here). */
	__u64 cookie;
	__u8 daddr[16];
	__u16 dport;
	__u8 family;
	__u8 protocol;
	__u32 ack_sized_payload; /* 32 bits, wraps: userspace takes differences mod 2^32 */
	__u64 packets;
	__u64 bytes;         /* as earshot_counters.bytes */
	__u64 payload_bytes; /* as earshot_counters.payload_bytes */
	__u32 owner_tgid;    /* cached like earshot_flow_value.owner_tgid */
	__u32 ack_sized_packets; /* 32 bits, wraps, as ack_sized_payload */
	/* Second cache line. */
	__u64 window_bytes[EARSHOT_WINDOW_COUNT];
	__u64 dead_since_ns; /* set by sock_release (bpf_ktime_get_ns); 0 while alive */
	/* What the socket received (netfilter LOCAL_IN, cgroup_skb ingress): a
	 * received packet writes only this line. */
	__u64 ingress_packets;
	__u64 ingress_payload;
	__u64 reserved2[2];
};

/* A socket's slot index, from its cookie. A cookie is never reused, so a new
 * socket does not inherit the index of one that just died; the socket's
 * address would (the slab hands the freed memory to the next socket), and
 * the new socket would find its slot held until the dead one's last counts
 * were read, two harvests, and take the slow path meanwhile. Cookies come
 * in runs: mix the bits (Fibonacci hashing). */
#define earshot_sock_slot_index(cookie) \
	((__u32)(((__u64)(cookie) * 0x9E3779B97F4A7C15ULL) >> (64 - EARSHOT_SOCK_SLOT_BITS)))

/* net_config: the single entry of an array userspace writes; read by the
 * netfilter hook only when a slot is taken by another socket. */
struct earshot_net_config {
	__u64 slot_reclaim_ns; /* 2 harvest intervals: a dead slot's last counts were read */
};

/* capture_procs: per process, live capture handles (read by the netfilter hook). */
struct earshot_capture_proc {
	__u32 open_handles;
	__u32 reserved;
	__u64 last_frame_ns;
};

/* capture_handles key: one open capture, as one tier sees it. */
struct earshot_handle_key {
	__u32 tgid;
	__u32 tier;
	__u64 handle; /* fd (syscall tier), snd_pcm_t * (libasound tier), struct file * (kernel
		       * tiers), pa_stream * (libpulse tier), struct pw_stream * (libpipewire tier) */
};

struct earshot_handle {
	__u64 open_ns;
	__u64 frames;        /* frames captured; for a node that is not a PCM, bytes read */
	__u64 bytes;         /* bytes of audio delivered */
	__u64 last_frame_ns; /* when frames last grew; 0 if never */
	__u32 dev;           /* kernel dev_t of the node; 0 when the tier cannot see it */
	__u32 flags;         /* EARSHOT_HANDLE_* */
};

#define EARSHOT_HANDLE_PCM 1 /* a real PCM: frames are frames, not bytes */
#define EARSHOT_HANDLE_VIDEO 2 /* a camera: frames are buffers dequeued (or reads) */

/* watched_devices value: what kind of capture device a node is. */
enum earshot_device_kind {
	EARSHOT_DEVICE_MICROPHONE = 1,
	EARSHOT_DEVICE_CAMERA = 2,
};

/* V4L2 (uapi linux/videodev2.h, 64-bit layout; userspace/kernel/abi.h
 * checks these against the header): VIDIOC_DQBUF =
 * _IOWR('V', 17, struct v4l2_buffer), and where struct v4l2_buffer keeps
 * what a dequeued buffer carried. */
#define EARSHOT_V4L2_MAJOR 81
#define EARSHOT_VIDIOC_DQBUF 0xc0585611U
#define EARSHOT_V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE 9
#define EARSHOT_V4L2_BUFFER_TYPE_OFF 4
#define EARSHOT_V4L2_BUFFER_BYTESUSED_OFF 8
#define EARSHOT_V4L2_BUFFER_PLANES_OFF 64 /* m.planes */
#define EARSHOT_V4L2_BUFFER_LENGTH_OFF 72 /* planes in m.planes */
#define EARSHOT_V4L2_PLANE_SIZE 64
#define EARSHOT_V4L2_MAX_PLANES 8

/* Ring buffer record: capture opens and closes, and process exits. Rare
 * events only; nothing per packet goes through here. */
struct earshot_event {
	__u64 ts_ns;     /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 start_ns;  /* process start (boot time ns) */
	__u64 handle;
	__u32 kind;      /* enum earshot_event_kind */
	__u32 tier;      /* enum earshot_tier */
	__u32 tgid;
	__u32 tid;
	__u32 dev;
	__u32 reserved;
	char comm[EARSHOT_COMM_LEN];
	char pcm_name[EARSHOT_PCM_NAME_LEN];
	/* On a close: the handle's final count, which a harvest may not have
	 * read before the close removed the handle. */
	__u64 frames;
	__u64 bytes;
};

/* A DNS answer the device received (UDP source port 53), for passive naming
 * of destinations. Only DNS goes through this ring, never other packets. */
#define EARSHOT_DNS_PAYLOAD_MAX 512
#define EARSHOT_DNS_RINGBUF_BYTES (64 * 1024)

struct earshot_dns_event {
	__u32 len;      /* bytes of payload captured (<= EARSHOT_DNS_PAYLOAD_MAX) */
	__u32 reserved;
	__u8 payload[EARSHOT_DNS_PAYLOAD_MAX];
};

/* Correlation state: the global capture_state (shared_maps.bpf.h), the
 * one value of each object's .data.capture map, all of them net's. The
 * netfilter hot path reads the first two fields as one 8-byte word: keep
 * them first. */
struct earshot_capture_state {
	__u32 live_procs;     /* processes with at least one open capture */
	__u32 grace_armed;    /* 1 from the last capture end until the grace period is over */
	__u64 last_end_ns;
	__u64 grace_ns;       /* correlation.grace, set by userspace */
};

/* Gateway mode: bytes LAN devices send through this machine, per device
 * (source MAC on the LAN side) and destination, counted at netfilter
 * FORWARD (6.4+) or tc ingress of the LAN interfaces (gateway.bpf.c). */
#define EARSHOT_MAX_DEVICE_FLOWS 16384 /* (device, destination) pairs; full: counted, not evicted */
#define EARSHOT_MAX_LAN_INTERFACES 64

/* device_flows key: one device and one destination. */
struct earshot_device_flow_key {
	__u8 mac[6];    /* source MAC as the LAN side saw it; zero on a LAN without one */
	__u8 family;    /* AF_INET or AF_INET6 */
	__u8 reserved;
	__u8 daddr[16]; /* IPv4 in the first 4 bytes */
};

/* device_flows value (per CPU). Bytes are the IP packet length, as nft
 * counts it in a forward chain; payload is what TCP or UDP carried (the IP
 * length less the IP header, and TCP's doff * 4 or UDP's 8), 0 for other
 * protocols. */
struct earshot_device_counters {
	__u64 packets;
	__u64 bytes;
	__u64 payload_bytes;
	__u64 ack_sized_packets; /* sent with 1..EARSHOT_ACK_SIZED_PAYLOAD bytes of payload */
	__u64 ack_sized_payload;
	__u64 ingress_packets;   /* forwarded to the device from the destination */
	__u64 ingress_payload;
};

/* Slots of gateway_totals (per CPU, never evicted). */
enum earshot_gateway_total_slot {
	EARSHOT_GATEWAY_FLOW_FULL = 0, /* device_flows refused a new pair: counted only here */
	EARSHOT_GATEWAY_INGRESS_UNMATCHED = 1, /* forwarded to a LAN device, no pair of its own:
						* ingress counters only */
	EARSHOT_GATEWAY_TOTAL_SLOTS = 2,
};

#endif /* EARSHOT_H */
