#!/bin/bash
# boot.sh RUN_SH CACHE_DIR RESULTS_DIR BUILD_DIR MANIFEST GUEST_CHECKS
# The vm lane's fixture: boots the guest once (scripts/vm/run.sh) and runs
# every check in MANIFEST there; report.sh then turns each check's result into
# its own ctest. Exits 0 when the guest ran the list (whatever the checks
# said), 77 when the guest could not run, 1 when the runner itself broke.
set -u
run_sh=$1 cache=$2 results=$3 build=$4 manifest=$5 guest_checks=$6

mkdir -p "$results"
# Results of an earlier run must never be reported as this run's.
rm -f "$results"/*.status "$results"/*.log
# The check scripts live in the source tree: when it is under /tmp (a CI
# clone, a worktree), the guest's own tmpfs would hide it, like the build tree.
source_tree=$(cd "$(dirname "$guest_checks")/../.." && pwd)
"$run_sh" --timeout 300 --cache "$cache" --bind "$source_tree" --bind "$build" "$results" -- \
  "$guest_checks" "$manifest" "$results"
status=$?
[ $status -eq 77 ] && exit 77
if [ $status -ne 0 ]; then
  echo "vm-boot: the guest check runner exited with $status"
  exit 1
fi
