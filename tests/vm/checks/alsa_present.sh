#!/bin/bash
# The guest kernel exposes ALSA capture devices: every pcmC*D*c in sysfs has a
# readable dev number and a matching character node in /dev/snd.
set -u
shopt -s nullglob
fail() {
  echo "FAIL: $*"
  exit 1
}

captures=(/sys/class/sound/pcmC*D*c)
[ ${#captures[@]} -gt 0 ] || fail "no /sys/class/sound/pcmC*D*c (is ALSA loaded?)"
for dir in "${captures[@]}"; do
  name=$(basename "$dir")
  dev=$(cat "$dir/dev") || fail "$dir/dev not readable"
  node=/dev/snd/$name
  [ -c "$node" ] || fail "$node is not a character device"
  node_dev=$((0x$(stat -c %t "$node"))):$((0x$(stat -c %T "$node")))
  [ "$node_dev" = "$dev" ] || fail "$node is $node_dev, sysfs says $dev"
  echo "ok: $node $dev ($(cat "$dir/device/id" 2>/dev/null || echo '?'))"
done
echo "${#captures[@]} capture device(s)"
