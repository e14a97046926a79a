#!/bin/bash
# arecord captures 3 s from the snd-aloop loopback while aplay feeds it random
# samples: the file holds 3 s of frames (within 2%) and the samples are the
# player's, not silence.
set -u
fail() {
  echo "FAIL: $*"
  exit 1
}
rate=16000
seconds=3

echo "--- arecord -l"
arecord -l || fail "arecord -l failed"
# The card is named Loopback by snd-aloop; playback on device 0 comes out on
# capture device 1.
arecord -l | grep -q '^card [0-9]*: Loopback ' || fail "no Loopback card (snd-aloop)"

aplay -q -D hw:Loopback,0 -t raw -f S16_LE -r $rate -c 1 -d $((seconds + 5)) /dev/urandom &
player=$!
trap 'kill $player 2>/dev/null; wait $player 2>/dev/null' EXIT
sleep 0.5
kill -0 $player 2>/dev/null || fail "aplay into hw:Loopback,0 exited early"

start=$(date +%s.%N)
arecord -q -D hw:Loopback,1 -d $seconds -f S16_LE -r $rate -c 1 out.wav || fail "arecord failed"
end=$(date +%s.%N)

bytes=$(stat -c %s out.wav)
frames=$(((bytes - 44) / 2)) # canonical 44-byte WAV header, 2 bytes a frame
expected=$((rate * seconds))
echo "captured $frames frames (expected $expected) in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
diff=$((frames > expected ? frames - expected : expected - frames))
[ $((diff * 100)) -le $((expected * 2)) ] || fail "$frames frames is not within 2% of $expected"

nonzero=$(tail -c +45 out.wav | tr -d '\000' | wc -c)
echo "$nonzero of $((bytes - 44)) sample bytes are non-zero"
[ "$nonzero" -gt $(((bytes - 44) / 2)) ] || fail "capture is mostly silence: the player's samples did not arrive"
echo "ok"
