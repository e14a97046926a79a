# Sourced by the vm checks that run the earshot daemon in the guest: how a
# check fails or skips, starts the daemon, scrapes it and reads a metric.
# Each check keeps its own cleanup trap; start_earshot sets $daemon for it.

# fail MESSAGE: the check fails, with the tail of earshot's log if any.
fail() {
  echo "FAIL: $*"
  [ -f earshot.log ] && {
    echo "--- earshot log (tail)"
    tail -20 earshot.log
  }
  exit 1
}

# skip MESSAGE: the check is skipped (ctest's SKIP_RETURN_CODE), with why.
skip() {
  echo "skipped: $*"
  exit 77
}

# start_earshot BIN PORT [ARGS...]: the daemon on ./earshot.yaml, in the
# background ($daemon), its log in earshot.log; returns once it serves
# /metrics on 127.0.0.1:PORT (30 s at most: guests run emulated).
start_earshot() {
  local bin=$1
  earshot_port=$2
  shift 2
  [ -x "$bin" ] || fail "$bin missing (build target earshot)"
  "$bin" --config.file earshot.yaml --log.level debug "$@" >earshot.log 2>&1 &
  daemon=$!
  local _
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$earshot_port/metrics" >/dev/null && return 0
    kill -0 "$daemon" 2>/dev/null || fail "earshot exited early"
    sleep 0.2
  done
  fail "earshot serves no /metrics after 30 s"
}

# scrape: the daemon's /metrics into metrics.txt.
scrape() {
  curl -sf "http://127.0.0.1:$earshot_port/metrics" >metrics.txt || fail "scrape failed"
}

# metric NAME LABEL_REGEX: the sum of the samples of NAME in metrics.txt
# whose label text matches, as an integer when it is one (else 6 decimals).
metric() {
  awk -v name="$1" -v want="$2" '
    index($0, name "{") == 1 || $1 == name {
      labels = $0; sub(/^[^{ ]*/, "", labels); sub(/ [^ ]*$/, "", labels)
      if (labels ~ want) sum += $NF
    }
    END {
      sum += 0
      if (sum == int(sum)) printf "%.0f\n", sum; else printf "%.6f\n", sum
    }' metrics.txt
}

# within VALUE LOW HIGH: true when LOW <= VALUE <= HIGH.
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

# wait_for_session PROCESS: polls events.json (10 s) for PROCESS's session line.
wait_for_session() {
  local _
  for _ in $(seq 1 50); do
    # One answer over all lines: jq -e on a select judges only the last line.
    jq -en --arg p "$1" 'any(inputs; .event == "session" and .process == $p)' events.json \
      >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "no session of $1 in events.json after 10 s"
  return 1
}
