#!/usr/bin/env bash
# What earshot costs: alternating rounds over veth pairs between network
# namespaces this script creates, then the BPF programs' own time and two
# latencies. It sets up, runs the load and the daemon, and writes each raw
# measurement as a line; `earshot-bench report` computes the medians and
# ratios and prints the table against the targets.
#
# Usage (as root): scripts/bench.sh [--build-dir DIR] [--pairs N] [--seconds S]
#                                   [--udp-samples K] [--tcp-samples K]
#                                   [--slices K] [--quick] [--save FILE]
#   --build-dir    where earshot and earshot-bench were built (default build/default)
#   --pairs        rounds of each kind (default 5: 9 ratios a figure; at least 2)
#   --seconds      length of each TCP and UDP measurement (default 3)
#   --udp-samples  UDP measurements a round, averaged (default 4): single ones
#                  vary by +-15 % on a VM, more than the cost to be seen
#   --tcp-samples  TCP measurements a round, averaged (default 3)
#   --slices       1 s UDP floods and 1 s TCP transfers a round from A and
#                  from C, alternating (default 6 each; see below)
#   --quick        --pairs 2 --seconds 1 --udp-samples 1 --tcp-samples 1
#                  --slices 2: about 4 minutes, to try the script, not to
#                  quote (later options override it)
#   --save         keep the measurements (also of an interrupted run) in
#                  FILE; `earshot-bench report [--markdown] FILE` prints them
#
# Targets (the report checks the medians): TCP throughput monitored/not
# >= 0.97; UDP 64-byte packets/s monitored/not >= 0.95, also with a
# microphone watched; the netfilter program <= 100 ns a packet; the
# daemon's RSS <= 20 MiB idle and under load, its CPU <= 2 % of a core
# under >= 100k packets/s; capture open -> JSON event <= 100 ms; packet ->
# /metrics <= the harvest interval (1 s here).
#
# Each pair is a floor round (a near-empty netfilter program and no daemon:
# what the hook itself costs), a monitored round (the default capture
# config: on a machine without ALSA capture nodes, no microphone), a
# microphone round (a stand-in microphone watched through
# capture.extra_devices, so the syscall capture tier is attached, as on a
# speaker whose kernel has no kernel-level capture tier) and an unmonitored
# one. The floor and microphone rounds take the same steps as the others up
# to the paired UDP figure (getppid(), TCP, UDP, A/C) and stop there.
# Ratios compare each round with the unmonitored rounds on both sides of
# it, so a drift over the run cancels. B stands for the far end, which
# earshot does not monitor; each round also floods the other way, into A,
# where earshot reads DNS answers on every packet. And each round floods
# from A and from C, a second pair (C -> D) earshot never monitors, 1 s
# each in turn: A's rate over C's a second apart, where the host's drift
# between rounds (often more than the cost to be seen) cancels; that
# ratio, monitored over unmonitored rounds, is the UDP cost with less
# noise; the same with 1 s TCP transfers (iperf3) for TCP. One flood a
# round sends with sendto() from an unconnected socket: each such send runs
# earshot's cgroup sendmsg hook, which every namespace's sockets pay, so it
# is not paired with C. Then a round of samples with kernel.bpf_stats_enabled
# on (each program's ns a run, and the floor program's, each alone at the
# hook) and a latency round.
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
save=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --udp-samples) udp_samples=$2; shift 2 ;;
    --tcp-samples) tcp_samples=$2; shift 2 ;;
    --slices) slices=$2; shift 2 ;;
    --quick) pairs=2 seconds=1 udp_samples=1 tcp_samples=1 slices=2; shift ;;
    --save) save=$(realpath -m "$2"); shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench.sh: $*" >&2; exit 1; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, BPF, sysctl)"
((pairs >= 2)) || die "--pairs must be at least 2"
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
for tool in iperf3 ip nsenter mknod taskset; do
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
results="$work/measurements.txt"
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
  [[ -n $save && -f $results ]] && cp "$results" "$save"
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
# The report's packet -> /metrics target is this 1 s harvest interval.
cat >"$work/earshot.yaml" <<EOF
harvest: {interval: 1s}
network: {namespaces: [/var/run/netns/$ns_a]}
events: {file: $work/events.jsonl}
EOF
cat "$work/earshot.yaml" - >"$work/earshot-mic.yaml" <<EOF
capture: {sysfs: false, extra_devices: [$work/mic]}
EOF
# The counting tier of kernels before 6.4, forced here (bpf_stats round only).
cat "$work/earshot.yaml" - >"$work/earshot-cgroup.yaml" <<EOF
kernel: {disabled_hooks: [netfilter_ipv4, netfilter_ipv6, netfilter_local_in_ipv4, netfilter_local_in_ipv6]}
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

# --- measurements --------------------------------------------------------

# One line a measurement, "KIND ROUND FIGURE VALUE", for earshot-bench report.
record() { # record KIND ROUND FIGURE VALUE
  if [[ -z $4 ]]; then
    log "  no $3 in $1 round $2"
    return 0
  fi
  echo "$1 $2 $3 $4" >>"$results"
}
# earshot-bench delta's figures between two snapshots, each name prefixed.
record_delta() { # record_delta KIND ROUND PREFIX BEFORE AFTER
  "$bench" delta "$4" "$5" | while read -r figure value; do
    record "$1" "$2" "$3$figure" "$value"
  done
}
recorded() { # recorded KIND ROUND FIGURE: its values so far, for the log
  sed -n "s/^$1 $2 $3 //p" "$results" | paste -sd ' '
}

tcp_mbps() { # tcp_mbps <from ns> <to address> <seconds>: Mbit/s received, or nothing
  { in_ns_fast "$1" "$send_cpu" iperf3 -c "$2" -p "$tcp_port" -t "$3" -f m || true; } |
    sed -n 's/.* \([0-9.]*\) Mbits\/sec .*receiver.*/\1/p'
}

udp_pps() { # udp_pps <from ns> <to ns> <to address> <seconds> [flood options]: packets/s sent
  local from=$1 to=$2 address=$3 length=$4
  shift 4
  in_ns_fast "$to" "$receive_cpu" "$bench" udp-sink "$udp_port" --seconds $((length + 5)) >"$work/sink.out" &
  local sink=$!
  for _ in $(seq 50); do grep -q ready "$work/sink.out" && break; sleep 0.05; done
  in_ns_fast "$from" "$send_cpu" "$bench" udp-flood "$address" "$udp_port" --seconds "$length" --size 64 "$@" \
    >"$work/flood.out" || log "udp-flood failed"
  wait "$sink" || true
  sed -n 's/.*pps=\([0-9]*\).*/\1/p' "$work/flood.out"
}

# 2M calls of getppid(): every system call of every process pays for
# syscall tracepoints being on (entry and exit go the slow way).
getppid_ns() {
  taskset -c "$send_cpu" nice -n -10 "$bench" null-syscalls | sed -n 's/^ns_per_call=//p'
}

# Every kind of round takes the same steps and pauses up to the paired UDP
# figure, so that nothing but what is attached differs between them (when
# the floor and microphone rounds skipped TCP, the near-empty program alone
# measured 0.92 of the unmonitored rate, far more than its 56 ns of a
# 3.4 us packet). The floor round: nothing of earshot but a netfilter
# program, the part of the loss any program at the hook would cause. The
# microphone round: the syscall capture tier's cost on top.
round() { # round <floor|monitored|microphone|unmonitored> <pair number>
  local kind=$1 pair=$2 full=false
  [[ $kind == monitored || $kind == unmonitored ]] && full=true
  case $kind in
    floor) start_floor ;;
    monitored) start_daemon "$work/earshot.yaml" ;;
    microphone) start_daemon "$work/earshot-mic.yaml" ;;
  esac
  sleep 1 # past start-up, and past the previous round's exit
  [[ $kind == monitored ]] && "$bench" snapshot --pid "$daemon_pid" >"$work/idle.before"
  sleep 4
  if [[ $kind == monitored ]]; then
    "$bench" snapshot --pid "$daemon_pid" >"$work/idle.after"
    record_delta "$kind" "$pair" idle_ "$work/idle.before" "$work/idle.after"
  fi
  for _ in 1 2 3; do record "$kind" "$pair" getppid_ns "$(getppid_ns)"; done
  for _ in $(seq "$tcp_samples"); do
    record "$kind" "$pair" tcp_mbps "$(tcp_mbps "$ns_a" "$addr_b" "$seconds")"
  done
  for _ in $(seq "$udp_samples"); do
    record "$kind" "$pair" udp_pps "$(udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds")"
  done
  # The other way: B floods the monitored namespace, where every packet runs
  # earshot's DNS program at tcx ingress (on the sending CPU: veth delivers in
  # its softirq). The receiving cost a speaker pays; half the samples.
  if $full; then
    for _ in $(seq $(((udp_samples + 1) / 2))); do
      record "$kind" "$pair" udp_in_pps "$(udp_pps "$ns_b" "$ns_a" "$addr_a" "$seconds")"
    done
  fi
  for _ in $(seq "$slices"); do
    record "$kind" "$pair" udp_a_pps "$(udp_pps "$ns_a" "$ns_b" "$addr_b" 1)"
    record "$kind" "$pair" udp_c_pps "$(udp_pps "$ns_c" "$ns_d" "$addr_d" 1)"
  done
  if $full; then
    for _ in $(seq "$slices"); do
      record "$kind" "$pair" tcp_a_mbps "$(tcp_mbps "$ns_a" "$addr_b" 1)"
      record "$kind" "$pair" tcp_c_mbps "$(tcp_mbps "$ns_c" "$addr_d" 1)"
    done
    # sendto() naming the address on an unconnected socket (the sendmsg hook).
    record "$kind" "$pair" sendto_pps "$(udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" --unconnected)"
    # The daemon's cost under load: sendmmsg reaches a higher packet rate than
    # one send() a packet does on this machine.
    [[ $kind == monitored ]] && "$bench" snapshot --pid "$daemon_pid" >"$work/load.before"
    record "$kind" "$pair" sendmmsg_pps "$(udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" --batch 64)"
    if [[ $kind == monitored ]]; then
      "$bench" snapshot --pid "$daemon_pid" >"$work/load.after"
      record_delta "$kind" "$pair" load_ "$work/load.before" "$work/load.after"
    fi
  fi
  case $kind in
    floor) stop_floor ;;
    monitored | microphone) stop_daemon ;;
  esac
  log "  pair $pair $kind: tcp $(recorded "$kind" "$pair" tcp_mbps) Mbit/s," \
    "udp $(recorded "$kind" "$pair" udp_pps) packets/s," \
    "getppid() $(recorded "$kind" "$pair" getppid_ns) ns"
}

metrics_snapshot() { "$bench" snapshot --metrics-port "$metrics_port" >"$work/$1"; }

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
bpf_sample() { # bpf_sample <sample number>
  local sample=$1
  start_floor
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" >/dev/null
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" >/dev/null
  in_ns_fast "$ns_a" "$send_cpu" iperf3 -c "$addr_b" -p "$tcp_port" -t 1 >/dev/null || true
  stop_floor
  record bpf "$sample" floor_ns "$(sed -n 's/^floor_ns=//p' "$work/floor.out")"
  start_daemon "$work/earshot-mic.yaml"
  sleep 1
  metrics_snapshot bpf.before
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" >/dev/null
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" >/dev/null
  in_ns_fast "$ns_a" "$send_cpu" iperf3 -c "$addr_b" -p "$tcp_port" -t 1 >/dev/null || true
  metrics_snapshot bpf.after
  # Apart: sendto() from an unconnected socket, the flows map's path in the
  # netfilter program (the destination read from the packet) and the
  # sendmsg hook.
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" --unconnected >/dev/null
  metrics_snapshot bpf.unconnected
  # The other direction: B floods A, where each packet runs the LOCAL_IN
  # program (what a socket receives, for the verdicts).
  udp_pps "$ns_b" "$ns_a" "$addr_a" "$seconds" >/dev/null
  metrics_snapshot bpf.in
  stop_daemon
  record_delta bpf "$sample" "" "$work/bpf.before" "$work/bpf.after"
  record_delta bpf "$sample" unconnected_ "$work/bpf.after" "$work/bpf.unconnected"
  record_delta bpf "$sample" in_ "$work/bpf.unconnected" "$work/bpf.in"
  # The cgroup_skb counting tier on the same floods, netfilter turned off.
  start_daemon "$work/earshot-cgroup.yaml"
  sleep 1
  metrics_snapshot cgroup.before
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" >/dev/null
  udp_pps "$ns_a" "$ns_b" "$addr_b" "$seconds" >/dev/null
  metrics_snapshot cgroup.after
  udp_pps "$ns_b" "$ns_a" "$addr_a" "$seconds" >/dev/null
  metrics_snapshot cgroup.in
  stop_daemon
  record_delta bpf "$sample" cgroup_ "$work/cgroup.before" "$work/cgroup.after"
  record_delta bpf "$sample" cgroup_in_ "$work/cgroup.after" "$work/cgroup.in"
  log "  sample $sample: netfilter $(recorded bpf "$sample" ns_earshot_nf_local_out4) ns a packet," \
    "LOCAL_IN $(recorded bpf "$sample" in_ns_earshot_nf_local_in4) ns," \
    "floor $(recorded bpf "$sample" floor_ns) ns"
}

# --- the run ---------------------------------------------------------------

# Other earshot daemons on the machine (other people's tests): their hooks
# are global (cgroup socket hooks, syscall tracepoints) and slow every round.
others() { echo "other earshot processes: $(pgrep -c -x earshot || true)"; }
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit+=" with uncommitted changes"
{
  echo "# earshot benchmark: source at $commit, kernel $(uname -r), $(nproc) CPUs"
  echo "# $pairs pairs of rounds; ${seconds} s measurements, $udp_samples UDP and $tcp_samples TCP a round; $slices A/C slices of 1 s"
  echo "# started $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(others)"
} >"$results"
log "namespaces $ns_a -> $ns_b, $pairs pairs of rounds; ${seconds}s measurements, UDP $udp_samples a round, TCP $tcp_samples"

# Steal: CPU time the hypervisor gave to other guests while this ran. Every
# ratio is noisier when it is more than a few tenths of a percent.
"$bench" snapshot --host >"$work/host.before"
for pair in $(seq "$pairs"); do
  for kind in floor monitored microphone unmonitored; do round "$kind" "$pair"; done
done
"$bench" snapshot --host >"$work/host.after"
record_delta host 1 "" "$work/host.before" "$work/host.after"

log "bpf_stats round"
echo 1 >"$stats_sysctl"
for sample in $(seq "$pairs"); do bpf_sample "$sample"; done
echo "$stats_before" >"$stats_sysctl"

# The latency round opens the stand-in microphone.
start_daemon "$work/earshot-mic.yaml"
log "latency round"
sleep 1.5
"$bench" open-latency "$work/mic" "$work/events.jsonl" --count 10 --gap-ms 200 \
  >"$work/open.out" || log "some opens had no event: $(tail -1 "$work/open.out")"
"$bench" metrics-latency "$addr_b" "$udp_port" --netns "/var/run/netns/$ns_a" \
  --metrics-port "$metrics_port" --process earshot-bench --packets 100 --bursts "$pairs" \
  --gap-ms 1300 --timeout-ms 5000 \
  >"$work/metrics.out" || log "some bursts never appeared: $(tail -1 "$work/metrics.out")"
stop_daemon
{
  sed -n 's/^sample_ms=/latency 1 open_ms /p' "$work/open.out"
  sed -n 's/^sample_ms=/latency 1 metrics_ms /p' "$work/metrics.out"
  echo "# ended $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(others)"
} >>"$results"

echo
"$bench" report "$results"
