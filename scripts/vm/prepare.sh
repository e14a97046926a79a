#!/usr/bin/env bash
# prepare.sh CACHE_DIR
# Fetches the pinned guest kernel (scripts/vm/kernel.env) with apt-get download,
# unpacks it with dpkg-deb -x (nothing is installed) and builds a busybox
# initramfs holding the guest init and the 9p/overlay/ALSA modules it loads.
# Idempotent: a second run with the same inputs only checks stamps.
# Prints the paths run.sh needs as KEY=VALUE lines on stdout:
#   VM_KERNEL=... VM_INITRD=...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/kernel.env
. "$here/kernel.env"

if [ $# -ne 1 ]; then
  echo "usage: prepare.sh CACHE_DIR" >&2
  exit 2
fi
mkdir -p "$1"
cache=$(cd "$1" && pwd)

log() { echo "vm-prepare: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# Modules the guest init loads, in this order; each one's dependencies
# (modinfo -F depends) are loaded before it.
wanted_modules=(netfs 9pnet 9pnet_virtio 9p overlay soundcore snd snd-timer snd-pcm snd-aloop snd-dummy)

for tool in apt-get dpkg-deb modinfo xz cpio gzip busybox; do
  command -v "$tool" >/dev/null || die "missing host tool '$tool' (run scripts/setup.sh)"
done
busybox_bin=$(command -v busybox)
# A dynamically linked busybox cannot run from the initramfs.
if LC_ALL=C readelf -d "$busybox_bin" 2>/dev/null | grep -q NEEDED; then
  die "$busybox_bin is dynamically linked; install busybox-static"
fi

# 1. The kernel package, downloaded once.
deb="$cache/${VM_KERNEL_PACKAGE}_${VM_KERNEL_VERSION}_amd64.deb"
if [ ! -s "$deb" ]; then
  log "downloading ${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION}"
  tmp=$(mktemp -d "$cache/download.XXXXXX")
  chmod 0755 "$tmp" # lets apt fetch as _apt instead of warning
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download -qq "${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION}" >&2); then
    # Stale package lists are the usual cause; refreshing them needs root.
    [ "$(id -u)" -eq 0 ] || die "apt-get download ${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION} failed (not root, cannot apt-get update)"
    log "download failed; refreshing package lists and retrying"
    apt-get update -qq >&2 || die "apt-get update failed"
    (cd "$tmp" && apt-get download -qq "${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION}" >&2) ||
      die "apt-get download ${VM_KERNEL_PACKAGE}=${VM_KERNEL_VERSION} failed: is bookworm-backports configured and does it still carry this version? (scripts/vm/kernel.env)"
  fi
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

# 3. The initramfs, rebuilt when any of its inputs change.
inputs_hash=$(cat "$here/kernel.env" "$here/prepare.sh" "$here/guest-init.sh" "$busybox_bin" | sha256sum | cut -c1-16)
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
    local deps
    deps=$(modinfo -F depends "${module_path[$name]}")
    for dep in ${deps//,/ }; do
      add_module "$dep"
    done
    load_order+=("$name")
  }
  for m in "${wanted_modules[@]}"; do
    add_module "$m"
  done

  root=$(mktemp -d "$cache/initramfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,dev,proc,sys,host,results,newroot,upper,modules}
  cp "$busybox_bin" "$root/bin/busybox"
  for applet in $("$busybox_bin" --list); do
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
  # Older initramfs builds of this cache are dead weight.
  find "$cache" -maxdepth 1 -name 'initrd-*.gz' ! -name "$(basename "$initrd")" -delete
  log "modules: ${load_order[*]}"
fi

echo "VM_KERNEL=$vmlinuz"
echo "VM_INITRD=$initrd"
