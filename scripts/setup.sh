#!/usr/bin/env bash
# Installs everything earshot needs to build and test on Debian 12 (bookworm),
# as root. Idempotent: when everything is present it only checks and returns.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (installs packages, loads BPF)" >&2
  exit 1
fi
if ! grep -q 'VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "setup: warning: written for Debian 12 (bookworm); continuing" >&2
fi

# libbpf >= 1.3 (netfilter programs) and bpftool 7.x come from backports.
backports=/etc/apt/sources.list.d/earshot-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/ /etc/apt/sources.list; then
  cat >"$backports" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

packages=(
  build-essential cmake ninja-build pkg-config git
  clang-19 llvm-19 libclang-rt-19-dev libelf-dev zlib1g-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libasound2-dev alsa-utils
  pulseaudio pulseaudio-utils libpulse-dev
  pipewire pipewire-bin wireplumber libpipewire-0.3-dev
  iproute2 nftables iperf3 socat procps util-linux kmod curl jq python3
  busybox-static qemu-system-x86 xz-utils cpio
  g++-aarch64-linux-gnu qemu-system-arm
)
backport_packages=(libbpf-dev bpftool)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
libbpf_ok=0
if dpkg --compare-versions "$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || echo 0)" ge 1:1.3 &&
  command -v bpftool >/dev/null && bpftool version >/dev/null 2>&1; then
  libbpf_ok=1
fi

if [ ${#missing[@]} -gt 0 ] || [ $libbpf_ok -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  [ ${#missing[@]} -gt 0 ] && apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ $libbpf_ok -eq 0 ] && apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backport_packages[@]}"
fi

# Prometheus + promtool for the e2e lane, unpacked (not installed) so no
# system service starts. Kept outside the source tree, reused when present.
prom_dir=${EARSHOT_DEPS_DIR:-/var/cache/earshot}/prometheus
if [ ! -x "$prom_dir/usr/bin/prometheus" ] || [ ! -x "$prom_dir/usr/bin/promtool" ]; then
  mkdir -p "$prom_dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # A fresh machine may have no package lists yet: update once and retry.
  (
    cd "$tmp"
    if ! apt-get download -qq prometheus >/dev/null 2>&1; then
      apt-get update -qq
      apt-get download -qq prometheus
    fi
  )
  dpkg-deb -x "$tmp"/prometheus_*.deb "$prom_dir"
fi

# The arm64 sysroot, which is also the arm64 guest's userland: Debian's arm64
# packages unpacked (not installed) with a private apt state, so the
# machine's own packages and architectures stay as they are. Checks a stamp
# and returns when it is current.
bash "$(dirname "$0")/cross/arm64-root.sh" >/dev/null

# bpffs is not always mounted at boot; the kernel tests and pinning need it.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing

echo "setup: dependencies present (libbpf $(dpkg-query -W -f='${Version}' libbpf-dev), $(bpftool version | head -1))"
