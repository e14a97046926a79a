#!/bin/bash
# syscall_tier_choice.sh EARSHOT_BIN
# Beside a kernel-level capture tier the syscall tracepoints, which slow
# every system call of every process, are left out (earshot_capture.sh
# kernel checks that); capture.extra_devices, nodes the ALSA tiers do not
# see, brings them back. Read from `earshot --check-config`, which attaches
# every hook and detaches them again.
set -u
bin=${1:?usage: syscall_tier_choice.sh EARSHOT_BIN}
fail() {
  echo "FAIL: $*"
  exit 1
}
[ -x "$bin" ] || fail "$bin missing (build target earshot)"
mknod mic c 1 7 || fail "mknod"
printf 'capture: {sysfs: false, tiers: [fentry, syscalls], extra_devices: [%s/mic]}\n' "$PWD" >extra.yaml
"$bin" --check-config --config.file extra.yaml 2>/dev/null >hooks.txt
grep -E '^ *(fentry_snd_pcm|fexit_accept|tracepoint_)' hooks.txt
grep -q '^ *fentry_snd_pcm  *attached' hooks.txt || fail "fentry_snd_pcm did not attach"
grep -q '^ *fexit_accept  *attached' hooks.txt || fail "fexit_accept did not attach"
! grep -q 'tracepoint_accept' hooks.txt || fail "a syscall tracepoint for accept() is listed"
for hook in tracepoint_open tracepoint_close tracepoint_read; do
  grep -q "^ *$hook  *attached" hooks.txt || fail "$hook not attached for extra_devices"
done
echo "ok"
