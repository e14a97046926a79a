#!/usr/bin/env bash
# prepare.sh [--kernel-env FILE] CACHE_DIR
# Fetches a pinned guest kernel (FILE, default scripts/vm/kernel.env: one
# kernel.env-like file per guest) with apt-get download, unpacks it with
# dpkg-deb -x (nothing is installed) and builds a busybox initramfs holding
# the guest init and the modules it loads: 9p/overlay to reach the host,
# veth and nf_tables for the network checks, and the file's VM_GUEST_MODULES.
# Several guests share one CACHE_DIR: each kernel has its own .deb, unpacked
# tree and one initramfs (initrd-RELEASE-HASH.gz).
# Idempotent: a second run with the same inputs only checks stamps.
# Prints the paths run.sh needs as KEY=VALUE lines on stdout:
#   VM_KERNEL=... VM_INITRD=... VM_ARCH=amd64|arm64 and, for a guest of
#   another architecture than this machine's, VM_ROOT=... (its root tree).
# A FILE with VM_ARCH=arm64 is an arm64 guest: its kernel and busybox
# (VM_BUSYBOX_VERSION) are arm64 packages, fetched with a private apt state
# (scripts/cross/foreign-apt.sh), and its userland is the arm64 root tree
# scripts/cross/arm64-root.sh makes (VM_ROOT).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kernel_env=$here/kernel.env
if [ "${1:-}" = --kernel-env ]; then
  kernel_env=${2:?usage: prepare.sh [--kernel-env FILE] CACHE_DIR}
  shift 2
fi
if [ $# -ne 1 ]; then
  echo "usage: prepare.sh [--kernel-env FILE] CACHE_DIR" >&2
  exit 2
fi
[ -f "$kernel_env" ] || {
  echo "vm-prepare: no kernel env file $kernel_env" >&2
  exit 1
}
kernel_env=$(cd "$(dirname "$kernel_env")" && pwd)/$(basename "$kernel_env")
VM_GUEST_MODULES=""
VM_KERNEL_SUITE=bookworm-backports
VM_ARCH=amd64
VM_BUSYBOX_VERSION=""
# shellcheck source=scripts/vm/kernel.env
. "$kernel_env"
mkdir -p "$1"
cache=$(cd "$1" && pwd)

log() { echo "vm-prepare: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# Modules the guest init loads, in this order; each one's dependencies
# (modinfo -F depends) and the modules its soft dependencies name
# (modinfo -F softdep "pre:", through modules.alias: nf_tables needs
# libcrc32c, which needs a crc32c algorithm) are loaded before it. Built-in
# ones are skipped. The guest cannot load modules on demand (its modprobe
# would look in the initramfs), so whatever a check needs is loaded here:
#   virtio_pci, 9p, overlay   the host root and the results share (on 6.1
#                 even virtio_pci is a module);
#   veth          `ip link add ... type veth` (tests/support/netns.cpp);
#   nf_tables     nftables at LOCAL_OUT, the kernel lane's ground truth: the
#                 inet family, filter chains, meta, payload (th dport, icmp
#                 type) and counter expressions are all in nf_tables itself
#                 on 6.1 and 6.12 (CONFIG_NF_TABLES_INET=y, no nft_counter.ko);
# then the guest's own VM_GUEST_MODULES (e.g. ALSA).
# shellcheck disable=SC2206 # VM_GUEST_MODULES is a word list
wanted_modules=(virtio_pci netfs 9pnet 9pnet_virtio 9p overlay veth nf_tables $VM_GUEST_MODULES)

for tool in apt-get dpkg-deb modinfo depmod xz cpio gzip busybox; do
  command -v "$tool" >/dev/null || die "missing host tool '$tool' (run scripts/setup.sh)"
done
host_arch=$(dpkg --print-architecture)
foreign=0
[ "$VM_ARCH" = "$host_arch" ] || foreign=1
if [ $foreign -eq 1 ]; then
  [ "$VM_ARCH" = arm64 ] || die "VM_ARCH=$VM_ARCH: only $host_arch and arm64 guests are known"
  [ -n "$VM_BUSYBOX_VERSION" ] || die "an arm64 guest needs VM_BUSYBOX_VERSION in $kernel_env"
  # shellcheck source=scripts/cross/foreign-apt.sh
  . "$here/../cross/foreign-apt.sh"
  foreign_apt_init "$VM_ARCH" "$cache/apt-$VM_ARCH"
fi
# apt_download DIR PACKAGE=VERSION: one package of the guest's architecture
# into DIR; refreshes the package lists once when stale lists are the cause.
apt_download() {
  local dir=$1 spec=$2
  if [ $foreign -eq 1 ]; then
    foreign_apt_ensure_lists
    (cd "$dir" && apt-get "${FOREIGN_APT[@]}" -qq download "$spec" >&2) && return 0
    log "download of $spec failed; refreshing the $VM_ARCH package lists and retrying"
    foreign_apt_update || die "apt-get update ($VM_ARCH) failed"
    (cd "$dir" && apt-get "${FOREIGN_APT[@]}" -qq download "$spec" >&2)
    return
  fi
  (cd "$dir" && apt-get download -qq "$spec" >&2) && return 0
  # Stale package lists are the usual cause; refreshing them needs root.
  [ "$(id -u)" -eq 0 ] || die "apt-get download $spec failed (not root, cannot apt-get update)"
  log "download failed; refreshing package lists and retrying"
  apt-get update -qq >&2 || die "apt-get update failed"
  (cd "$dir" && apt-get download -qq "$spec" >&2)
}

busybox_bin=$(command -v busybox)
# The applets to link: the build machine's busybox lists them (an arm64
# busybox cannot run here; both come from the same source package).
busybox_applets=$("$busybox_bin" --list)
if [ $foreign -eq 1 ]; then
  bb_dir="$cache/busybox-$VM_ARCH-${VM_BUSYBOX_VERSION//:/%3a}"
  if [ ! -x "$bb_dir/bin/busybox" ]; then
    log "downloading busybox-static=$VM_BUSYBOX_VERSION ($VM_ARCH)"
    tmp=$(mktemp -d "$cache/download.XXXXXX")
    chmod 0755 "$tmp"
    id _apt >/dev/null 2>&1 && chown _apt "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    apt_download "$tmp" "busybox-static=$VM_BUSYBOX_VERSION" ||
      die "apt-get download busybox-static=$VM_BUSYBOX_VERSION ($VM_ARCH) failed: does the archive still carry it? ($kernel_env)"
    got=("$tmp"/*.deb)
    rm -rf "$bb_dir.tmp"
    dpkg-deb -x "${got[0]}" "$bb_dir.tmp"
    [ -x "$bb_dir.tmp/bin/busybox" ] || die "no bin/busybox in $(basename "${got[0]}")"
    rm -rf "$bb_dir"
    mv "$bb_dir.tmp" "$bb_dir"
    rm -rf "$tmp"
    trap - EXIT
  fi
  busybox_bin=$bb_dir/bin/busybox
fi
# A dynamically linked busybox cannot run from the initramfs.
if LC_ALL=C readelf -d "$busybox_bin" 2>/dev/null | grep -q NEEDED; then
  die "$busybox_bin is dynamically linked; install busybox-static"
fi

# 1. The kernel package, downloaded once.
deb="$cache/${VM_KERNEL_PACKAGE}_${VM_KERNEL_VERSION}_${VM_ARCH}.deb"
if [ ! -s "$deb" ]; then
  log "downloading ${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION}"
  tmp=$(mktemp -d "$cache/download.XXXXXX")
  chmod 0755 "$tmp" # lets apt fetch as _apt instead of warning
  [ $foreign -eq 1 ] && id _apt >/dev/null 2>&1 && chown _apt "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  apt_download "$tmp" "${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION}" ||
    die "apt-get download ${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION} failed: is $VM_KERNEL_SUITE configured and does it still carry this version? ($kernel_env)"
  got=("$tmp"/*.deb)
  [ -s "${got[0]}" ] || die "apt-get download produced no .deb"
  mv "${got[0]}" "$deb"
  rm -rf "$tmp"
  trap - EXIT
fi

# 2. The unpacked tree: vmlinuz and the .ko.xz modules.
release=${VM_KERNEL_PACKAGE#linux-image-}
release=${release%-unsigned}
tree="$cache/kernel-$release"
if [ "$(cat "$tree/.unpacked" 2>/dev/null)" != "$VM_KERNEL_VERSION" ]; then
  log "unpacking $(basename "$deb")"
  rm -rf "$tree" "$tree.tmp"
  dpkg-deb -x "$deb" "$tree.tmp"
  echo "$VM_KERNEL_VERSION" >"$tree.tmp/.unpacked"
  mv "$tree.tmp" "$tree"
fi
vmlinuz="$tree/boot/vmlinuz-$release"
moddir="$tree/lib/modules/$release"
[ -f "$vmlinuz" ] || die "no $vmlinuz in $deb"
[ -d "$moddir" ] || die "no $moddir in $deb"
# The package has no modules.alias (the system it is installed on makes it):
# made here, for soft dependencies that name an alias.
if [ ! -s "$moddir/modules.alias" ]; then
  depmod -b "$tree" "$release" || die "depmod -b $tree $release failed"
fi

# 3. The initramfs, rebuilt when any of its inputs change.
inputs_hash=$(cat "$kernel_env" "$here/prepare.sh" "$here/guest-init.sh" "$busybox_bin" | sha256sum | cut -c1-16)
initrd="$cache/initrd-$release-$inputs_hash.gz"
if [ ! -s "$initrd" ]; then
  log "building initramfs"
  # module name (dashes as underscores) -> path of its .ko.xz
  declare -A module_path=()
  while IFS= read -r -d '' ko; do
    name=$(basename "$ko")
    name=${name%%.ko*}
    module_path[${name//-/_}]=$ko
  done < <(find "$moddir/kernel" -name '*.ko*' -print0)

  builtin_list="$moddir/modules.builtin"
  is_builtin() { [ -f "$builtin_list" ] && grep -Eq "/${1//_/[-_]}\.ko$" "$builtin_list"; }

  declare -A visited=()
  load_order=()
  add_module() {
    local name=${1//-/_} dep
    [ -n "${visited[$name]:-}" ] && return 0
    visited[$name]=1
    if [ -z "${module_path[$name]:-}" ]; then
      is_builtin "$name" && return 0
      die "module $name: neither a .ko in $moddir nor built in"
    fi
    local deps soft word in_pre=0
    deps=$(modinfo -F depends "${module_path[$name]}")
    for dep in ${deps//,/ }; do
      add_module "$dep"
    done
    # "pre: a b post: c": a and b should be loaded first (modprobe would).
    soft=$(modinfo -F softdep "${module_path[$name]}")
    for word in $soft; do
      case "$word" in
      pre:) in_pre=1 ;;
      post:) in_pre=0 ;;
      *) if [ $in_pre -eq 1 ]; then add_soft_dependency "$word" "$name"; fi ;;
      esac
    done
    load_order+=("$name")
  }
  # A soft dependency is a module name or an alias; for an alias several
  # modules may offer it (crc32c: crc32c_generic, crc32c_intel): the first
  # by name is taken. One that is nowhere is left out, with a note.
  add_soft_dependency() {
    local wanted=${1//-/_} target
    if [ -n "${module_path[$wanted]:-}" ] || is_builtin "$wanted"; then
      add_module "$wanted"
      return
    fi
    target=$(awk -v a="$1" '$1 == "alias" && $2 == a { print $3 }' "$moddir/modules.alias" | sort | head -1)
    if [ -n "$target" ]; then
      add_module "$target"
    else
      log "note: $2's soft dependency $1 is neither a module nor an alias of one (built in?)"
    fi
  }
  for m in "${wanted_modules[@]}"; do
    add_module "$m"
  done

  root=$(mktemp -d "$cache/initramfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,dev,proc,sys,host,results,newroot,upper,modules}
  cp "$busybox_bin" "$root/bin/busybox"
  for applet in $busybox_applets; do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  : >"$root/modules/order"
  for name in "${load_order[@]}"; do
    src=${module_path[$name]}
    case "$src" in
    *.xz) xz -dc "$src" >"$root/modules/$name.ko" ;;
    *) cp "$src" "$root/modules/$name.ko" ;;
    esac
    echo "$name" >>"$root/modules/order"
  done
  install -m 0755 "$here/guest-init.sh" "$root/init"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$root"
  trap - EXIT
  # Older initramfs builds of this kernel are dead weight (other guests'
  # kernels keep theirs).
  find "$cache" -maxdepth 1 -name "initrd-$release-*.gz" ! -name "$(basename "$initrd")" -delete
  log "modules: ${load_order[*]}"
fi

# The userland of a foreign guest: the arm64 root tree (made once, reused).
vm_root=""
if [ $foreign -eq 1 ]; then
  vm_root=$("$here/../cross/arm64-root.sh") || die "making the arm64 root tree failed (scripts/cross/arm64-root.sh)"
fi

echo "VM_KERNEL=$vmlinuz"
echo "VM_INITRD=$initrd"
echo "VM_ARCH=$VM_ARCH"
[ -z "$vm_root" ] || echo "VM_ROOT=$vm_root"
