#!/bin/sh
# harden-alpine.sh: harden an Alpine 3.x root filesystem (container base image).
# POSIX sh for busybox ash: Alpine has no bash. Runs in base-images/alpine/Dockerfile (root /);
# with --root DIR --skip packages the file-level steps harden any tree. `--help` lists the
# options and steps; docs/base-images.md explains every step.
# shellcheck source-path=SCRIPTDIR
set -eu

GH_NAME=harden-alpine.sh
GH_OS=alpine
GH_OS_IDS=alpine
GH_NOLOGIN=/sbin/nologin
GH_SHADOW_POLICY=group
# Packages a runtime base does not need (deleted when installed; see docs/base-images.md):
#   sudo doas             privilege escalation: the image runs as uid 10001
#   openssh-server openssh-client-default dropbear
#                         remote shells: `docker exec` is the way in (CIS 5.7)
#   busybox-suid          setuid wrapper (bbsuid) for busybox applets
# Not ssl_client (busybox wget's TLS helper): apk reinstalls it by itself (install_if
# busybox + libssl), so deleting it would not last.
GH_REMOVE_LIST="sudo doas openssh-server openssh-client-default dropbear busybox-suid"

GH_SELF_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=harden-common.sh
. "$GH_SELF_DIR/harden-common.sh"

os_upgrade() {
  gh_pm apk upgrade --no-cache --no-progress
}

os_pkg_present() { gh_pm_out apk info -e "$1" >/dev/null 2>&1; }
os_pkg_remove() { gh_pm apk del --no-cache --no-progress "$@"; }

os_pm_clean() {
  : # apk runs with --no-cache: nothing to clean through apk itself
}

os_clean_caches() {
  gh_empty_dir /var/cache/apk
  gh_empty_dir /var/cache/misc
}

# https only for the package repositories (CIS 4.11: verified packages over a secure channel).
os_package_config() {
  gh_at /etc/apk/repositories
  _ap_r=$GH_AT
  if [ -f "$_ap_r" ] && [ ! -L "$_ap_r" ] && grep -q '^http://' "$_ap_r"; then
    sed 's|^http://|https://|' "$_ap_r" | gh_install_quiet /etc/apk/repositories 0644
  fi
}

gh_main "$@"
