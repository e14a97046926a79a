#!/usr/bin/env bash
# run.sh [--timeout S] [--cache DIR] [--kernel-env FILE] [--bind DIR]... RESULTS_DIR -- COMMAND...
# Boots a pinned Debian kernel (by default scripts/vm/kernel.env's: ALSA,
# module BTF, BPF LSM) under qemu TCG, with the host's root shared read-only
# and RESULTS_DIR shared writable, and runs COMMAND inside as root, in the
# host's current directory.
#
# In the guest: RESULTS_DIR is writable at /results and at its host path;
# each --bind DIR (e.g. a build tree under /tmp, which the guest's own tmpfs
# hides) is visible read-only at its host path; EARSHOT_VM=1 is set. The
# guest has no network device.
#
# Exit status: COMMAND's, or 77 when the guest could not be started or gave
# no completion marker after one retry (the reason is printed). The guest's
# console goes to stdout and to RESULTS_DIR/.vm/console.N.log.
#   --timeout S  seconds a boot may take, all included (default 100)
#   --cache DIR  kernel/initramfs cache for prepare.sh
#                (default $EARSHOT_VM_CACHE, else /var/cache/earshot/vm)
#   --kernel-env FILE  the guest kernel to boot, a kernel.env-like file
#                (default scripts/vm/kernel.env)
#
# A FILE with VM_ARCH=arm64 boots qemu-system-aarch64 -machine virt instead:
# its root is the arm64 root tree prepare.sh names (VM_ROOT), shared
# read-only as the guest's root, and the host's root is a second share from
# which RESULTS_DIR, the --bind directories and the current directory come.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=100
cache=${EARSHOT_VM_CACHE:-/var/cache/earshot/vm}
kernel_env=$here/kernel.env
binds=()

usage() {
  echo "usage: run.sh [--timeout S] [--cache DIR] [--kernel-env FILE] [--bind DIR]... RESULTS_DIR -- COMMAND..." >&2
  exit 2
}
skip() {
  echo "vm-run: cannot run the guest: $*" >&2
  [ -n "${state:-}" ] && [ -d "$state" ] && echo "$*" >"$state/skip_reason"
  exit 77
}

while [ $# -gt 0 ]; do
  case "$1" in
  --timeout) timeout_s=${2:?}; shift 2 ;;
  --cache) cache=${2:?}; shift 2 ;;
  --kernel-env) kernel_env=${2:?}; shift 2 ;;
  --bind) binds+=("$(cd "${2:?}" && pwd)") || usage; shift 2 ;;
  --) usage ;;
  -*) usage ;;
  *) break ;;
  esac
done
[ $# -ge 3 ] && [ "$2" = "--" ] || usage
mkdir -p "$1" || usage
results=$(cd "$1" && pwd)
shift 2

state="$results/.vm"
rm -rf "$state"
mkdir -p "$state"

prepare_status=0
prepared=$("$here/prepare.sh" --kernel-env "$kernel_env" "$cache" 2>"$state/prepare.log") || prepare_status=$?
cat "$state/prepare.log" >&2
[ $prepare_status -eq 0 ] ||
  skip "preparing the guest kernel failed: $(grep 'vm-prepare:' "$state/prepare.log" | tail -1)"
VM_KERNEL=$(sed -n 's/^VM_KERNEL=//p' <<<"$prepared")
VM_INITRD=$(sed -n 's/^VM_INITRD=//p' <<<"$prepared")
[ -f "$VM_KERNEL" ] && [ -f "$VM_INITRD" ] || skip "prepare.sh gave no kernel/initrd"
VM_ARCH=$(sed -n 's/^VM_ARCH=//p' <<<"$prepared")
VM_ROOT=$(sed -n 's/^VM_ROOT=//p' <<<"$prepared")

# The machine. thread=single: multi-threaded TCG crashed during boot in 3 of
# 34 x86 boots on this kind of VM, single-threaded in none of 25.
case "${VM_ARCH:-amd64}" in
amd64)
  qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not found (install qemu-system-x86: scripts/setup.sh)"
  machine=(-accel "tcg,thread=single" -cpu max)
  console=ttyS0
  root_share=/
  ;;
arm64)
  qemu=$(command -v qemu-system-aarch64) || skip "qemu-system-aarch64 not found (install qemu-system-arm: scripts/setup.sh)"
  [ -n "$VM_ROOT" ] && [ -x "$VM_ROOT/bin/bash" ] || skip "prepare.sh gave no arm64 root tree (VM_ROOT)"
  # pauth-impdef: the CPU's pointer authentication with an implementation
  # defined algorithm, which TCG computes many times faster than the
  # architected QARMA one; everything else is -cpu max.
  machine=(-machine virt -accel "tcg,thread=single" -cpu "max,pauth-impdef=on")
  console=ttyAMA0
  root_share=$VM_ROOT
  ;;
*) skip "unknown guest architecture '$VM_ARCH'" ;;
esac
# A guest whose root is not the host's reaches the host's files here.
host_share=()
if [ "$root_share" != / ]; then
  host_share=(-virtfs "local,path=/,mount_tag=hostfs,security_model=none,readonly=on,multidevs=remap")
fi

# The job the guest init runs, and where it finds things.
{
  echo '#!/bin/bash'
  printf '%q ' "$@"
  echo
} >"$state/job.sh"
printf '%s\n' "${binds[@]}" >"$state/binds"
# The current directory comes back too when the guest's tmpfs would hide it.
case "$PWD/" in
/tmp/* | /run/* | /dev/shm/*) echo "$PWD" >>"$state/binds" ;;
esac
echo "$results" >"$state/results_path"
echo "$PWD" >"$state/cwd"

boot() {
  local attempt=$1
  rm -f "$state/done" "$state/status" "$state/init_error"
  # --foreground keeps qemu in the caller's process group, so a signal to
  # that group (an interrupted test run) stops the guest too.
  timeout --foreground --kill-after=5 "$timeout_s" "$qemu" \
    "${machine[@]}" -m 2048 -smp 2 \
    -nographic -no-reboot -nic none \
    -kernel "$VM_KERNEL" -initrd "$VM_INITRD" \
    -append "console=$console panic=-1 quiet" \
    -virtfs "local,path=$root_share,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    "${host_share[@]}" \
    -fsdev "local,id=results,path=$results,security_model=none" \
    -device virtio-9p-pci,fsdev=results,mount_tag=results \
    </dev/null 2>&1 |
    sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' | tee "$state/console.$attempt.log"
  local qemu_status=${PIPESTATUS[0]}
  if [ -f "$state/done" ]; then
    return 0
  fi
  if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
    last_failure="no completion marker within ${timeout_s}s (boot or job timed out)"
  elif [ -f "$state/init_error" ]; then
    last_failure="guest init failed: $(cat "$state/init_error")"
  else
    last_failure="qemu exited with status $qemu_status without a completion marker"
  fi
  echo "vm-run: attempt $attempt: $last_failure" >&2
  return 1
}

start=$SECONDS
last_failure=""
if ! boot 1; then
  # An init error (bad job, missing path) repeats the same way: no retry.
  [ -f "$state/init_error" ] && skip "$last_failure"
  boot 2 || skip "$last_failure (after one retry)"
fi
status=$(cat "$state/status" 2>/dev/null)
[[ "$status" =~ ^[0-9]+$ ]] || skip "guest wrote no exit status"
echo "vm-run: job exited with $status after $((SECONDS - start))s" >&2
exit "$status"
