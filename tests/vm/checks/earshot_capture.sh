#!/bin/bash
# earshot_capture.sh EARSHOT_BIN kernel|lower VM_CACHE_DIR
# The real earshot daemon in the guest, on real ALSA:
#   - arecord -D hw:Loopback,1 for 3 s while aplay feeds hw:Loopback,0: one
#     capture open, frames within 2% of what arecord wrote, about 3 s of
#     capture time, through the expected tier (JSON event "tier");
#   - a process that opens the capture node and never reads: one open, zero frames;
#   - bytes sent to a network namespace during captures land in window
#     "other" (sender is not capturing) and "self" (sender is capturing);
#   - bytes a server sends on a TCP connection it accepted are its own (the
#     accept hook is fexit_accept here, not the syscall tracepoints);
#   - no syscall tracepoint is attached when a kernel-level tier is: each
#     one slows every system call of every process.
# kernel: default tiers (fentry must attach and be the one that counts);
# lsm:    capture.tiers without fentry (BPF LSM must attach and count);
# lower:  capture.tiers [syscalls, libasound, procfs] (kernel tiers disabled).
set -u
bin=${1:?usage: earshot_capture.sh EARSHOT_BIN kernel|lower}
mode=${2:?}
vm_cache=${3:?}  # the unpacked guest kernel (for veth.ko)
. "$(dirname "$0")/lib.sh"

rate=16000
# EARSHOT_VM_CAPTURE_SECONDS lengthens arecord's capture where the guest is
# slow (under arm64 emulation socat's 200 datagrams can outlast 3 s).
seconds=${EARSHOT_VM_CAPTURE_SECONDS:-3}
port=19737
case "$mode" in
kernel) tiers="[fentry, lsm, syscalls, libasound, procfs]" want_tier=fentry want_hook=fentry_snd_pcm ;;
lower) tiers="[syscalls, libasound, procfs]" want_tier=syscalls want_hook=procfs_poll ;;
lsm) tiers="[lsm, syscalls, libasound, procfs]" want_tier=lsm want_hook=lsm_file_open ;;
*) fail "mode must be kernel, lsm or lower" ;;
esac

card=$(awk '$2 == "[Loopback" { print $1; exit }' /proc/asound/cards)
[ -n "$card" ] || fail "no Loopback card in /proc/asound/cards (snd-aloop)"
node=/dev/snd/pcmC${card}D1c

# A network namespace behind a veth pair: the guest kernel is real, but its
# veth module is in the unpacked kernel tree, not in the initramfs.
ns=earshot-vm
cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  [ -n "${player:-}" ] && kill "$player" 2>/dev/null && wait "$player" 2>/dev/null
  # A sender never told to go: socat ends, and its writer once the fifo opens.
  [ -n "${sender:-}" ] && kill "$sender" 2>/dev/null && { echo >go & } 2>/dev/null
  ip netns del $ns 2>/dev/null
  ip link del es-vm0 2>/dev/null
}
trap cleanup EXIT
if ! ip link add es-vm0 type veth peer name es-vm1 2>/dev/null; then
  ko=$(find "$vm_cache" -path "*/lib/modules/$(uname -r)/*/veth.ko*" 2>/dev/null | head -1)
  [ -n "$ko" ] || fail "no veth in the guest kernel and no veth.ko under $vm_cache"
  case "$ko" in *.xz) xz -dc "$ko" >veth.ko ;; *) cp "$ko" veth.ko ;; esac
  insmod veth.ko || fail "insmod $ko failed"
  ip link add es-vm0 type veth peer name es-vm1 || fail "cannot create a veth pair"
fi
ip netns add $ns || fail "ip netns add"
ip link set es-vm1 netns $ns
ip addr add 10.203.0.1/24 dev es-vm0
ip link set es-vm0 up
nsenter --net=/var/run/netns/$ns ip addr add 10.203.0.2/24 dev es-vm1
nsenter --net=/var/run/netns/$ns ip link set es-vm1 up
nsenter --net=/var/run/netns/$ns ip link set lo up

cat >earshot.yaml <<EOF
web:
  listen_address: "127.0.0.1:$port"
harvest:
  interval: 200ms
capture:
  tiers: $tiers
  procfs_interval: 200ms
correlation:
  grace: 1s
events:
  file: "$PWD/events.json"
EOF

start_earshot "$bin" $port

scrape
echo "--- hooks"
grep '^earshot_hook_attached' metrics.txt
[ "$(metric earshot_hook_attached "hook=\"$want_hook\"")" = 1 ] || fail "hook $want_hook not attached"
if [ "$mode" = lower ]; then
  [ "$(metric earshot_hook_attached 'hook="fentry_snd_pcm"')" = 0 ] || fail "fentry attached although disabled"
  [ "$(metric earshot_hook_attached 'hook="tracepoint_open"')" = 1 ] || fail "syscall tier not attached"
else
  syscall_hooks=$(metric earshot_hook_attached 'hook="tracepoint_(accept|open|close|read)"')
  [ "$syscall_hooks" = 0 ] || fail "syscall tracepoints attached beside a kernel-level tier"
fi
[ "$(metric earshot_hook_attached 'hook="fexit_accept"')" = 1 ] || fail "fexit_accept not attached"

# 1. arecord while aplay plays; another process sends 200 x 1000 bytes
# (UDP, 1028 bytes a packet at LOCAL_OUT) to the namespace meanwhile.
aplay -q -D hw:Loopback,0 -t raw -f S16_LE -r $rate -c 1 -d $((seconds + 5)) /dev/urandom &
player=$!
# socat starts now and sends once told to: under emulation on a busy host
# starting a process can take seconds, which must not eat into the capture.
# The 200000 bytes come from a shell builtin for the same reason.
mkfifo go
{
  read -r _ <go
  printf '%*s' 200000 ''
} | socat -u -b 1000 - UDP-SENDTO:10.203.0.2:9 &
sender=$!
sleep 0.5
recording_start=$(date +%s.%N)
arecord -q -D hw:Loopback,1 -d $seconds -f S16_LE -r $rate -c 1 out.wav &
recorder=$!
# socat sends while the capture runs: arecord too can take more than a
# second to start, so wait for its substream to run.
for _ in $(seq 1 100); do
  grep -qs 'state: RUNNING' /proc/asound/card"$card"/pcm1c/sub*/status && break
  sleep 0.1
done
grep -qs 'state: RUNNING' /proc/asound/card"$card"/pcm1c/sub*/status || fail "arecord's capture is not running after 10 s"
# The procfs tier learns that frames flow by polling, late when the guest
# is slow: socat goes once earshot has counted arecord's first frames.
for _ in $(seq 1 50); do
  scrape
  [ "$(metric earshot_capture_frames_total 'process="arecord"')" != 0 ] && break
  sleep 0.2
done
echo go >go
wait $sender || fail "socat send failed"
sender=
wait $recorder || fail "arecord failed"
# Under emulation on a busy host arecord can hold the device well past its
# 3 s of frames: capture time may reach what arecord ran, not more.
recording_wall=$(awk -v a="$recording_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
kill $player 2>/dev/null
wait $player 2>/dev/null
player=
wrote=$((($(stat -c %s out.wav) - 44) / 2))

# 2. a process that opens the capture node, sends 100 x 1000 bytes while it
# holds it, and never reads.
python3 - "$node" <<'EOF' || fail "the open-without-reading process failed"
import os, socket, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
time.sleep(0.7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(100):
    s.sendto(b"\0" * 1000, ("10.203.0.2", 9))
time.sleep(0.8)
os.close(fd)
EOF
# 3. a process that opens the capture node, never reads and sends nothing:
# its session (open to close, zero frames) must be quiet.
cp "$(command -v python3)" ./silent-mic
./silent-mic - "$node" <<'EOF' || fail "the silent opener failed"
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
time.sleep(1.0)
os.close(fd)
EOF
wait_for_session silent-mic
scrape

echo "--- captures"
grep -E '^earshot_capture_(opens_total|frames_total|seconds_total|active)' metrics.txt
echo "--- egress during capture"
grep '^earshot_egress_capture_bytes_total' metrics.txt
echo "--- events"
grep -E '"capture_(open|close)"' events.json
echo "--- earshot's capture log (every tier's open, before de-duplication shows in the metrics)"
grep -E 'capture (open|close)|hook not attached' earshot.log

opens=$(metric earshot_capture_opens_total 'process="arecord"')
frames=$(metric earshot_capture_frames_total 'process="arecord"')
secs=$(metric earshot_capture_seconds_total 'process="arecord"')
echo "arecord wrote $wrote frames; earshot: opens=$opens frames=$frames seconds=$secs"
[ "$opens" = 1 ] || fail "arecord: $opens capture opens, want 1 (summed over devices)"
within "$frames" "$(awk -v w="$wrote" 'BEGIN { print w * 0.98 }')" "$(awk -v w="$wrote" 'BEGIN { print w * 1.02 }')" ||
  fail "arecord: earshot counted $frames frames, arecord wrote $wrote (not within 2%)"
secs_min=$(awk -v s="$seconds" 'BEGIN { print s - 0.6 }')
secs_max=$(awk -v w="$recording_wall" -v s="$seconds" 'BEGIN { print (w + 0.2 > s + 0.8 ? w + 0.2 : s + 0.8) }')
echo "arecord ran ${recording_wall} s; capture time may be ${secs_min} to ${secs_max} s"
within "$secs" "$secs_min" "$secs_max" || fail "arecord: $secs s of capture, want about $seconds (at most ${secs_max})"
tier=$(jq -r 'select(.event == "capture_open" and .process == "arecord") | .tier' events.json | sort -u | tr '\n' ' ')
[ "$tier" = "$want_tier " ] || fail "arecord's capture_open came from tier(s) '$tier', want $want_tier"

quiet='process="python3[.0-9]*"'
qopens=$(metric earshot_capture_opens_total "$quiet")
qframes=$(metric earshot_capture_frames_total "$quiet")
echo "open-without-reading: opens=$qopens frames=$qframes"
[ "$qopens" = 1 ] || fail "open-without-reading: $qopens opens, want 1"
[ "$qframes" = 0 ] || fail "open-without-reading: $qframes frames, want 0"

silent=$(jq -c 'select(.event == "session" and .process == "silent-mic") | {frames, verdict}' events.json)
echo "silent opener's session: $silent"
[ "$silent" = '{"frames":0,"verdict":"quiet"}' ] || fail "silent opener: session $silent, want one with 0 frames, quiet"
[ "$(metric earshot_capture_sessions_total 'process="silent-mic",verdict="quiet"')" = 1 ] ||
  fail "silent opener: earshot_capture_sessions_total{verdict=quiet} is not 1"

other=$(metric earshot_egress_capture_bytes_total 'process="socat".*window="other"')
self=$(metric earshot_egress_capture_bytes_total "$quiet.*window=\"self\"")
echo "egress during capture: socat other=$other (want 200x1028), python self=$self (want 100x1028)"
within "$other" 200000 $((200 * 1028 + 2000)) || fail "socat's bytes during arecord's capture: $other in window other"
within "$self" 100000 $((100 * 1028 + 2000)) || fail "the capturing process's own bytes: $self in window self"
# 4. a server accepts a TCP connection from the namespace and sends 300000
# bytes on it: without an accept hook they would be unattributed.
cp "$(command -v python3)" ./acceptor
./acceptor - <<'EOF' &
import socket
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("10.203.0.1", 19800))
ls.listen(1)
conn, _ = ls.accept()
conn.sendall(b"\0" * 300000)
conn.close()
EOF
acceptor=$!
received=$(nsenter --net=/var/run/netns/$ns python3 - <<'EOF'
import socket, time
for _ in range(50):
    try:
        s = socket.create_connection(("10.203.0.1", 19800))
        break
    except OSError:
        time.sleep(0.1)
n = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    n += len(d)
print(n)
EOF
)
wait $acceptor || fail "the accepting server failed"
[ "$received" = 300000 ] || fail "the client received '$received' bytes, want 300000"
# Polled, not a fixed wait: under emulation a harvest (200 ms) can come late.
for _ in $(seq 50); do
  scrape
  accepted=$(metric earshot_egress_bytes_total 'process="acceptor"')
  within "$accepted" 300000 330000 && break
  sleep 0.2
done
echo "accepted connection: acceptor sent $accepted bytes (want 300000 plus headers)"
within "$accepted" 300000 330000 || grep -E '^earshot_(egress_bytes_total|unattributed_egress|unaccounted_egress|events_lost)' metrics.txt
within "$accepted" 300000 330000 || fail "bytes on the accepted connection: $accepted counted for acceptor"
echo "ok ($mode tiers)"
