#!/bin/bash
# report.sh RESULTS_DIR NAME
# One vm check's ctest: prints the log the guest wrote and exits with its
# status (0 passed, 77 skipped, anything else failed). Skipped, never passed,
# when the guest did not run.
set -u
results=$1 name=$2
if [ ! -f "$results/$name.status" ]; then
  if [ -f "$results/.vm/skip_reason" ]; then
    echo "skipped: the vm did not run: $(cat "$results/.vm/skip_reason")"
    exit 77
  fi
  if [ ! -f "$results/.vm/done" ]; then
    echo "skipped: the vm did not run (see test vm_boot)"
    exit 77
  fi
  echo "FAIL: the guest ran but wrote no result for $name"
  exit 1
fi
cat "$results/$name.log"
status=$(cat "$results/$name.status")
case "$status" in
0 | 77) exit "$status" ;;
*)
  echo "check $name exited with $status"
  exit 1
  ;;
esac
