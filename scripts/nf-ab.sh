#!/usr/bin/env bash
# The netfilter program's cost, earshot builds against each other: for
# changes to bpf/counting_netfilter.bpf.c too small for scripts/bench.sh to
# resolve. Each round runs every given earshot binary in turn, alone, on the
# same 64-byte UDP flood out of the namespace it monitors, with
# kernel.bpf_stats_enabled on, and records its earshot_nf_local_out4's mean
# ns a packet (from its own earshot_bpf_run_* metrics); "floor" stands for
# the near-empty program of earshot-bench nf-floor. Prints each one's median
# (min, max) and, for each against the first, the median of the per-round
# differences and in how many rounds it was lower. One daemon's figure
# varies by about +-10 ns from one start to the next (where its maps and
# sockets land): a difference of 2 ns needs some 24 rounds.
#
# Usage (as root): scripts/nf-ab.sh [--build-dir DIR] [--rounds N] [--seconds S]
#                                   NAME=EARSHOT_BINARY ... [floor]
#   --build-dir  where earshot-bench was built (default build/default)
#   --rounds     rounds (default 16)
#   --seconds    length of each flood (default 3)
# e.g. keep a build as /tmp/earshot.before, change and rebuild, then
#   scripts/nf-ab.sh --rounds 24 before=/tmp/earshot.before \
#     after=build/default/userspace/app/earshot floor
# About 6 s a binary a round. Everything it creates (namespaces, daemons,
# temp dir, kernel.bpf_stats_enabled) is undone on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build/default"
rounds=16
seconds=3
entries=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "nf-ab.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) entries+=("$1"); shift ;;
  esac
done
die() { echo "nf-ab.sh: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "run as root (namespaces, BPF, kernel.bpf_stats_enabled)"
((${#entries[@]} >= 1)) || die "name at least one NAME=EARSHOT_BINARY (see --help)"
for entry in "${entries[@]}"; do
  [[ $entry == floor ]] && continue
  [[ $entry == *=* ]] || die "\"$entry\" is not NAME=EARSHOT_BINARY or floor"
  [[ -x ${entry#*=} ]] || die "${entry#*=}: not an executable"
done
bench="$build_dir/tests/tools/bench/earshot-bench"
[[ -x $bench ]] || die "$bench not built (cmake --build --preset default)"

prefix="esab$$"
ns_a="${prefix}a"
ns_b="${prefix}b"
addr_b=10.78.0.2
udp_port=9000
send_cpu=$(($(nproc) - 1))
receive_cpu=0
work=$(mktemp -d /tmp/earshot-nf-ab.XXXXXX)
stats_sysctl=/proc/sys/kernel/bpf_stats_enabled
stats_before=$(cat "$stats_sysctl")
held_pid=""

# shellcheck disable=SC2317 # called by the trap
cleanup() {
  set +e
  [[ -n $held_pid ]] && kill "$held_pid" 2>/dev/null && wait "$held_pid" 2>/dev/null
  echo "$stats_before" >"$stats_sysctl"
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "${ns_a}v" netns "$ns_a" type veth peer name "${ns_b}v" netns "$ns_b"
ip -n "$ns_a" addr add 10.78.0.1/24 dev "${ns_a}v"
ip -n "$ns_b" addr add "$addr_b/24" dev "${ns_b}v"
for ns in "$ns_a" "$ns_b"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "${ns}v" up
done
printf 'harvest: {interval: 1s}\nnetwork: {namespaces: [/var/run/netns/%s]}\n' "$ns_a" \
  >"$work/earshot.yaml"
in_ns() { # in_ns NS CPU COMMAND...
  local ns=$1 cpu=$2
  shift 2
  nsenter --net="/var/run/netns/$ns" taskset -c "$cpu" nice -n -10 "$@"
}
wait_for_line() { # wait_for_line FILE PATTERN: up to 15 s
  for _ in $(seq 150); do
    grep -q "$2" "$1" && return 0
    kill -0 "$held_pid" 2>/dev/null || die "exited: $(cat "$1")"
    sleep 0.1
  done
  die "no \"$2\" within 15 s: $(cat "$1")"
}
flood() {
  in_ns "$ns_b" "$receive_cpu" "$bench" udp-sink "$udp_port" --seconds $((seconds + 5)) \
    >"$work/sink.out" &
  local sink=$!
  for _ in $(seq 50); do grep -q ready "$work/sink.out" && break; sleep 0.05; done
  in_ns "$ns_a" "$send_cpu" "$bench" udp-flood "$addr_b" "$udp_port" --seconds "$seconds" \
    --size 64 >/dev/null
  wait "$sink" || true
}
nf_counters() { # "run_ns runs" of earshot_nf_local_out4, from the daemon's metrics
  curl -fsS "http://$1/metrics" |
    awk -F'[{}" ]+' '$3 == "earshot_nf_local_out4" && /^earshot_bpf_run_seconds_total\{/ {s = $4}
                     $3 == "earshot_nf_local_out4" && /^earshot_bpf_runs_total\{/ {n = $4}
                     END {printf "%.0f %.0f\n", s * 1e9, n}'
}
measure() { # measure NAME=BINARY | floor: the mean ns a packet, into $work/result
  # (not printed: run in a subshell, it would leave held_pid unknown to cleanup)
  if [[ $1 == floor ]]; then
    nsenter --net="/var/run/netns/$ns_a" "$bench" nf-floor --seconds 120 >"$work/held.log" 2>&1 &
    held_pid=$!
    wait_for_line "$work/held.log" ready
    flood
    kill -TERM "$held_pid"
    wait "$held_pid" || die "nf-floor failed: $(cat "$work/held.log")"
    held_pid=""
    sed -n 's/^floor_ns=//p' "$work/held.log" >"$work/result"
    return
  fi
  "${1#*=}" --config.file "$work/earshot.yaml" --web.listen-address 127.0.0.1:0 \
    --log.format json >"$work/held.log" 2>&1 &
  held_pid=$!
  wait_for_line "$work/held.log" '"msg":"listening"'
  local address before after
  address=$(sed -n 's/.*"msg":"listening","address":"\([^"]*\)".*/\1/p' "$work/held.log")
  sleep 1
  before=$(nf_counters "$address")
  flood
  after=$(nf_counters "$address")
  kill "$held_pid"
  wait "$held_pid" || true
  held_pid=""
  awk -v b="$before" -v a="$after" 'BEGIN {split(b, x, " "); split(a, y, " ")
    if (y[2] > x[2]) printf "%.1f\n", (y[1] - x[1]) / (y[2] - x[2]); else print "nan"}' >"$work/result"
}

echo 1 >"$stats_sysctl"
for round in $(seq "$rounds"); do
  line="round $round:"
  for entry in "${entries[@]}"; do
    measure "$entry"
    ns=$(cat "$work/result")
    echo "$round ${entry%%=*} $ns" >>"$work/samples.txt"
    line+=" ${entry%%=*} $ns"
  done
  echo "$line"
done
echo "$stats_before" >"$stats_sysctl"

# Medians, and each entry's per-round difference to the first entry's.
first=${entries[0]%%=*}
median() { sort -g | awk '{v[NR] = $1} END {if (NR) printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "earshot_nf_local_out4, ns a packet, $rounds rounds of ${seconds}s 64-byte UDP floods:"
for entry in "${entries[@]}"; do
  name=${entry%%=*}
  values=$(awk -v n="$name" '$2 == n && $3 != "nan" {print $3}' "$work/samples.txt")
  printf '  %-12s median %s  min %s  max %s' "$name" "$(median <<<"$values")" \
    "$(sort -g <<<"$values" | head -1)" "$(sort -g <<<"$values" | tail -1)"
  if [[ $name != "$first" ]]; then
    diffs=$(awk -v n="$name" -v f="$first" '$3 != "nan" {v[$1, $2] = $3}
      END {for (r = 1; r <= '"$rounds"'; r++) if ((r, n) in v && (r, f) in v) print v[r, n] - v[r, f]}' \
      "$work/samples.txt")
    printf '  vs %s: median difference %s, lower in %s of %s rounds' "$first" \
      "$(median <<<"$diffs")" "$(awk '$1 < 0' <<<"$diffs" | wc -l)" "$(wc -l <<<"$diffs")"
  fi
  echo
done
