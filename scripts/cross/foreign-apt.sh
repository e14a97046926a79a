# shellcheck shell=bash
# Sourced by the scripts that fetch another architecture's Debian packages
# (arm64-root.sh, scripts/vm/prepare.sh for an arm64 guest): apt with a
# private state of its own for that architecture, under a directory of the
# caller's choice. The machine's apt configuration, package lists, dpkg
# status and architectures are never touched, so nothing it installs
# natively can be replaced or held back by a foreign package.
#
#   foreign_apt_init ARCH STATE_DIR   sets FOREIGN_APT (apt-get/apt-cache
#                                     options) and writes the sources list
#   foreign_apt_update                refreshes the package lists
#   foreign_apt_ensure_lists          refreshes them only when there are none
#
# The suites are bookworm, bookworm-updates, bookworm-security and
# bookworm-backports, as scripts/setup.sh configures for the host.
# EARSHOT_DEBIAN_MIRROR overrides http://deb.debian.org/debian (and
# EARSHOT_DEBIAN_SECURITY_MIRROR http://deb.debian.org/debian-security).

foreign_apt_init() {
  local arch=$1 dir=$2
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  local mirror=${EARSHOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
  local security=${EARSHOT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
  [ -r "$keyring" ] || {
    echo "foreign-apt: missing $keyring (package debian-archive-keyring)" >&2
    return 1
  }
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
  chmod 0755 "$dir"
  [ -f "$dir/status" ] || : >"$dir/status"
  cat >"$dir/sources.list.tmp" <<EOF
deb [arch=$arch signed-by=$keyring] $mirror bookworm main
deb [arch=$arch signed-by=$keyring] $mirror bookworm-updates main
deb [arch=$arch signed-by=$keyring] $security bookworm-security main
deb [arch=$arch signed-by=$keyring] $mirror bookworm-backports main
EOF
  mv "$dir/sources.list.tmp" "$dir/sources.list"
  # apt fetches as _apt when it can write the target directories.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown -R _apt "$dir/lists" "$dir/cache"
  fi
  FOREIGN_APT_DIR=$dir
  FOREIGN_APT=(-q
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::State::Status=$dir/status"
    -o "Dir::Cache=$dir/cache" -o "Dir::Etc::SourceList=$dir/sources.list"
    -o "Dir::Etc::SourceParts=$dir/parts"
    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$dir/parts"
    -o "APT::Install-Recommends=false" -o "APT::Get::AllowUnauthenticated=false")
}

foreign_apt_update() {
  apt-get "${FOREIGN_APT[@]}" -qq update >&2
}

foreign_apt_ensure_lists() {
  compgen -G "$FOREIGN_APT_DIR/lists/*_Packages*" >/dev/null || foreign_apt_update
}
