#!/bin/sh
# harden-debian.sh: harden a Debian 12 root filesystem (container base image).
# Runs in base-images/debian/Dockerfile (root /) and in the mmdebstrap customize hook of
# scripts/bootstrap-debian.sh (--root "$1" --chroot). `--help` lists the options and steps;
# docs/base-images.md explains every step.
# shellcheck source-path=SCRIPTDIR
set -eu

GH_NAME=harden-debian.sh
GH_OS=debian
GH_OS_IDS=debian
GH_NOLOGIN=/usr/sbin/nologin
GH_SHADOW_POLICY=group
# Packages a runtime base does not need (purged when installed; see docs/base-images.md):
#   e2fsprogs libext2fs2 libss2 logsave  filesystem creation/repair: no block devices here
#   mount                                 setuid mount/umount: containers do not mount
#   usrmerge perl perl-modules-5.36 libperl5.36 libfile-find-rule-perl
#   libnumber-compare-perl libtext-glob-perl
#                                         /usr merge conversion and the full Perl it pulls
#                                         (a merged-/usr bootstrap needs neither)
#   cron cron-daemon-common anacron       schedulers: a container runs one process
GH_REMOVE_LIST="e2fsprogs libext2fs2 libss2 logsave mount usrmerge perl perl-modules-5.36 libperl5.36 libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl cron cron-daemon-common anacron"

GH_SELF_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=harden-common.sh
. "$GH_SELF_DIR/harden-common.sh"

deb_apt() {
  gh_pm env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

os_upgrade() {
  deb_apt update
  deb_apt upgrade
}

# Installed, or removed with its configuration files left (purged here).
os_pkg_present() {
  # shellcheck disable=SC2016 # ${...} is a dpkg-query format, not a shell expansion
  case $(gh_pm_out dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) in
    '' | not-installed) return 1 ;;
  esac
}

# dpkg (not apt): it refuses, loudly, to remove anything another package still needs.
os_pkg_remove() { gh_pm env DEBIAN_FRONTEND=noninteractive dpkg --purge "$@"; }

os_pm_clean() {
  gh_pm apt-get clean
}

os_clean_caches() {
  # apt's own empty `lock` files and `partial` directories stay (apt recreates them anyway,
  # and keeping them makes a second run a no-op); index files and .debs go.
  for _dc_d in /var/lib/apt/lists /var/cache/apt/archives; do
    gh_at "$_dc_d"
    _dc_p=$GH_AT
    [ -d "$_dc_p" ] && [ ! -L "$_dc_p" ] || continue
    for _dc in "$_dc_p"/* "$_dc_p"/.[!.]*; do
      case ${_dc##*/} in
        lock | partial) ;;
        *) if [ -e "$_dc" ] || [ -L "$_dc" ]; then gh_rm "${_dc#"$GH_P"}"; fi ;;
      esac
    done
    gh_empty_dir "$_dc_d/partial"
  done
  gh_at /var/cache/apt
  for _dc in "$GH_AT"/*.bin; do
    if [ -f "$_dc" ]; then gh_rm "${_dc#"$GH_P"}"; fi
  done
  gh_empty_dir /var/log/apt
  gh_rm /var/log/dpkg.log /var/log/alternatives.log /var/log/bootstrap.log /var/cache/ldconfig/aux-cache
}

os_package_config() {
  gh_install_quiet /etc/dpkg/dpkg.cfg.d/golden-nodoc 0644 <<'EOF'
# golden hardening: packages installed later unpack no documentation, manual pages or
# translations (copyright files and locale.alias are kept).
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/linda/*
EOF
  gh_install_quiet /etc/apt/apt.conf.d/golden-minimal 0644 <<'EOF'
// golden hardening: no recommended or suggested packages, no translations, and no
// downloaded .deb or package cache left behind by apt in image layers.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::AutoRemove::SuggestsImportant "false";
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
EOF
}

gh_main "$@"
