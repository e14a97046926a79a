#!/bin/bash
# camera_vivid.sh EARSHOT_BIN STREAM_BIN fentry|lsm|syscalls|frames_refused VM_CACHE_DIR
# The real earshot daemon in the guest, on a real V4L2 capture device: the
# kernel's vivid test driver (one instance, its video capture node only),
# loaded here with its dependencies from the unpacked guest kernel (so a
# kernel without vivid skips this check alone, with the reason, and every
# other check keeps its initramfs). earshot finds the node in
# /sys/class/video4linux by itself (VIDIOC_QUERYCAP says it captures);
# earshot-v4l2-stream dequeues N buffers; earshot must count exactly N
# frames for that process on that device, kind camera, one open, the bytes
# the buffers carried in its session, through the expected tier:
#   fentry:   default tiers (fentry_v4l2 must attach and count; no syscall
#             tracepoint is needed for the camera);
#   lsm:      capture.tiers [lsm, syscalls]: BPF LSM attaches (for ALSA) but
#             leaves cameras to the syscall tier, which counts them exactly;
#   syscalls: capture.tiers [syscalls] (VIDIOC_DQBUF at the ioctl tracepoints);
#   frames_refused: default tiers, the frames hook's program refused at load
#             (EARSHOT_TEST_REFUSE_PROGRAMS): fentry_v4l2 steps back and the
#             syscall tier counts exactly.
set -u
bin=${1:?usage: camera_vivid.sh EARSHOT_BIN STREAM_BIN fentry|syscalls VM_CACHE_DIR}
stream_bin=${2:?}
mode=${3:?}
vm_cache=${4:?}
frames=30
port=19738
. "$(dirname "$0")/lib.sh"
[ -x "$stream_bin" ] || fail "$stream_bin missing (build target earshot-v4l2-stream)"
case "$mode" in
fentry) tiers="[fentry, lsm, syscalls, libasound, procfs]" want_tier=fentry want_hook=fentry_v4l2 ;;
lsm) tiers="[lsm, syscalls]" want_tier=syscalls want_hook=tracepoint_read ;;
syscalls) tiers="[syscalls]" want_tier=syscalls want_hook=tracepoint_read ;;
frames_refused)
  # The kernel refuses the frames hook's programs (as a verifier would):
  # fentry_v4l2 must step back and the syscall tier count cameras whole.
  tiers="[fentry, lsm, syscalls, libasound, procfs]" want_tier=syscalls want_hook=tracepoint_read
  export EARSHOT_TEST_REFUSE_PROGRAMS=earshot_fexit_v4l2_ioctl
  ;;
*) fail "mode must be fentry, lsm, syscalls or frames_refused" ;;
esac

# vivid and what it needs, from the unpacked kernel (the guest cannot load
# modules on demand), by each check, and removed again at its exit.
# Whatever this check started goes at exit, on every path: the daemon, then
# the modules it inserted (newest first), so later checks boot-to-end see the
# guest as it was (an extra V4L2 tier would slow every daemon they start).
cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  local i
  for ((i = ${#inserted[@]} - 1; i >= 0; i--)); do
    rmmod "${inserted[$i]}" 2>/dev/null || echo "note: rmmod ${inserted[$i]} failed"
  done
}
inserted=()
trap cleanup EXIT
moddir=$(find "$vm_cache" -maxdepth 4 -type d -path "*/lib/modules/$(uname -r)" 2>/dev/null | head -1)
[ -n "$moddir" ] || fail "no unpacked modules of $(uname -r) under $vm_cache"
declare -A loaded=() module_path=()
# One walk of the tree (over 9p a walk takes seconds): name -> .ko(.xz).
find "$moddir/kernel" -name '*.ko*' >modules.list || fail "cannot list $moddir/kernel"
while IFS= read -r ko; do
  name=${ko##*/}
  name=${name%%.ko*}
  module_path[${name//-/_}]=$ko
done <modules.list
# An empty index would read as "no vivid": a broken walk must fail, never skip.
[ ${#module_path[@]} -gt 100 ] || fail "only ${#module_path[@]} modules found under $moddir/kernel"
# module_file NAME: its .ko(.xz) in the unpacked tree; empty if none.
module_file() { local name=${1//-/_}; echo "${module_path[$name]:-}"; }
# insmod_file KO [PARAMS...]: the guest's insmod wants it uncompressed.
insmod_file() {
  local ko=$1 name
  shift
  name=$(basename "${ko%%.ko*}")
  case "$ko" in *.xz) xz -dc "$ko" >"$name.ko" ;; *) cp "$ko" "$name.ko" ;; esac
  insmod "$name.ko" "$@" && inserted+=("$name")
}
# load_deps KO: every module KO depends on, depth first.
load_deps() {
  local dep name ko
  for dep in $(modinfo -F depends "$1" | tr ',' ' '); do
    name=${dep//-/_}
    [ -n "${loaded[$name]:-}" ] && continue
    loaded[$name]=1
    [ -d "/sys/module/$name" ] && continue
    ko=$(module_file "$name")
    if [ -z "$ko" ]; then
      grep -Eq "/${name//_/[-_]}\.ko$" "$moddir/modules.builtin" 2>/dev/null && continue
      echo "module $dep (needed by $(basename "$1")) is not in $moddir"
      return 1
    fi
    load_deps "$ko" || return 1
    insmod_file "$ko" || { echo "insmod $dep failed"; return 1; }
  done
}
if [ ! -d /sys/module/vivid ]; then
  vivid=$(module_file vivid)
  [ -n "$vivid" ] ||
    skip "kernel $(uname -r) has no vivid module (CONFIG_VIDEO_VIVID): no V4L2 test device"
  load_deps "$vivid" || fail "cannot load vivid's dependencies"
  # One instance with only its video capture node (node_types bit 0).
  insmod_file "$vivid" n_devs=1 node_types=0x1 || fail "insmod vivid n_devs=1 node_types=0x1 failed"
  echo "loaded: ${!loaded[*]} vivid"
fi
node=
for dir in /sys/class/video4linux/video*; do
  [ -e "$dir" ] || continue
  grep -q vivid "$dir/name" 2>/dev/null && node=/dev/$(basename "$dir") && break
done
[ -n "$node" ] || fail "vivid loaded but no video node in /sys/class/video4linux"
[ -c "$node" ] || fail "$node is not a character device (devtmpfs?)"
label=$(basename "$node")
echo "vivid: $node ($(cat /sys/class/video4linux/$label/dev)), $(ls /sys/class/video4linux | tr '\n' ' ')"

cat >earshot.yaml <<EOF2
web:
  listen_address: "127.0.0.1:$port"
harvest:
  interval: 200ms
capture:
  tiers: $tiers
correlation:
  grace: 1s
  idle_gap: 1s
events:
  file: "$PWD/events.json"
EOF2
start_earshot "$bin" $port
scrape
echo "--- hooks"
grep -E '^earshot_hook_attached\{hook="(fentry_v4l2|fexit_v4l2_frames|lsm_file_open|tracepoint_(open|close|read))"' metrics.txt
[ "$(metric earshot_hook_attached "hook=\"$want_hook\"")" = 1 ] || fail "hook $want_hook not attached"
if [ "$mode" = lsm ]; then
  [ "$(metric earshot_hook_attached 'hook="lsm_file_open"')" = 1 ] || fail "lsm_file_open not attached"
fi
if [ "$mode" = frames_refused ]; then
  [ "$(metric earshot_hook_attached 'hook="fexit_v4l2_frames"')" = 0 ] || fail "fexit_v4l2_frames attached although refused"
  [ "$(metric earshot_hook_attached 'hook="fentry_v4l2"')" = 0 ] || fail "fentry_v4l2 stayed attached without its frames hook"
  grep -q 'fexit_v4l2_frames.*refused\|refused.*fexit_v4l2_frames\|hook=fexit_v4l2_frames' earshot.log ||
    fail "earshot's log does not say why fexit_v4l2_frames is not attached"
fi

# The streamer, under a name of its own.
cp "$stream_bin" ./es-cam-stream
./es-cam-stream --hold-ms 300 stream "$node" $frames >stream.out 2>&1 || { cat stream.out; fail "streaming failed"; }
cat stream.out
streamed=$(sed -n 's/^streamed frames=\([0-9]*\) bytes=\([0-9]*\)$/\1/p' stream.out)
bytes=$(sed -n 's/^streamed frames=\([0-9]*\) bytes=\([0-9]*\)$/\2/p' stream.out)
[ "$streamed" = "$frames" ] || fail "the streamer dequeued '$streamed' frames, want $frames"
wait_for_session es-cam-stream
scrape
echo "--- captures"
grep -E '^earshot_capture_(opens_total|frames_total|seconds_total|active)' metrics.txt
echo "--- events"
grep -E '"capture_(open|close)"|"session"' events.json

who="process=\"es-cam-stream\".*device=\"$label\".*kind=\"camera\""
opens=$(metric earshot_capture_opens_total "$who")
counted=$(metric earshot_capture_frames_total "$who")
active=$(metric earshot_capture_active "$who")
echo "streamer dequeued $streamed frames ($bytes bytes); earshot: opens=$opens frames=$counted active=$active"
[ "$opens" = 1 ] || fail "opens $opens, want 1"
[ "$counted" = "$frames" ] || fail "earshot counted $counted frames for es-cam-stream on $label, want exactly $frames"
[ "$active" = 0 ] || fail "still active after the close"
[ "$(metric earshot_capture_opens_total 'kind="microphone"')" = 0 ] || fail "the camera counted as a microphone"
tier=$(jq -r 'select(.event == "capture_open" and .process == "es-cam-stream") | .tier' events.json | sort -u | tr '\n' ' ')
[ "$tier" = "$want_tier " ] || fail "the open came from tier(s) '$tier', want $want_tier"
session=$(jq -c 'select(.event == "session" and .process == "es-cam-stream") | {kind, device, frames, video_bytes, verdict}' events.json)
echo "session: $session"
[ "$session" = "{\"kind\":\"camera\",\"device\":\"$label\",\"frames\":$frames,\"video_bytes\":$bytes,\"verdict\":\"quiet\"}" ] ||
  fail "session $session, want kind camera, $frames frames, $bytes video bytes, quiet"
echo "ok ($mode: $counted of $frames frames counted)"
