#!/bin/sh
# harden-redhat.sh: harden a Red Hat UBI 9 (minimal) root filesystem (container base image).
# Runs in base-images/redhat/Dockerfile (root /); with --root DIR --skip packages the
# file-level steps harden any tree. `--help` lists the options and steps;
# docs/base-images.md explains every step.
# shellcheck source-path=SCRIPTDIR
set -eu

GH_NAME=harden-redhat.sh
GH_OS=redhat
GH_OS_IDS=rhel
GH_NOLOGIN=/sbin/nologin
GH_SHADOW_POLICY=zero
# Packages a runtime base does not need (erased when installed; see docs/base-images.md):
#   sudo                                   privilege escalation: the image runs as uid 10001
#   openssh-server openssh-clients         remote shells (CIS 5.7)
#   vim-minimal                            editor: nothing is edited in a running container
#   cronie cronie-anacron crontabs         schedulers: a container runs one process
GH_REMOVE_LIST="sudo openssh-server openssh-clients vim-minimal cronie cronie-anacron crontabs"

GH_SELF_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=harden-common.sh
. "$GH_SELF_DIR/harden-common.sh"

# microdnf on UBI minimal, dnf on the full UBI.
rh_dnf() {
  gh_at /usr/bin/microdnf
  _rd_micro=$GH_AT
  gh_at /usr/bin/dnf
  if [ -x "$_rd_micro" ]; then
    gh_pm microdnf -y --nodocs --setopt=install_weak_deps=0 "$@"
  elif [ -x "$GH_AT" ]; then
    gh_pm dnf -y --nodocs --setopt=install_weak_deps=False "$@"
  else
    gh_die "neither microdnf nor dnf found in $GH_ROOT"
  fi
}

# UBI minimal ships without findutils; the file-level steps need find(1).
os_install_tools() {
  if [ "$GH_CHROOT" = 0 ] && ! gh_have find; then
    gh_log "installing findutils (find(1) is needed by the file-level steps)"
    rh_dnf install findutils
  fi
}

os_upgrade() {
  rh_dnf upgrade
}

os_pkg_present() { gh_pm_out rpm -q --quiet "$1" >/dev/null 2>&1; }
# rpm -e (not dnf remove): it refuses, loudly, to remove what another package requires.
os_pkg_remove() { gh_pm rpm -e "$@"; }

os_pm_clean() {
  rh_dnf clean all
}

os_clean_caches() {
  gh_empty_dir /var/cache/dnf
  gh_empty_dir /var/cache/yum
  gh_rm /var/log/dnf.log /var/log/dnf.librepo.log /var/log/dnf.rpm.log /var/log/hawkey.log
}

# dnf.conf: signatures checked, no weak dependencies, no documentation; no repository may
# disable gpgcheck (CIS 4.11).
os_package_config() {
  gh_at /etc/dnf/dnf.conf
  _rp_c=$GH_AT
  if [ -f "$_rp_c" ] && [ ! -L "$_rp_c" ]; then
    _rp_out=$GH_TMP/dnf.conf
    : >"$_rp_out"
    _rp_sec=
    _rp_seen=
    while IFS= read -r _rp_l || [ -n "$_rp_l" ]; do
      case $_rp_l in
        '['*)
          if [ "$_rp_sec" = main ]; then rh_missing_keys "$_rp_seen" >>"$_rp_out"; fi
          _rp_sec=${_rp_l#[}
          _rp_sec=${_rp_sec%%]*}
          ;;
      esac
      if [ "$_rp_sec" = main ]; then
        _rp_k=$(printf '%s' "$_rp_l" | sed -n 's/^[[:space:]]*\([A-Za-z_]*\)[[:space:]]*=.*/\1/p')
        case $_rp_k in
          gpgcheck) _rp_l=gpgcheck=1 _rp_seen="$_rp_seen gpgcheck" ;;
          install_weak_deps) _rp_l=install_weak_deps=False _rp_seen="$_rp_seen install_weak_deps" ;;
          tsflags) _rp_l=tsflags=nodocs _rp_seen="$_rp_seen tsflags" ;;
        esac
      fi
      printf '%s\n' "$_rp_l" >>"$_rp_out"
    done <"$_rp_c"
    if [ "$_rp_sec" = main ]; then rh_missing_keys "$_rp_seen" >>"$_rp_out"; fi
    gh_install_quiet /etc/dnf/dnf.conf 0644 <"$_rp_out"
  fi
  gh_at /etc/yum.repos.d
  for _rp_repo in "$GH_AT"/*.repo; do
    [ -f "$_rp_repo" ] || continue
    if grep -Eq '^[[:space:]]*gpgcheck[[:space:]]*=[[:space:]]*0' "$_rp_repo"; then
      sed -E 's/^[[:space:]]*gpgcheck[[:space:]]*=[[:space:]]*0.*/gpgcheck=1/' "$_rp_repo" |
        gh_install_quiet "${_rp_repo#"$GH_P"}" 0644
    fi
  done
}

rh_missing_keys() {
  gh_in_list gpgcheck "$1" || echo gpgcheck=1
  gh_in_list install_weak_deps "$1" || echo install_weak_deps=False
  gh_in_list tsflags "$1" || echo tsflags=nodocs
}

gh_main "$@"
