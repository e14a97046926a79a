#!/usr/bin/env bash
# generate.sh [x86|arm64]...   (default: both)
# Regenerates bpf/vmlinux/<arch>/vmlinux.h, the kernel types the BPF
# programs compile against, from Debian's own kernel package of the version
# pinned in scripts/vm/kernel.env (the amd64 package and its arm64 twin).
# Run by hand by a developer, never by the build; commit the headers it
# writes. For each architecture it
#   1. downloads the package with apt-get download, using a private apt state
#      (its own package lists of the suite, VM_KERNEL_SUITE or else
#      bookworm-backports, for that architecture, in a temporary directory):
#      the machine's apt configuration, package lists and dpkg architectures
#      are left as they are;
#   2. unpacks it with dpkg-deb -x (nothing is installed);
#   3. takes the raw .BTF blob out of boot/vmlinuz-* (extract_btf.py: the x86
#      bzImage's payload or an arm64 Image, gzip-compressed or not);
#   4. checks it with `bpftool btf dump file BLOB format c` and writes that
#      output, under a comment naming the package, to the header.
# Needs network access to the Debian archive, bpftool (scripts/setup.sh
# installs it) and zstd (installed here when missing, as root).
# EARSHOT_DEBIAN_MIRROR overrides http://deb.debian.org/debian.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=scripts/vm/kernel.env
. "$root/scripts/vm/kernel.env"
mirror=${EARSHOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${VM_KERNEL_SUITE:-bookworm-backports}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

log() { echo "vmlinux: $*" >&2; }
die() {
  log "$*"
  exit 1
}

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
for arch in "${arches[@]}"; do
  case $arch in
  x86 | arm64) ;;
  *) die "unknown architecture '$arch' (x86 or arm64)" ;;
  esac
done

# Tools. The x86 image's payload is zstd-compressed (CONFIG_KERNEL_ZSTD).
for tool in apt-get dpkg-deb python3 sha256sum; do
  command -v "$tool" >/dev/null || die "missing '$tool'"
done
command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || die "missing bpftool (run scripts/setup.sh)"
export PATH=$PATH:/usr/sbin
[ -r "$keyring" ] || die "missing $keyring (package debian-archive-keyring)"
if ! command -v zstd >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "missing zstd: install it (apt-get install zstd) or run as root"
  log "installing zstd"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zstd >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zstd >&2; } ||
    die "could not install zstd"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"

# generate ARCH: one header.
generate() {
  local arch=$1 deb_arch package
  case $arch in
  x86) deb_arch=amd64 ;;
  arm64) deb_arch=arm64 ;;
  esac
  package=${VM_KERNEL_PACKAGE/-amd64-/-${deb_arch}-}
  local release=${package#linux-image-}
  release=${release%-unsigned}
  local dir=$work/$deb_arch
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts" "$dir/download" "$dir/tree"
  : >"$dir/status"
  echo "deb [arch=$deb_arch signed-by=$keyring] $mirror $suite main" >"$dir/sources.list"
  # apt fetches as _apt when it can write the target directories.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown -R _apt "$dir/lists" "$dir/cache" "$dir/download"
  fi
  local apt=(-qq
    -o "APT::Architecture=$deb_arch" -o "APT::Architectures::=$deb_arch"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::State::Status=$dir/status"
    -o "Dir::Cache=$dir/cache" -o "Dir::Etc::SourceList=$dir/sources.list"
    -o "Dir::Etc::SourceParts=$dir/parts")

  log "$arch: downloading $package=$VM_KERNEL_VERSION ($deb_arch) from $mirror $suite"
  apt-get "${apt[@]}" update >&2 || die "apt-get update of $suite ($deb_arch) failed"
  (cd "$dir/download" && apt-get "${apt[@]}" download "$package:$deb_arch=$VM_KERNEL_VERSION" >&2) ||
    die "apt-get download $package=$VM_KERNEL_VERSION failed: does $suite still carry it? (scripts/vm/kernel.env)"
  local debs=("$dir"/download/*.deb)
  [ -s "${debs[0]}" ] || die "apt-get download produced no .deb"
  local deb=${debs[0]} sha
  sha=$(sha256sum "$deb" | cut -d' ' -f1)

  log "$arch: unpacking $(basename "$deb")"
  dpkg-deb -x "$deb" "$dir/tree"
  local image=$dir/tree/boot/vmlinuz-$release
  [ -f "$image" ] || die "no boot/vmlinuz-$release in $(basename "$deb")"

  python3 "$here/extract_btf.py" "$image" "$dir/vmlinux.btf"
  bpftool btf dump file "$dir/vmlinux.btf" format c >"$dir/vmlinux.h" ||
    die "$arch: bpftool cannot read the BTF taken from $(basename "$image")"
  grep -q '^struct task_struct {' "$dir/vmlinux.h" ||
    die "$arch: the BTF taken from $(basename "$image") has no struct task_struct"

  local out=$root/bpf/vmlinux/$arch/vmlinux.h
  mkdir -p "$(dirname "$out")"
  {
    cat <<EOF
/*
 * Kernel types for earshot's BPF programs, target architecture $arch.
 * Generated by scripts/vmlinux/generate.sh; do not edit. From the BTF of
 * boot/vmlinuz-$release in Debian's package
 *   $package $VM_KERNEL_VERSION ($deb_arch, $suite)
 *   sha256 $sha
 * dumped by $(bpftool version | head -1) (bpftool btf dump file BLOB format c).
 * To regenerate, after bumping scripts/vm/kernel.env:
 *   bash scripts/vmlinux/generate.sh $arch
 */
EOF
    cat "$dir/vmlinux.h"
  } >"$out.tmp"
  mv "$out.tmp" "$out"
  log "$arch: wrote ${out#"$root"/} ($(wc -c <"$out") bytes)"
  rm -rf "$dir"
}

for arch in "${arches[@]}"; do
  generate "$arch"
done
