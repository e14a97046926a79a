#!/usr/bin/env bash
# arm64-root.sh [ROOT_DIR]
# Makes a Debian 12 arm64 root tree from Debian's own arm64 packages,
# downloaded with a private apt state (foreign-apt.sh: the machine's apt and
# dpkg are left as they are) and unpacked with dpkg-deb -x (no maintainer
# script runs, nothing is installed). One tree serves twice:
#   - the sysroot the arm64 preset cross-builds against
#     (cmake/toolchain-arm64.cmake): libc, libstdc++ and every library
#     earshot and its tests link, with their headers, pkg-config files and
#     CMake package files;
#   - the userland of the vm lane's arm64 guest (scripts/vm/run.sh shares it
#     as the guest's root): bash, coreutils, iproute2, nftables, alsa-utils
#     and the other tools the checks run.
# libbpf, bpftool and the kernel's uapi headers (linux-libc-dev) are the
# versions installed on this machine (from bookworm-backports): the
# skeletons the host's bpftool generates match the library the arm64 build
# links, and both builds see the same BPF program types (6.12's headers).
#
# ROOT_DIR defaults to ${EARSHOT_DEPS_DIR:-/var/cache/earshot}/arm64-root;
# downloaded packages and apt's state are kept beside it (arm64-debs/,
# apt-arm64/). Idempotent: when the tree was made from the same package set
# it only checks its stamp. Prints ROOT_DIR on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
deps=${EARSHOT_DEPS_DIR:-/var/cache/earshot}
root=${1:-$deps/arm64-root}
mkdir -p "$(dirname "$root")"
parent=$(cd "$(dirname "$root")" && pwd)
root=$parent/$(basename "$root")
# shellcheck source=scripts/cross/foreign-apt.sh
. "$here/foreign-apt.sh"

log() { echo "arm64-root: $*" >&2; }
die() {
  log "$*"
  exit 1
}
for tool in apt-get dpkg-deb dpkg-query sha256sum; do
  command -v "$tool" >/dev/null || die "missing '$tool'"
done

host_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
libbpf_version=$(host_version libbpf-dev) || true
bpftool_version=$(host_version bpftool) || true
uapi_version=$(host_version linux-libc-dev) || true
[ -n "$libbpf_version" ] && [ -n "$bpftool_version" ] && [ -n "$uapi_version" ] ||
  die "libbpf-dev, bpftool and linux-libc-dev are not installed on this machine (run scripts/setup.sh first)"

# What the arm64 build links (with its headers), then what the guest runs.
build_packages=(
  libc6-dev libstdc++-12-dev "linux-libc-dev=$uapi_version"
  "libbpf-dev=$libbpf_version" "libbpf1=$libbpf_version" libelf-dev zlib1g-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libasound2-dev
)
guest_packages=(
  base-files base-passwd bash dash coreutils util-linux mount findutils grep sed mawk
  diffutils gzip xz-utils procps kmod iproute2 nftables alsa-utils socat curl jq
  python3 "bpftool=$bpftool_version"
)
packages=("${build_packages[@]}" "${guest_packages[@]}")

stamp=$(printf '%s\n' "${packages[@]}" | cat - "$0" | sha256sum | cut -c1-16)
if [ "$(cat "$root/.earshot-root" 2>/dev/null)" = "$stamp" ]; then
  echo "$root"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "$root is missing or out of date; making it needs root (apt-get download)"

foreign_apt_init arm64 "$parent/apt-arm64"
debs=$parent/arm64-debs
mkdir -p "$debs"
chmod 0755 "$debs"
id _apt >/dev/null 2>&1 && chown _apt "$debs"

# The closure of the list from an empty system: apt's resolver on an empty
# status file lists every dependency. One line a package, its file name
# (name_version_arch.deb, the epoch's colon as %3a).
resolve() {
  apt-get "${FOREIGN_APT[@]}" -qq --print-uris install "${packages[@]}" 2>"$parent/apt-arm64/resolve.err" |
    awk '{ print $2 }'
}
# fetch: resolves the set and downloads what is not in $debs yet; fails
# when either step does (stale package lists name versions the archive has
# dropped).
fetch() {
  local closure file name version
  closure=$(resolve) && [ -n "$closure" ] || return 1
  mapfile -t files <<<"$closure"
  local missing=()
  for file in "${files[@]}"; do
    if [ ! -s "$debs/$file" ]; then
      name=${file%%_*}
      version=${file#*_}
      version=${version%_*}
      missing+=("$name=${version//%3a/:}")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "downloading ${#missing[@]} of ${#files[@]} packages"
    (cd "$debs" && apt-get "${FOREIGN_APT[@]}" -qq download "${missing[@]}" >&2) || return 1
  fi
  for file in "${files[@]}"; do
    [ -s "$debs/$file" ] || return 1
  done
}
foreign_apt_ensure_lists
if ! fetch; then
  log "resolving or downloading failed with the cached package lists; refreshing them"
  foreign_apt_update || die "apt-get update (arm64) failed"
  fetch || die "cannot fetch the arm64 package set: $(tail -3 "$parent/apt-arm64/resolve.err")"
fi
log "${#files[@]} packages"
# Packages of an older set are dead weight.
declare -A keep=()
for file in "${files[@]}"; do keep[$file]=1; done
for f in "$debs"/*.deb; do
  [ -e "$f" ] || continue
  [ -n "${keep[$(basename "$f")]:-}" ] || rm -f "$f"
done

log "unpacking into $root"
rm -rf "$root.tmp"
mkdir -p "$root.tmp"
for file in "${files[@]}"; do
  dpkg-deb -x "$debs/$file" "$root.tmp"
done

# What maintainer scripts would have done, as far as the build and the guest
# need it.
cd "$root.tmp"
# Absolute symlinks (libz.so -> /lib/aarch64-linux-gnu/libz.so.1) would
# point into the build machine's own root: made relative, they work as a
# sysroot and as the guest's root alike.
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  case "$target" in
  /*)
    dir=$(dirname "${link#./}")
    up=""
    if [ "$dir" != . ]; then
      up=$(sed 's|[^/][^/]*|..|g' <<<"$dir")/
    fi
    ln -sfn "${up}${target#/}" "$link"
    ;;
  esac
done < <(find . -type l -print0)
[ -e bin/sh ] || ln -s dash bin/sh
# update-alternatives' links of the tools the checks call by their common name.
[ -e usr/bin/awk ] || ln -s mawk usr/bin/awk
# /var/run is /run on a Debian system (base-files makes the link).
[ -L var/run ] || { rmdir var/run 2>/dev/null || true; [ -e var/run ] || ln -s ../run var/run; }
[ -e etc/passwd ] || cp usr/share/base-passwd/passwd.master etc/passwd
[ -e etc/group ] || cp usr/share/base-passwd/group.master etc/group
mkdir -p proc sys dev tmp run root var/tmp
chmod 1777 tmp var/tmp
cd - >/dev/null

printf '%s\n' "${files[@]}" >"$root.tmp/.earshot-packages"
echo "$stamp" >"$root.tmp/.earshot-root"
# Swapped in at once: a build or guest using the old tree loses it only
# between the two renames.
rm -rf "$root.old"
[ ! -e "$root" ] || mv "$root" "$root.old"
mv "$root.tmp" "$root"
rm -rf "$root.old"
log "made $root ($(du -sh "$root" | cut -f1))"
echo "$root"
