#!/bin/bash
# boot.sh [--kernel-env FILE] [--timeout S] [--check-timeout S] [--require FILE]...
#         RUN_SH CACHE_DIR RESULTS_DIR BUILD_DIR MANIFEST GUEST_CHECKS
# A vm row's fixture: boots the row's guest once (scripts/vm/run.sh, kernel
# from FILE, default scripts/vm/kernel.env) and runs every check in MANIFEST
# there; report.sh then turns each check's result into its own ctest.
# --timeout is what one boot may take, all checks included (run.sh retries a
# boot that gave no result once); --check-timeout is one check's limit.
# BUILD_DIR is the build tree the checks run from (bound into the guest).
# Each --require FILE (e.g. the arm64 build's earshot) must exist, or the
# row is skipped with that reason.
# Exits 0 when the guest ran the list (whatever the checks said), 77 when
# the guest could not run, 1 when the runner itself broke.
set -u
run_args=()
boot_timeout=300
check_timeout=60
required=()
while [ $# -gt 0 ]; do
  case "$1" in
  --kernel-env) run_args+=(--kernel-env "${2:?}"); shift 2 ;;
  --timeout) boot_timeout=${2:?}; shift 2 ;;
  --check-timeout) check_timeout=${2:?}; shift 2 ;;
  --require) required+=("${2:?}"); shift 2 ;;
  *) break ;;
  esac
done
[ $# -eq 6 ] || {
  echo "usage: boot.sh [--kernel-env FILE] [--timeout S] [--check-timeout S] [--require FILE]... RUN_SH CACHE_DIR RESULTS_DIR BUILD_DIR MANIFEST GUEST_CHECKS" >&2
  exit 1
}
run_sh=$1 cache=$2 results=$3 build=$4 manifest=$5 guest_checks=$6

mkdir -p "$results"
# Results of an earlier run must never be reported as this run's: every
# file the checks left (NAME.status, NAME.log, and what they keep besides).
find "$results" -maxdepth 1 -type f ! -name '.*' -delete
for file in "${required[@]}"; do
  if [ ! -e "$file" ]; then
    # report.sh reads the reason; an earlier run's state must not count.
    rm -rf "$results/.vm"
    mkdir -p "$results/.vm"
    echo "$file is missing (build it first)" | tee "$results/.vm/skip_reason"
    exit 77
  fi
done
# The check scripts live in the source tree: when it is under /tmp (a CI
# clone, a worktree), the guest's own tmpfs would hide it, like the build tree.
source_tree=$(cd "$(dirname "$guest_checks")/../.." && pwd)
start=$SECONDS
# The manifest is this build tree's; the guest runs BUILD_DIR's binaries,
# which may be another tree's (the arm64 rows).
binds=(--bind "$source_tree" --bind "$build")
case "$(dirname "$manifest")/" in
"$build"/*) ;;
*) binds+=(--bind "$(dirname "$manifest")") ;;
esac
"$run_sh" "${run_args[@]}" --timeout "$boot_timeout" --cache "$cache" "${binds[@]}" \
  "$results" -- "$guest_checks" "$manifest" "$results" "$check_timeout"
status=$?
echo "vm-boot: $((SECONDS - start))s for the row, boots included"
[ $status -eq 77 ] && exit 77
if [ $status -ne 0 ]; then
  echo "vm-boot: the guest check runner exited with $status"
  exit 1
fi
