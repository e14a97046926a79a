#!/bin/bash
# boot.sh [--kernel-env FILE] [--timeout S] [--check-timeout S]
#         RUN_SH CACHE_DIR RESULTS_DIR BUILD_DIR MANIFEST GUEST_CHECKS
# A vm row's fixture: boots the row's guest once (scripts/vm/run.sh, kernel
# from FILE, default scripts/vm/kernel.env) and runs every check in MANIFEST
# there; report.sh then turns each check's result into its own ctest.
# --timeout is what one boot may take, all checks included (run.sh retries a
# boot that gave no result once); --check-timeout is one check's limit.
# Exits 0 when the guest ran the list (whatever the checks said), 77 when
# the guest could not run, 1 when the runner itself broke.
set -u
run_args=()
boot_timeout=300
check_timeout=60
while [ $# -gt 0 ]; do
  case "$1" in
  --kernel-env) run_args+=(--kernel-env "${2:?}"); shift 2 ;;
  --timeout) boot_timeout=${2:?}; shift 2 ;;
  --check-timeout) check_timeout=${2:?}; shift 2 ;;
  *) break ;;
  esac
done
[ $# -eq 6 ] || {
  echo "usage: boot.sh [--kernel-env FILE] [--timeout S] [--check-timeout S] RUN_SH CACHE_DIR RESULTS_DIR BUILD_DIR MANIFEST GUEST_CHECKS" >&2
  exit 1
}
run_sh=$1 cache=$2 results=$3 build=$4 manifest=$5 guest_checks=$6

mkdir -p "$results"
# Results of an earlier run must never be reported as this run's: every
# file the checks left (NAME.status, NAME.log, and what they keep besides).
find "$results" -maxdepth 1 -type f ! -name '.*' -delete
# The check scripts live in the source tree: when it is under /tmp (a CI
# clone, a worktree), the guest's own tmpfs would hide it, like the build tree.
source_tree=$(cd "$(dirname "$guest_checks")/../.." && pwd)
start=$SECONDS
"$run_sh" "${run_args[@]}" --timeout "$boot_timeout" --cache "$cache" --bind "$source_tree" --bind "$build" \
  "$results" -- "$guest_checks" "$manifest" "$results" "$check_timeout"
status=$?
echo "vm-boot: $((SECONDS - start))s for the row, boots included"
[ $status -eq 77 ] && exit 77
if [ $status -ne 0 ]; then
  echo "vm-boot: the guest check runner exited with $status"
  exit 1
fi
