#!/bin/bash
# guest_checks.sh MANIFEST RESULTS_DIR [CHECK_TIMEOUT_S]
# Runs in the vm guest: each manifest line is "NAME<TAB>COMMAND"; runs
# COMMAND in a fresh scratch directory and writes RESULTS_DIR/NAME.log (its
# output) and RESULTS_DIR/NAME.status (its exit status; 124 = timed out).
set -u
manifest=${1:?usage: guest_checks.sh MANIFEST RESULTS_DIR [CHECK_TIMEOUT_S]}
results=${2:?}
check_timeout=${3:-60}
# TCG runs the guest many times slower than the host: test programs stretch
# their daemon start timeout by this factor.
export EARSHOT_TEST_SLOWDOWN=${EARSHOT_TEST_SLOWDOWN:-4}

while IFS=$'\t' read -r name command; do
  [ -n "$name" ] || continue
  work=/tmp/vm-check-$name
  mkdir -p "$work"
  start=$SECONDS
  (cd "$work" && timeout --kill-after=5 "$check_timeout" bash -c "$command") >"$results/$name.log" 2>&1 </dev/null
  status=$?
  [ $status -eq 124 ] && echo "TIMEOUT: no result within ${check_timeout}s" >>"$results/$name.log"
  echo "$status" >"$results/$name.status"
  echo "vm-check: $name exited with $status in $((SECONDS - start))s"
done <"$manifest"
