#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds the default and asan presets and the
# arm64 cross-build (only what the vm lane's arm64 guest runs), and runs
# every test lane:
#   default preset: unit, kernel, e2e, vm
#   asan preset:    unit, kernel (less what the asan test preset excludes)
# Unit tests run in parallel. Kernel and e2e tests load BPF programs, start
# daemons and make network namespaces, so they run one at a time. The arm64
# build and then the vm lane (qemu guests, one TCG thread each), and the
# asan build (at low priority), run alongside them from the moment the
# default build exists: the kernel lane mostly waits on paced traffic, so
# they overlap instead of adding up. Their output is shown when they end.
# Lines "=== test.sh [MmSSs]: ..." say when each phase began and ended.
# The last line is a ctest summary line over every run; the exit status is
# non-zero when any build or ctest run failed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
started=$SECONDS
jobs=${EARSHOT_TEST_JOBS:-$(nproc)}
# phase TEXT: a line with the minutes since the start, to see where time goes.
phase() {
  local elapsed=$((SECONDS - started))
  printf '=== test.sh [%dm%02ds]: %s ===\n' $((elapsed / 60)) $((elapsed % 60)) "$1"
}

bash scripts/setup.sh
phase "setup done"
build() {
  cmake --preset "$1"
  cmake --build --preset "$1" --parallel "$jobs"
}

logs=$(mktemp -d)
background=""
asan_build=""
# An interrupted run takes its background jobs (and the guests they booted)
# down with it.
cleanup() {
  [ -n "$background" ] && kill -TERM -- "-$background" 2>/dev/null && wait "$background" 2>/dev/null
  [ -n "$asan_build" ] && kill -TERM -- "-$asan_build" 2>/dev/null && wait "$asan_build" 2>/dev/null
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
summaries=()
failed_runs=0
total=0
failed=0

# run_ctest NAME ARGS...: one ctest run, its output shown and kept so its
# summary line can be repeated at the end.
run_ctest() {
  local name=$1
  shift
  echo
  phase "ctest $*"
  local status=0
  ctest "$@" 2>&1 | tee "$logs/$name.log" || status=$?
  summarize "$name" "$status"
  phase "ctest $* ended"
}

# start_background_vm: in its own process group, the arm64 cross-build (the
# arm64 guest's binaries), then the vm lane; output kept for
# finish_background_vm. The build goes first so the arm64 row finds it;
# both overlap the unit and kernel lanes.
start_background_vm() {
  echo
  echo "=== test.sh: arm64 build, then ctest --preset default -L vm (in the background) ==="
  setsid bash -c '
    log=$0
    { cmake --preset arm64 && cmake --build --preset arm64 --parallel 1; } >"$log.build" 2>&1
    echo $? >"$log.build.status"
    echo "arm64 build ended after ${SECONDS}s" >>"$log.build"
    ctest --preset default -L vm --parallel 1 >"$log" 2>&1
    echo $? >"$log.status"
    echo "vm lane ended ${SECONDS}s after the default build" >>"$log"' "$logs/default-vm.log" &
  background=$!
}

finish_background_vm() {
  wait "$background" || true
  background=""
  local build_status
  build_status=$(cat "$logs/default-vm.log.build.status" 2>/dev/null || echo 1)
  echo
  echo "=== test.sh: background arm64 build (exit $build_status) ==="
  if [ "$build_status" -ne 0 ]; then
    cat "$logs/default-vm.log.build"
    failed_runs=$((failed_runs + 1))
    summaries+=("$(printf '%-24s %s' "arm64-build:" "failed (exit $build_status)")")
  else
    tail -3 "$logs/default-vm.log.build"
  fi
  echo
  echo "=== test.sh: background ctest --preset default -L vm ==="
  cat "$logs/default-vm.log"
  summarize default-vm "$(cat "$logs/default-vm.log.status" 2>/dev/null || echo 1)"
}

# summarize NAME STATUS: counts NAME's ctest summary line into the totals.
summarize() {
  local name=$1 status=$2
  local summary
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/$name.log" | tail -1 || true)
  if [ -z "$summary" ]; then
    if grep -q 'No tests were found' "$logs/$name.log"; then
      summary="no tests"
    else
      summary="no summary (ctest exit $status)"
      [ "$status" -ne 0 ] || status=1
    fi
  else
    local run_failed run_total
    run_failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
    run_total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
    failed=$((failed + run_failed))
    total=$((total + run_total))
  fi
  [ "$status" -ne 0 ] && failed_runs=$((failed_runs + 1))
  summaries+=("$(printf '%-24s %s' "$name:" "$summary")")
}

# start_background_asan_build: the asan preset, built at low priority while
# the default kernel lane runs (it mostly waits on paced traffic, and its
# tests keep the CPU first).
start_background_asan_build() {
  echo
  echo "=== test.sh: asan build (in the background, nice 10) ==="
  setsid bash -c '
    log=$0 jobs=$1
    { cmake --preset asan && nice -n 10 cmake --build --preset asan --parallel "$jobs"; } >"$log" 2>&1
    echo $? >"$log.status"' "$logs/asan-build.log" "$jobs" &
  asan_build=$!
}

finish_background_asan_build() {
  wait "$asan_build" || true
  asan_build=""
  local status
  status=$(cat "$logs/asan-build.log.status" 2>/dev/null || echo 1)
  phase "asan build ended (exit $status)"
  if [ "$status" -ne 0 ]; then
    cat "$logs/asan-build.log"
    return 1
  fi
  tail -2 "$logs/asan-build.log"
}

build default
phase "default build done"
start_background_vm
start_background_asan_build
run_ctest default-unit --preset default -L unit --parallel "$jobs"
run_ctest default-kernel-e2e --preset default -L 'kernel|e2e' --parallel 1
if finish_background_asan_build; then
  run_ctest asan-unit --preset asan -L unit --parallel "$jobs"
  run_ctest asan-kernel --preset asan -L kernel --parallel 1
else
  failed_runs=$((failed_runs + 1))
  summaries+=("$(printf '%-24s %s' "asan-build:" "failed: no asan tests ran")")
fi
finish_background_vm

elapsed=$((SECONDS - started))
echo
echo "=== test.sh: summary ==="
printf '%s\n' "${summaries[@]}"
printf 'elapsed %dm%02ds (setup, three builds, five ctest runs)\n' $((elapsed / 60)) $((elapsed % 60))
passed_percent=100
[ "$total" -gt 0 ] && passed_percent=$(((total - failed) * 100 / total))
echo "${passed_percent}% tests passed, ${failed} tests failed out of ${total}"
[ "$failed_runs" -eq 0 ]
