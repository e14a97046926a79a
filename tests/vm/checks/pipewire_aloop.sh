#!/bin/bash
# pipewire_aloop.sh EARSHOT_BIN VM_CACHE_DIR
# PipeWire holding a real ALSA capture device: the snd-aloop loopback's
# capture side (hw:Loopback,1) as a PipeWire source node, aplay feeding the
# playback side, pw-record recording from the node for a few seconds.
# PipeWire and WirePlumber run as in the kernel lane's sound tests (a private
# runtime directory, no D-Bus, no device monitors), from the guest's own
# files (the host's userland over 9p). earshot, with its default tiers, must
# show both sides:
#   - the server's hold: pipewire opened the loopback's capture node and read
#     frames from it through mmap (at least what pw-record got), through the
#     kernel-level tier (fentry);
#   - the listener: pw-record, one capture open through libpipewire, device
#     "pipewire", its frames within 2% (or one PipeWire quantum) of what it
#     wrote, a quiet session with pipewire as via (its pid as via_pid);
#   - the server's session lists pw-record among its clients.
set -u
bin=${1:?usage: pipewire_aloop.sh EARSHOT_BIN VM_CACHE_DIR}
vm_cache=${2:?} # the unpacked guest kernel (for unix_diag.ko)
. "$(dirname "$0")/lib.sh"
port=19739
seconds=3
rate=48000
channels=2
quantum=1024 # PipeWire's default graph quantum, in frames
for tool in pipewire wireplumber pw-cli pw-record pw-link aplay jq; do
  command -v $tool >/dev/null || skip "$tool not installed in the guest's userland (scripts/setup.sh installs it)"
done

card=$(awk '$2 == "[Loopback" { print $1; exit }' /proc/asound/cards)
[ -n "$card" ] || fail "no Loopback card in /proc/asound/cards (snd-aloop)"
node=pcmC${card}D1c

run=$PWD/pw
mkdir -p "$run/run" "$run/config/wireplumber/main.lua.d" "$run/config/wireplumber/bluetooth.lua.d"
chmod 700 "$run/run"
export HOME=$run XDG_RUNTIME_DIR=$run/run XDG_CONFIG_HOME=$run/config XDG_STATE_HOME=$run/state
export DBUS_SESSION_BUS_ADDRESS=disabled: DISPLAY=
# WirePlumber links streams to nodes; nothing of it that needs D-Bus or
# udev may load. The ALSA node is made by hand below, not by the monitor.
cat >"$run/config/wireplumber/main.lua.d/51-earshot-vm.lua" <<'EOF'
default_access.properties["enable-flatpak-portal"] = false
alsa_monitor.enabled = false
alsa_monitor.properties["alsa.reserve"] = false
v4l2_monitor.enabled = false
libcamera_monitor.enabled = false
EOF
echo 'bluez_monitor.enabled = false' >"$run/config/wireplumber/bluetooth.lua.d/51-earshot-vm.lua"

# via_pid comes from the kernel's Unix socket table (sock_diag, the
# unix_diag module). A distribution's kernel loads it on demand; this
# guest's initramfs cannot, so the check loads it from the unpacked kernel.
inserted_unix_diag=
if [ ! -d /sys/module/unix_diag ]; then
  ko=$(find "$vm_cache" -path "*/lib/modules/$(uname -r)/*/unix_diag.ko*" 2>/dev/null | head -1)
  [ -n "$ko" ] || fail "no unix_diag in the guest kernel and no unix_diag.ko under $vm_cache"
  case "$ko" in *.xz) xz -dc "$ko" >unix_diag.ko ;; *) cp "$ko" unix_diag.ko ;; esac
  insmod unix_diag.ko || fail "insmod $ko failed"
  inserted_unix_diag=1
fi

cleanup() {
  [ -n "${recorder:-}" ] && kill "$recorder" 2>/dev/null && wait "$recorder" 2>/dev/null
  [ -n "${player:-}" ] && kill "$player" 2>/dev/null && wait "$player" 2>/dev/null
  [ -n "${session_manager:-}" ] && kill "$session_manager" 2>/dev/null && wait "$session_manager" 2>/dev/null
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  [ -n "$inserted_unix_diag" ] && rmmod unix_diag 2>/dev/null
}
trap cleanup EXIT
show_logs() {
  echo "--- links"
  pw-link -l 2>&1 | head -20
  echo "--- nodes"
  pw-cli ls Node 2>&1 | grep -E 'id [0-9]|node.name|media.class' | head -40
  echo "--- pipewire (tail)"
  tail -30 pipewire.log
  echo "--- wireplumber (tail)"
  tail -30 wireplumber.log
  echo "--- pw-record"
  cat pw-record.log 2>/dev/null
  echo "--- the loopback's capture substreams"
  grep -H . /proc/asound/card"$card"/pcm1c/sub0/{status,hw_params} 2>&1
}

cat >earshot.yaml <<EOF
web:
  listen_address: "127.0.0.1:$port"
harvest:
  interval: 200ms
correlation:
  grace: 1s
  idle_gap: 2s
events:
  file: "$PWD/events.json"
EOF
start_earshot "$bin" $port
scrape
echo "--- hooks"
grep -E '^earshot_hook_attached\{hook="(fentry_snd_pcm|uprobe_libpipewire)"' metrics.txt
[ "$(metric earshot_hook_attached 'hook="fentry_snd_pcm"')" = 1 ] || fail "fentry_snd_pcm not attached"
[ "$(metric earshot_hook_attached 'hook="uprobe_libpipewire"')" = 1 ] || fail "uprobe_libpipewire not attached"

# The player first: snd-aloop's capture side takes the playback side's format.
aplay -q -D hw:Loopback,0 -t raw -f S16_LE -r $rate -c $channels -d $((seconds + 60)) /dev/urandom &
player=$!

PIPEWIRE_DEBUG=3 pipewire >pipewire.log 2>&1 &
server=$!
for _ in $(seq 1 100); do
  [ -S "$XDG_RUNTIME_DIR/pipewire-0" ] && break
  kill -0 $server 2>/dev/null || { show_logs; fail "pipewire exited"; }
  sleep 0.2
done
[ -S "$XDG_RUNTIME_DIR/pipewire-0" ] || { show_logs; fail "pipewire made no socket in 20 s"; }
wireplumber >wireplumber.log 2>&1 &
session_manager=$!
pw-cli create-node adapter "{ factory.name=api.alsa.pcm.source node.name=earshot-loopback
  media.class=Audio/Source api.alsa.path=\"hw:Loopback,1\" audio.format=S16LE audio.rate=$rate
  audio.channels=$channels audio.position=[FL FR] object.linger=true }" >create-node.out 2>&1 ||
  { cat create-node.out; show_logs; fail "pw-cli create-node (an ALSA source on hw:Loopback,1) failed"; }
for _ in $(seq 1 100); do
  pw-link -o 2>/dev/null | grep -q '^earshot-loopback:capture_FL' && break
  kill -0 $session_manager 2>/dev/null || { show_logs; fail "wireplumber exited"; }
  sleep 0.2
done
pw-link -o | grep -q '^earshot-loopback:capture_FL' || { show_logs; fail "the ALSA source got no ports in 20 s"; }
pipewire_pid=$server

pw-record --target earshot-loopback --rate $rate --channels $channels --format s16 out.wav >pw-record.log 2>&1 &
recorder=$!
# The recording runs from the moment PipeWire starts the device for it.
for _ in $(seq 1 100); do
  grep -qs 'state: RUNNING' /proc/asound/card"$card"/pcm1c/sub*/status && break
  sleep 0.1
done
grep -qs 'state: RUNNING' /proc/asound/card"$card"/pcm1c/sub*/status || { show_logs; fail "PipeWire did not start the capture device in 10 s"; }
sleep $seconds
kill -INT $recorder
wait $recorder
recorder=
# pw-record writes a 44-byte WAV header, then 2 bytes a sample.
wrote=$((($(stat -c %s out.wav) - 44) / (2 * channels)))
wait_for_session pw-record || fail "no session of pw-record in events.json after it ended"
scrape

echo "--- captures"
grep -E '^earshot_capture_(opens_total|frames_total|seconds_total)' metrics.txt
echo "--- events"
grep -E '"capture_(open|close)"|"session"' events.json

server_opens=$(metric earshot_capture_opens_total "process=\"pipewire\".*device=\"$node\"")
server_frames=$(metric earshot_capture_frames_total "process=\"pipewire\".*device=\"$node\"")
echo "pipewire on $node: opens=$server_opens frames=$server_frames"
[ "$server_opens" -ge 1 ] || fail "no capture open of $node by pipewire"
[ "$server_frames" -gt 0 ] || fail "no frames read from $node by pipewire"
server_tier=$(jq -r --arg n "$node" 'select(.event == "capture_open" and .process == "pipewire" and .device == $n) | .tier' events.json | sort -u | tr '\n' ' ')
[ "$server_tier" = "fentry " ] || fail "pipewire's open of $node came from tier(s) '$server_tier', want fentry"

who='process="pw-record".*device="pipewire"'
opens=$(metric earshot_capture_opens_total "$who")
frames=$(metric earshot_capture_frames_total "$who")
echo "pw-record wrote $wrote frames; earshot: opens=$opens frames=$frames"
[ "$opens" = 1 ] || fail "pw-record: $opens capture opens on device pipewire, want 1"
slack=$(awk -v w="$wrote" -v q=$quantum 'BEGIN { s = w * 0.02; print (s > q ? s : q) }')
# The server read, through mmap, at least what it handed its one client.
[ "$server_frames" -ge "$frames" ] || fail "pipewire read $server_frames frames of $node, fewer than pw-record got ($frames)"
within "$frames" "$(awk -v w="$wrote" -v s="$slack" 'BEGIN { print w - s }')" "$(awk -v w="$wrote" -v s="$slack" 'BEGIN { print w + s }')" ||
  fail "pw-record: earshot counted $frames frames, pw-record wrote $wrote (not within $slack)"
tier=$(jq -r 'select(.event == "capture_open" and .process == "pw-record") | .tier' events.json | sort -u | tr '\n' ' ')
[ "$tier" = "libpipewire " ] || fail "pw-record's capture_open came from tier(s) '$tier', want libpipewire"
session=$(jq -c 'select(.event == "session" and .process == "pw-record") | {device, via, via_pid, verdict}' events.json)
echo "pw-record's session: $session"
[ "$session" = "{\"device\":\"pipewire\",\"via\":\"pipewire\",\"via_pid\":$pipewire_pid,\"verdict\":\"quiet\"}" ] ||
  fail "pw-record's session $session, want device pipewire, via pipewire ($pipewire_pid), quiet"

# The server's session (it still holds the device until pipewire stops).
kill $session_manager $server 2>/dev/null
wait $session_manager 2>/dev/null
wait $server 2>/dev/null
session_manager= server=
wait_for_session pipewire || fail "no session of pipewire after it stopped"
clients=$(jq -c --arg n "$node" 'select(.event == "session" and .process == "pipewire" and .device == $n) | [.clients[]?.process]' events.json | tr '\n' ' ')
echo "pipewire's session on $node: clients $clients"
grep -q '"pw-record"' <<<"$clients" || fail "pipewire's session does not list pw-record among its clients: $clients"
echo "ok (pw-record: $frames of $wrote frames counted, via pipewire; pipewire read $server_frames frames of $node)"
