#!/bin/bash
# bpf_fentry_loads.sh VM_PROBE_BPF_O
# fentry on snd_pcm_capture_open (through snd_pcm's module BTF) and BPF LSM
# file_open attach in the guest kernel, and both fire when arecord opens a
# capture device.
set -u
fail() {
  echo "FAIL: $*"
  exit 1
}
obj=${1:?usage: bpf_fentry_loads.sh VM_PROBE_BPF_O}
[ -f "$obj" ] || fail "$obj missing (build target vm_guest)"
[ -f /sys/kernel/btf/snd_pcm ] || fail "/sys/kernel/btf/snd_pcm missing: no module BTF for fentry on snd_pcm"
echo "lsm: $(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"

pins=/sys/fs/bpf/vm_probe
maps=${pins}_maps # bpffs refuses names with dots
trap 'rm -rf "$pins" "$maps"' EXIT
bpftool prog loadall "$obj" "$pins" pinmaps "$maps" autoattach || fail "bpftool prog loadall ... autoattach failed"
echo "--- links"
bpftool link show | tee links.txt
grep -q 'attach_type tracing_fentry\|attach_type trace_fentry' links.txt || fail "no fentry link"
grep -q 'attach_type lsm_mac' links.txt || fail "no lsm link"

arecord -q -D hw:Loopback,1 -d 1 -f S16_LE -r 16000 -c 1 /dev/null || fail "arecord failed"

echo "--- counters"
bss=("$maps"/*bss)
bpftool map dump pinned "${bss[0]}" | tee bss.txt
capture_opens=$(sed -n 's/.*"capture_opens": *\([0-9]*\).*/\1/p' bss.txt)
file_opens=$(sed -n 's/.*"file_opens": *\([0-9]*\).*/\1/p' bss.txt)
[ "${capture_opens:-0}" -ge 1 ] || fail "fentry/snd_pcm_capture_open did not fire for arecord"
[ "${file_opens:-0}" -ge 1 ] || fail "lsm/file_open did not fire"
echo "ok: capture_opens=$capture_opens file_opens=$file_opens"
