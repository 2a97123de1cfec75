#!/usr/bin/env bash
# ensure-emulation.sh [--check] ARCH...: make sure this machine runs binaries (and containers) of each
# foreign ARCH (amd64, arm64) under emulation: Debian's qemu-user-static registers its
# binfmt_misc handlers with the F (fix-binary) flag, so the interpreter is found inside
# containers too, and arch-test lets mmdebstrap bootstrap a foreign Debian.
# Idempotent: installs the packages when missing (as root or with passwordless sudo), mounts
# binfmt_misc when it is not mounted, enables the handlers, then checks each architecture by
# its handler. The machine's own architecture needs nothing. Called by scripts/setup.sh when
# GOLDEN_ARCHS names a foreign architecture.
# --check: change nothing, only say whether every ARCH runs here (what bootstrap-debian.sh
# asks before a foreign bootstrap: the same rule as golden-build's check).
# Exit codes: 0 every ARCH runs here, 2 it cannot (the message says why and what to do).
set -Eeuo pipefail

PROG=ensure-emulation
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

BINFMT=${GOLDEN_BINFMT_MISC:-/proc/sys/fs/binfmt_misc}
# shellcheck source=scripts/lib/arch.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/arch.sh"
host=$(golden_host_arch)

check_only=0
if [ "${1:-}" = --check ]; then
  check_only=1
  shift
fi
foreign=()
for a in "$@"; do
  for x in ${a//,/ }; do
    x=$(golden_arch "$x" ARCH) || exit 2
    [ "$x" = "$host" ] || [[ " ${foreign[*]} " == *" $x "* ]] || foreign+=("$x")
  done
done
[ "${#foreign[@]}" -gt 0 ] || exit 0

handler_ok() { # handler_ok ARCH: enabled and with the F flag
  local f
  f="$BINFMT/qemu-$(golden_qemu_name "$1")"
  [ -r "$f" ] && [ "$(head -n 1 "$f")" = enabled ] && grep -q '^flags:.*F' "$f"
}
all_ok() { local a; for a in "${foreign[@]}"; do handler_ok "$a" || return 1; done; }
if [ "$check_only" = 1 ]; then
  for a in "${foreign[@]}"; do
    f="$BINFMT/qemu-$(golden_qemu_name "$a")"
    handler_ok "$a" ||
      die "this machine ($host) cannot run $a binaries: no enabled binfmt_misc handler with the F flag at $f; hint: GOLDEN_ARCHS=$a scripts/setup.sh installs qemu-user-static and enables it"
  done
  command -v arch-test >/dev/null ||
    die "arch-test not found (mmdebstrap needs it for a foreign architecture); hint: GOLDEN_ARCHS=${foreign[0]} scripts/setup.sh installs it"
  exit 0
fi
if all_ok; then exit 0; fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
    die "enabling emulation for ${foreign[*]} needs root (run as root, or with passwordless sudo)"
  fi
  SUDO=(sudo -n)
fi

missing=()
for p in qemu-user-static binfmt-support arch-test; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (emulation of ${foreign[*]})"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -e "$BINFMT/register" ]; then
  grep -qw binfmt_misc /proc/filesystems 2>/dev/null ||
    die "this kernel has no binfmt_misc support (not in /proc/filesystems): foreign architectures cannot be emulated here; build ${foreign[*]} on native runners"
  "${SUDO[@]}" mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null ||
    die "cannot mount binfmt_misc on $BINFMT (a container without privileges?); on the host: mount -t binfmt_misc binfmt_misc $BINFMT"
  log "mounted binfmt_misc on $BINFMT"
fi
"${SUDO[@]}" update-binfmts --enable >/dev/null 2>&1 || true
for a in "${foreign[@]}"; do
  f="$BINFMT/qemu-$(golden_qemu_name "$a")"
  [ -e "$f" ] || "${SUDO[@]}" update-binfmts --import "qemu-$(golden_qemu_name "$a")" >/dev/null 2>&1 || true
  handler_ok "$a" || die "no enabled binfmt_misc handler with the F flag for $a ($f); check \`update-binfmts --display qemu-$(golden_qemu_name "$a")\`"
  log "$a binaries run here under emulation ($f)"
done
