#!/usr/bin/env bash
# What earshot costs: alternating monitored / unmonitored rounds over a veth
# pair between two network namespaces this script creates, then the BPF
# programs' own time, the daemon's memory and CPU, and two latencies.
# Prints a table of medians (min, max) against the speed and memory targets.
#
# Usage (as root): scripts/bench.sh [--build-dir DIR] [--pairs N] [--seconds S]
#                                   [--udp-samples K] [--tcp-samples K]
#   --build-dir    where earshot and earshot-bench were built (default build/default)
#   --pairs        monitored/unmonitored round pairs (default 5, at least 5)
#   --seconds      length of each TCP and UDP measurement (default 3)
#   --udp-samples  UDP measurements a round, averaged (default 4): single ones
#                  vary by +-15 % on a VM, more than the cost to be seen
#   --tcp-samples  TCP measurements a round, averaged (default 3)
#   --slices       1 s UDP floods and 1 s TCP transfers a round from A and
#                  from C, alternating (default 6 each; see below)
# Each pair is a floor round (a near-empty netfilter program and no daemon:
# what the hook itself costs), a monitored round (the default capture
# config: on a machine without ALSA capture nodes, no microphone), a
# microphone round (a stand-in microphone watched through
# capture.extra_devices, so the syscall capture tier is attached, as on a
# speaker whose kernel has no kernel-level capture tier) and an unmonitored
# one. The floor and microphone rounds take the same steps as the others up
# to the paired UDP figure (getppid(), TCP, UDP, A/C) and stop there.
# Ratios compare each monitored round with the unmonitored rounds on both
# sides of it, so a drift over the run cancels. B stands for
# the far end, which earshot does not monitor; each round also floods the
# other way, into A, where earshot reads DNS answers on every packet. And
# each monitored and unmonitored round floods from A and from C, a second
# pair (C -> D) earshot never monitors, 1 s each in turn: A's rate over C's
# a second apart, where the host's drift between rounds (often more than
# the cost to be seen) cancels; that ratio, monitored over unmonitored
# rounds, is the UDP cost with less noise; the same with 1 s TCP transfers
# (iperf3) for TCP. One flood a round sends with sendto() from an
# unconnected socket: each such send runs earshot's cgroup sendmsg hook,
# which every namespace's sockets pay, so it is not paired with C.
# Builds nothing: build first with
#   cmake --preset default && cmake --build --preset default
# Takes about 23 minutes with the defaults (36 with --pairs 8). Everything
# it creates (namespaces, daemon, temp dir, kernel.bpf_stats_enabled) is
# undone on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build/default"
pairs=5
seconds=3
udp_samples=4
tcp_samples=3
slices=6
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --udp-samples) udp_samples=$2; shift 2 ;;
    --tcp-samples) tcp_samples=$2; shift 2 ;;
    --slices) slices=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench.sh: $*" >&2; exit 1; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, BPF, sysctl)"
((pairs >= 5)) || die "--pairs must be at least 5"
((udp_samples >= 1)) || die "--udp-samples must be at least 1"
((tcp_samples >= 1)) || die "--tcp-samples must be at least 1"
((slices >= 1)) || die "--slices must be at least 1"
earshot="$build_dir/userspace/app/earshot"
bench="$build_dir/tests/tools/bench/earshot-bench"
for binary in "$earshot" "$bench"; do
  [[ -x $binary ]] || die "$binary is missing; build it with:
  cmake --preset default && cmake --build --preset default
(or pass --build-dir DIR of another build)"
done
for tool in iperf3 curl ip nsenter mknod taskset; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh installs it)"
done

# --- setup and cleanup ------------------------------------------------------

prefix="esb$$"
ns_a="${prefix}a" # the sender: counted by earshot in monitored rounds
ns_b="${prefix}b" # the receiver
addr_a=10.77.0.1
addr_b=10.77.0.2
ns_c="${prefix}c" # a second sender, never monitored
ns_d="${prefix}d"
addr_c=10.77.1.1
addr_d=10.77.1.2
tcp_port=5201
udp_port=9000
work=$(mktemp -d /tmp/earshot-bench.XXXXXX)
stats_sysctl=/proc/sys/kernel/bpf_stats_enabled
stats_before=$(cat "$stats_sysctl")
daemon_pid=""
iperf_pid=""
iperf_d_pid=""
floor_pid=""

# shellcheck disable=SC2317 # called by the trap
cleanup() {
  set +e
  [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  [[ -n $iperf_pid ]] && kill "$iperf_pid" 2>/dev/null && wait "$iperf_pid" 2>/dev/null
  [[ -n $iperf_d_pid ]] && kill "$iperf_d_pid" 2>/dev/null && wait "$iperf_d_pid" 2>/dev/null
  [[ -n $floor_pid ]] && kill "$floor_pid" 2>/dev/null && wait "$floor_pid" 2>/dev/null
  echo "$stats_before" >"$stats_sysctl"
  for ns in "$ns_a" "$ns_b" "$ns_c" "$ns_d"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Load generators get a higher priority so that other work on the machine
# disturbs them less, and fixed CPUs (senders on the last, receivers on the
# first) so that rounds do not differ by where the scheduler put them; the
# daemon keeps the default priority and any CPU, as it would in use.
send_cpu=$(($(nproc) - 1))
receive_cpu=0
in_ns_fast() { # in_ns_fast NS CPU COMMAND...
  local ns=$1 cpu=$2
  shift 2
  nsenter --net="/var/run/netns/$ns" taskset -c "$cpu" nice -n -10 "$@"
}

veth_pair() { # veth_pair <ns> <address> <peer ns> <peer address>
  ip netns add "$1"
  ip netns add "$3"
  ip link add "${1}v" netns "$1" type veth peer name "${3}v" netns "$3"
  ip -n "$1" addr add "$2/24" dev "${1}v"
  ip -n "$3" addr add "$4/24" dev "${3}v"
  for ns in "$1" "$3"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "${ns}v" up
  done
}
veth_pair "$ns_a" "$addr_a" "$ns_b" "$addr_b"
veth_pair "$ns_c" "$addr_c" "$ns_d" "$addr_d"

# A stand-in microphone: /dev/full's numbers (1:7) open here, ALSA's (116) do not.
mknod "$work/mic" c 1 7
harvest_ms=1000
cat >"$work/earshot.yaml" <<EOF
harvest: {interval: ${harvest_ms}ms}
network: {namespaces: [/var/run/netns/$ns_a]}
events: {file: $work/events.jsonl}
EOF
cat "$work/earshot.yaml" - >"$work/earshot-mic.yaml" <<EOF
capture: {sysfs: false, extra_devices: [$work/mic]}
EOF
# The counting tier of kernels before 6.4, forced here (bpf_stats round only).
cat "$work/earshot.yaml" - >"$work/earshot-cgroup.yaml" <<EOF
kernel: {disabled_hooks: [netfilter_ipv4, netfilter_ipv6]}
EOF

# Started with nsenter itself (it and taskset exec), so $! is iperf3 and the
# cleanup's kill reaches it; a backgrounded shell function would be a
# subshell, and iperf3 would outlive the run.
nsenter --net="/var/run/netns/$ns_b" taskset -c "$receive_cpu" \
  iperf3 -s -p "$tcp_port" >"$work/iperf-server.log" 2>&1 &
iperf_pid=$!
nsenter --net="/var/run/netns/$ns_d" taskset -c "$receive_cpu" \
  iperf3 -s -p "$tcp_port" >"$work/iperf-server-d.log" 2>&1 &
iperf_d_pid=$!

metrics_port=""
start_daemon() { # start_daemon <config file>
  : >"$work/daemon.log"
  "$earshot" --config.file "$1" --web.listen-address 127.0.0.1:0 \
    --log.format json >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  local address=""
  for _ in $(seq 150); do
    address=$(sed -n 's/.*"msg":"listening","address":"\([^"]*\)".*/\1/p' "$work/daemon.log")
    [[ -n $address ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || die "earshot exited: $(cat "$work/daemon.log")"
    sleep 0.1
  done
  [[ -n $address ]] || die "earshot did not log \"listening\" within 15 s"
  metrics_port=${address##*:}
}
stop_daemon() {
  kill "$daemon_pid"
  wait "$daemon_pid" || true
  daemon_pid=""
}

# --- measurements --------------------------------------------------------

# Every sample goes to samples.txt as "figure value".
record() { echo "$1 $2" >>"$work/samples.txt"; }

# ns on a CPU of all the daemon's threads (schedstat: ns, where utime+stime
# in /proc/PID/stat counts 10 ms ticks, too coarse for a 2% target).
cpu_ns() { cat /proc/"$daemon_pid"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status"; }
now_ns() { date +%s%N; }
# Percent of one core used by the daemon between two (cpu ns, wall ns) readings.
cpu_percent() { awk -v c0="$1" -v c1="$2" -v w0="$3" -v w1="$4" \
  'BEGIN {d = c1 - c0; if (d < 0) d = 0; printf "%.3f", 100 * d / (w1 - w0)}'; }

tcp_mbps_from() { # tcp_mbps_from <ns> <to address> <seconds>: Mbit/s received
  in_ns_fast "$1" "$send_cpu" iperf3 -c "$2" -p "$tcp_port" -t "$3" -f k |
    awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i + 1) == "Kbits/sec") printf "%.0f", $i / 1000}'
}
tcp_mbps() { tcp_mbps_from "$ns_a" "$addr_b" "$seconds"; }

udp_flood() { # udp_flood <from ns> <to ns> <to address> <seconds> [flood options]: packets/s
  local from=$1 to=$2 address=$3 length=$4
  shift 4
  in_ns_fast "$to" "$receive_cpu" "$bench" udp-sink "$udp_port" --seconds $((length + 5)) >"$work/sink.out" &
  local sink=$!
  for _ in $(seq 50); do grep -q ready "$work/sink.out" && break; sleep 0.05; done
  in_ns_fast "$from" "$send_cpu" "$bench" udp-flood "$address" "$udp_port" --seconds "$length" --size 64 "$@" \
    >"$work/flood.out"
  wait "$sink" || true
  sed -n 's/.*pps=\([0-9]*\).*/\1/p' "$work/flood.out"
}

udp_pps() { # udp_pps [flood options]: packets/s the sender reached
  udp_flood "$ns_a" "$ns_b" "$addr_b" "$seconds" "$@"
  log "    udp $(cat "$work/flood.out") $(tail -1 "$work/sink.out")"
}

udp_mean() { for _ in $(seq "$udp_samples"); do udp_pps; done | awk '{s += $1} END {printf "%.0f", s / NR}'; }

# The other way: B floods the monitored namespace, where every packet runs
# earshot's DNS program at tcx ingress (on the sending CPU: veth delivers in
# its softirq). The receiving cost a speaker pays; half the samples.
udp_pps_into_a() {
  udp_flood "$ns_b" "$ns_a" "$addr_a" "$seconds"
  log "    udp into A $(cat "$work/flood.out") $(tail -1 "$work/sink.out")"
}
udp_into_a_mean() {
  for _ in $(seq $(((udp_samples + 1) / 2))); do udp_pps_into_a; done | awk '{s += $1} END {printf "%.0f", s / NR}'
}

median_of_lines() { sort -g | awk '{v[NR] = $1} END {printf "%.4f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# A's UDP rate over C's (never monitored), 1 s floods in turn: the median of
# the slices' ratios.
udp_a_over_c() {
  local a c
  for _ in $(seq "$slices"); do
    a=$(udp_flood "$ns_a" "$ns_b" "$addr_b" 1)
    c=$(udp_flood "$ns_c" "$ns_d" "$addr_d" 1)
    awk -v a="$a" -v c="$c" 'BEGIN {if (c > 0) printf "%.4f\n", a / c}'
  done | median_of_lines
}

# The same for TCP: 1 s iperf3 transfers from A and from C in turn.
tcp_a_over_c() {
  local a c
  for _ in $(seq "$slices"); do
    a=$(tcp_mbps_from "$ns_a" "$addr_b" 1)
    c=$(tcp_mbps_from "$ns_c" "$addr_d" 1)
    awk -v a="$a" -v c="$c" 'BEGIN {if (c > 0) printf "%.4f\n", a / c}'
  done | median_of_lines
}

# nf-floor holds a near-empty netfilter program at LOCAL_OUT of the sender's
# namespace until SIGTERM. With nsenter itself, as for iperf3 above, so the
# signal reaches the tool.
start_floor() {
  nsenter --net="/var/run/netns/$ns_a" "$bench" nf-floor --seconds 120 >"$work/floor.out" 2>&1 &
  floor_pid=$!
  for _ in $(seq 50); do grep -q ready "$work/floor.out" && break; sleep 0.05; done
}
stop_floor() {
  kill -TERM "$floor_pid" 2>/dev/null || true
  wait "$floor_pid" || log "nf-floor failed: $(cat "$work/floor.out")"
  floor_pid=""
}

# The median of three 2M-call runs of getppid(): every system call of every
# process pays for syscall tracepoints being on (entry and exit go the slow
# way).
null_syscall_ns() {
  for _ in 1 2 3; do taskset -c "$send_cpu" nice -n -10 "$bench" null-syscalls; done |
    sed -n 's/^ns_per_call=//p' | sort -g | sed -n 2p
}

# Every kind of round takes the same steps and pauses up to the paired UDP
# figure, so that nothing but what is attached differs between them (when
# the floor and microphone rounds skipped TCP, the near-empty program alone
# measured 0.92 of the unmonitored rate, far more than its 56 ns of a
# 3.4 us packet). The floor round: nothing of earshot but a
# netfilter program, the part of the loss any program at the hook would
# cause. The microphone round: the syscall capture tier's cost on top.
round() { # round <floor|monitored|microphone|unmonitored> <pair number>
  local kind=$1 pair=$2 tcp tcp_paired udp udp_in paired sendto batch syscall_ns c0 w0 c1 w1
  case $kind in
    floor) start_floor ;;
    monitored) start_daemon "$work/earshot.yaml" ;;
    microphone) start_daemon "$work/earshot-mic.yaml" ;;
  esac
  sleep 1 # past start-up, and past the previous round's exit
  if [[ $kind == monitored ]]; then c0=$(cpu_ns) w0=$(now_ns); fi
  sleep 4
  if [[ $kind == monitored ]]; then
    c1=$(cpu_ns) w1=$(now_ns)
    record cpu_idle_percent "$(cpu_percent "$c0" "$c1" "$w0" "$w1")"
    record rss_idle_mib "$(rss_mib)"
  fi
  syscall_ns=$(null_syscall_ns)
  tcp=$(for _ in $(seq "$tcp_samples"); do tcp_mbps; echo; done | awk 'NF {s += $1; n++} END {printf "%.0f", n ? s / n : 0}')
  udp=$(udp_mean)
  local full=false extra=""
  [[ $kind == monitored || $kind == unmonitored ]] && full=true
  $full && udp_in=$(udp_into_a_mean)
  paired=$(udp_a_over_c)
  if $full; then
    tcp_paired=$(tcp_a_over_c)
    # sendto() naming the address on an unconnected socket (the sendmsg hook).
    sendto=$(udp_pps --unconnected)
    # The daemon's cost under load: sendmmsg reaches a higher packet rate than
    # one send() a packet does on this machine.
    if [[ $kind == monitored ]]; then c0=$(cpu_ns) w0=$(now_ns); fi
    batch=$(udp_pps --batch 64)
    if [[ $kind == monitored ]]; then
      c1=$(cpu_ns) w1=$(now_ns)
      record cpu_load_percent "$(cpu_percent "$c0" "$c1" "$w0" "$w1")"
      record load_pps "$batch"
      record rss_load_mib "$(rss_mib)"
    fi
    echo "$udp_in" >"$work/udpin.$kind.$pair"
    echo "$tcp_paired" >"$work/tcppaired.$kind.$pair"
    echo "$sendto" >"$work/sendto.$kind.$pair"
    echo "$batch" >"$work/batch.$kind.$pair"
    extra=", udp into A $udp_in packets/s, tcp A/C $tcp_paired, udp with sendto() $sendto packets/s, udp with sendmmsg $batch packets/s"
  fi
  case $kind in
    floor) stop_floor ;;
    monitored | microphone) stop_daemon ;;
  esac
  echo "$tcp" >"$work/tcp.$kind.$pair"
  echo "$udp" >"$work/udp.$kind.$pair"
  echo "$paired" >"$work/paired.$kind.$pair"
  echo "$syscall_ns" >"$work/syscall.$kind.$pair"
  log "  pair $pair $kind: tcp $tcp Mbit/s, udp $udp packets/s, A/C $paired, getppid() $syscall_ns ns$extra"
}

# Sums of the daemon's earshot_bpf_{run_seconds,runs}_total, one line per program.
bpf_counters() {
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
    awk -F'[{}" ]+' '/^earshot_bpf_run_seconds_total\{/ {s[$3] = $4}
                     /^earshot_bpf_runs_total\{/ {n[$3] = $4}
                     END {for (p in n) printf "%s %.0f %.0f\n", p, s[p] * 1e9, n[p]}' | sort
}

log "namespaces $ns_a -> $ns_b, $pairs pairs of rounds; ${seconds}s measurements, UDP $udp_samples a round, TCP $tcp_samples"
ratio() { awk -v m="$(cat "$1")" -v u="$(cat "$2")" 'BEGIN {printf "%.3f", (u > 0 ? m / u : 0)}'; }
# Steal: CPU time the hypervisor gave to other guests while this ran. Every
# ratio is noisier when it is more than a few tenths of a percent.
steal_share() { # steal_share "<cpu line of /proc/stat before>" "<after>"
  awk -v a="$1" -v b="$2" 'BEGIN {split(a, x); split(b, y); t = 0
    for (i = 2; i <= 9; i++) t += y[i] - x[i]
    printf "%.2f", (t > 0 ? 100 * (y[9] - x[9]) / t : 0)}'
}
cpu_before=$(head -1 /proc/stat)

for pair in $(seq "$pairs"); do
  round floor "$pair"
  round monitored "$pair"
  round microphone "$pair"
  round unmonitored "$pair"
  for proto in tcp tcppaired udp udpin paired sendto batch syscall; do
    record "${proto}_ratio" "$(ratio "$work/$proto.monitored.$pair" "$work/$proto.unmonitored.$pair")"
    # This monitored round against the previous pair's unmonitored one too.
    ((pair > 1)) && record "${proto}_ratio" \
      "$(ratio "$work/$proto.monitored.$pair" "$work/$proto.unmonitored.$((pair - 1))")"
    record "${proto}_monitored" "$(cat "$work/$proto.monitored.$pair")"
    record "${proto}_unmonitored" "$(cat "$work/$proto.unmonitored.$pair")"
  done
  for kind in microphone floor; do
    for proto in tcp udp paired syscall; do
      record "${proto}_${kind}_ratio" \
        "$(ratio "$work/$proto.$kind.$pair" "$work/$proto.unmonitored.$pair")"
      ((pair > 1)) && record "${proto}_${kind}_ratio" \
        "$(ratio "$work/$proto.$kind.$pair" "$work/$proto.unmonitored.$((pair - 1))")"
      record "${proto}_${kind}" "$(cat "$work/$proto.$kind.$pair")"
    done
  done
done

# BPF time per run: statistics cost time themselves, so only in this round.
# Each sample measures, one after the other and each alone at the hook, the
# near-empty program of nf-floor (the floor: the hook call and bpf_stats'
# own clock reads) and earshot, on the same load. Alone: a program that runs
# before another at the same hook warms the cache for it (with the floor in
# front, earshot's median was 84.2 ns against 98.1 alone, 8 rounds each).
# Earshot with the microphone watched, so its capture programs are measured
# too. Two UDP floods back to back, each from a new process, as in the
# rounds: the second one's socket is made right after the first one's
# closed, the case where a new socket finds its slot held by the dead one
# (the first flood alone after a start measured 62 ns where the slot index
# came from the socket's address; the second, 214).
log "bpf_stats round"
echo 1 >"$stats_sysctl"
for sample in $(seq "$pairs"); do
  start_floor
  udp_pps >/dev/null
  udp_pps >/dev/null
  in_ns_fast "$ns_a" "$send_cpu" iperf3 -c "$addr_b" -p "$tcp_port" -t 1 >/dev/null
  stop_floor
  floor=$(sed -n 's/^floor_ns=//p' "$work/floor.out")
  start_daemon "$work/earshot-mic.yaml"
  sleep 1
  bpf_counters >"$work/bpf.before"
  udp_pps >/dev/null
  udp_pps >/dev/null
  in_ns_fast "$ns_a" "$send_cpu" iperf3 -c "$addr_b" -p "$tcp_port" -t 1 >/dev/null
  bpf_counters >"$work/bpf.after"
  # Apart: sendto() from an unconnected socket, the flows map's path in the
  # netfilter program (the destination read from the packet) and the
  # sendmsg hook.
  udp_pps --unconnected >/dev/null
  bpf_counters >"$work/bpf.unconnected"
  stop_daemon
  join "$work/bpf.after" "$work/bpf.unconnected" |
    awk '($1 == "earshot_nf_local_out4" || $1 == "earshot_sendmsg4") && $5 > $3 {
      printf "unconnected_ns_%s %.1f\n", $1, ($4 - $2) / ($5 - $3)}' >>"$work/samples.txt"
  join "$work/bpf.before" "$work/bpf.after" |
    awk '$5 > $3 {printf "bpf_ns_%s %.1f\n", $1, ($4 - $2) / ($5 - $3)}' >>"$work/samples.txt"
  # The cgroup_skb counting tier on the same floods, netfilter turned off.
  start_daemon "$work/earshot-cgroup.yaml"
  sleep 1
  bpf_counters >"$work/bpf.cgroup.before"
  udp_pps >/dev/null
  udp_pps >/dev/null
  bpf_counters >"$work/bpf.cgroup.after"
  stop_daemon
  join "$work/bpf.cgroup.before" "$work/bpf.cgroup.after" |
    awk '$1 == "earshot_cgroup_egress" && $5 > $3 {
      printf "cgroup_ns_%s %.1f\n", $1, ($4 - $2) / ($5 - $3)}' >>"$work/samples.txt"
  nf=$(join "$work/bpf.before" "$work/bpf.after" |
    awk '$1 == "earshot_nf_local_out4" && $5 > $3 {printf "%.1f", ($4 - $2) / ($5 - $3)}')
  if [[ -n $floor && -n $nf ]]; then
    record bpf_floor_ns "$floor"
    record nf_above_floor_ns "$(awk -v n="$nf" -v f="$floor" 'BEGIN {printf "%.1f", n - f}')"
  fi
  log "  sample $sample: netfilter ${nf:-?} ns a packet, floor ${floor:-?} ns"
done
echo "$stats_before" >"$stats_sysctl"

# The latency round opens the stand-in microphone.
start_daemon "$work/earshot-mic.yaml"
sleep 1
log "latency round"
sleep 0.5
"$bench" open-latency "$work/mic" "$work/events.jsonl" --count 10 --gap-ms 200 \
  >"$work/open.out" || log "some opens had no event: $(tail -1 "$work/open.out")"
sed -n 's/^sample_ms=/open_to_event_ms /p' "$work/open.out" >>"$work/samples.txt"
"$bench" metrics-latency "$addr_b" "$udp_port" --netns "/var/run/netns/$ns_a" \
  --metrics-port "$metrics_port" --process earshot-bench --packets 100 --bursts "$pairs" \
  --gap-ms $((harvest_ms * 13 / 10)) --timeout-ms $((harvest_ms * 5)) \
  >"$work/metrics.out" || log "some bursts never appeared: $(tail -1 "$work/metrics.out")"
sed -n 's/^sample_ms=/packet_to_metrics_ms /p' "$work/metrics.out" >>"$work/samples.txt"
stop_daemon

cpu_after=$(head -1 /proc/stat)

# --- the table -----------------------------------------------------------

summary() { # summary <figure>: "median min max count"
  awk -v f="$1" '$1 == f {print $2}' "$work/samples.txt" | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) {print "- - - 0"; exit}
         m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
         printf "%.6g %.6g %.6g %d\n", m, v[1], v[NR], NR}'
}
met() { # met <median> <op> <target>
  awk -v m="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (m == "-") {print "no data"; exit}
    ok = (op == ">=") ? m >= t : m <= t; print ok ? "yes" : "no"}'
}
row() { # row <label> <figure> <op> <target> [judge]
  local label=$1 figure=$2 op=${3:-} target=${4:-} median min max n verdict="-"
  read -r median min max n <<<"$(summary "$figure")"
  [[ -n $op ]] && verdict=$(met "$median" "$op" "$target")
  printf '%-42s %12s %12s %12s %4s  %-14s %s\n' "$label" "$median" "$min" "$max" "$n" \
    "${op:+$op $target}" "$verdict"
}

load_median=$(summary load_pps | cut -d' ' -f1)
cpu_target_note=""
if awk -v l="$load_median" 'BEGIN {exit !(l < 100000)}'; then
  cpu_target_note=" (load was below 100k packets/s)"
fi

echo
echo "earshot benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(nproc) CPUs, $pairs pairs of rounds, ${seconds}s measurements, UDP the mean of $udp_samples a round, TCP of $tcp_samples"
echo "host steal during the rounds: $(steal_share "$cpu_before" "$cpu_after") % of CPU time"
printf '%-42s %12s %12s %12s %4s  %-14s %s\n' figure median min max n target met
row "TCP throughput, monitored/not" tcp_ratio ">=" 0.97
row "  TCP Mbit/s, monitored" tcp_monitored
row "  TCP Mbit/s, unmonitored" tcp_unmonitored
row "TCP A/C, monitored/not (paired)" tcppaired_ratio
row "  A/C TCP rate ratio, monitored" tcppaired_monitored
row "  A/C TCP rate ratio, unmonitored" tcppaired_unmonitored
row "UDP 64 B packets/s, monitored/not" udp_ratio ">=" 0.95
row "  UDP packets/s, monitored" udp_monitored
row "  UDP packets/s, unmonitored" udp_unmonitored
row "UDP 64 B, microphone watched/not" udp_microphone_ratio ">=" 0.95
row "  UDP packets/s, microphone watched" udp_microphone
row "  UDP, empty netfilter program/not" udp_floor_ratio
row "UDP 64 B A/C, monitored/not (paired)" paired_ratio
row "  A/C UDP rate ratio, monitored" paired_monitored
row "  A/C UDP rate ratio, unmonitored" paired_unmonitored
row "UDP 64 B A/C, microphone/not (paired)" paired_microphone_ratio
row "  UDP A/C, empty program/not (paired)" paired_floor_ratio
row "TCP throughput, microphone watched/not" tcp_microphone_ratio
row "UDP 64 B into the monitored ns, mon./not" udpin_ratio
row "  UDP packets/s into it, monitored" udpin_monitored
row "  UDP packets/s into it, unmonitored" udpin_unmonitored
row "  UDP packets/s, empty netfilter program" udp_floor
row "UDP 64 B sendto(), unconnected, mon./not" sendto_ratio
row "UDP 64 B sendmmsg packets/s, mon./not" batch_ratio
row "getppid() ns, monitored/not" syscall_ratio
row "  getppid() ns, monitored" syscall_monitored
row "  getppid() ns, unmonitored" syscall_unmonitored
row "getppid() ns, microphone watched/not" syscall_microphone_ratio
row "  getppid() ns, microphone watched" syscall_microphone
row "netfilter program, ns/packet" bpf_ns_earshot_nf_local_out4 "<=" 100
row "  floor: empty netfilter program, ns" bpf_floor_ns
row "  netfilter above that floor, ns" nf_above_floor_ns
row "  netfilter, unconnected sendto(), ns" unconnected_ns_earshot_nf_local_out4
row "  sendmsg4 hook, ns/sendto()" unconnected_ns_earshot_sendmsg4
row "cgroup_skb tier (netfilter off), ns/packet" cgroup_ns_earshot_cgroup_egress
awk '$1 ~ /^bpf_ns_/ && $1 != "bpf_ns_earshot_nf_local_out4" {print $1}' "$work/samples.txt" |
  sort -u | while read -r figure; do row "  ${figure#bpf_ns_}, ns/run" "$figure"; done
row "daemon RSS idle, MiB" rss_idle_mib "<=" 20
row "daemon RSS under UDP load, MiB" rss_load_mib "<=" 20
row "daemon CPU idle, % of a core" cpu_idle_percent
row "daemon CPU under UDP load, % of a core" cpu_load_percent "<=" 2
row "  that load, packets/s" load_pps ">=" 100000
row "capture open -> JSON event, ms" open_to_event_ms "<=" 100
row "packet -> /metrics, ms (harvest ${harvest_ms})" packet_to_metrics_ms "<=" "$harvest_ms"
[[ -n $cpu_target_note ]] && echo "note: daemon CPU target is for 100k packets/s$cpu_target_note"
exit 0
