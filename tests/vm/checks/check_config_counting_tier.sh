#!/bin/bash
# check_config_counting_tier.sh EARSHOT_BIN netfilter|cgroup_skb OUTPUT_FILE
# `earshot --check-config` on this kernel, with a config that leaves the
# counting hooks to earshot (no kernel.disabled_hooks), attaches the tier
# expected here: netfilter at LOCAL_OUT (Linux 6.4+), or cgroup_skb egress
# with both netfilter hooks NOT attached, each with the kernel's reason (not
# the config's). The whole output is printed and kept in OUTPUT_FILE (the
# results dir) for people to quote.
set -u
bin=${1:?usage: check_config_counting_tier.sh EARSHOT_BIN netfilter|cgroup_skb OUTPUT_FILE}
want=${2:?}
out=${3:?}
fail() {
  echo "FAIL: $*"
  exit 1
}
[ -x "$bin" ] || fail "$bin missing (build target earshot)"

echo "kernel: $(uname -r)"
printf 'capture: {sysfs: false}\n' >earshot.yaml
echo "--- earshot --check-config (config: $(cat earshot.yaml))"
"$bin" --check-config --config.file earshot.yaml >check-config.txt 2>check-config.err
status=$?
cat check-config.txt
# The last line has no newline of its own.
echo
echo "--- exit status $status; stderr:"
cat check-config.err
{
  echo "\$ uname -r"
  uname -r
  echo "\$ cat earshot.yaml"
  cat earshot.yaml
  echo "\$ earshot --check-config --config.file earshot.yaml"
  cat check-config.txt
  echo
} >"$out" || fail "cannot write $out"
echo "--- saved as $out"

[ $status -eq 0 ] || fail "--check-config exited with $status"
hook_line() { grep -E "^ *$1 " check-config.txt; }
attached() { hook_line "$1" | grep -qE "^ *$1 +attached( |$)"; }
# NOT attached with a reason, and not because the config turned it off.
refused() {
  local line
  line=$(hook_line "$1") || fail "$1 is not listed"
  [[ "$line" =~ ^\ *$1\ +NOT\ attached\ +[^\ ] ]] || fail "$1: want 'NOT attached' with a reason, got: $line"
  [[ "$line" != *"disabled in config"* ]] || fail "$1 is off because of the config, not the kernel: $line"
}
case "$want" in
cgroup_skb)
  attached cgroup_skb_egress || fail "cgroup_skb_egress is not attached: $(hook_line cgroup_skb_egress)"
  refused netfilter_ipv4
  refused netfilter_ipv6
  ;;
netfilter)
  attached netfilter_ipv4 || fail "netfilter_ipv4 is not attached: $(hook_line netfilter_ipv4)"
  attached netfilter_ipv6 || fail "netfilter_ipv6 is not attached: $(hook_line netfilter_ipv6)"
  attached cgroup_skb_egress && fail "cgroup_skb_egress attached beside netfilter"
  ;;
*) fail "the tier must be netfilter or cgroup_skb, not '$want'" ;;
esac
# Destinations are named from DNS answers on every kernel: at tcx ingress
# (6.6+) or at the root cgroup's ingress.
attached tcx_dns_ingress || attached cgroup_dns_ingress ||
  fail "no DNS reader attached: $(hook_line tcx_dns_ingress); $(hook_line cgroup_dns_ingress)"
echo "ok: $want counts on $(uname -r)"
