#!/bin/bash
# gtest.sh TEST_BINARY FILTER XML_FILE
# Runs a GoogleTest binary of the host's build tree (e.g. the kernel lane's
# attribution_test) in the guest with --gtest_filter=FILTER; its output is
# this check's log, and the XML report (with each test's recorded figures)
# is kept in XML_FILE. Passes only when every selected test ran and passed;
# skipped (77) when any test skipped itself (its reason is in the log), so a
# kernel that could not run them never shows as passed.
set -u
bin=${1:?usage: gtest.sh TEST_BINARY FILTER XML_FILE}
filter=${2:?}
xml=${3:?}
[ -x "$bin" ] || {
  echo "FAIL: $bin missing (build the kernel lane's tests)"
  exit 1
}
echo "kernel: $(uname -r)"
rm -f "$xml"
start=$SECONDS
"$bin" --gtest_filter="$filter" --gtest_color=no --gtest_output="xml:$xml" 2>&1 | tee gtest.txt
status=${PIPESTATUS[0]}
echo "--- $bin exited with $status after $((SECONDS - start))s"
ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\? from .* ran\..*/\1/p' gtest.txt)
skipped=$(grep -c '^\[  SKIPPED \] .*(' gtest.txt)
if [ "$status" -ne 0 ]; then
  echo "FAIL: $(grep -c '^\[  FAILED  \] .*(' gtest.txt) test(s) failed"
  exit 1
fi
if [ "${ran:-0}" -eq 0 ]; then
  echo "FAIL: no test matched --gtest_filter=$filter"
  exit 1
fi
if [ "$skipped" -gt 0 ]; then
  echo "skipped: $skipped of $ran test(s) skipped themselves (reasons above)"
  exit 77
fi
echo "ok: $ran test(s) passed"
