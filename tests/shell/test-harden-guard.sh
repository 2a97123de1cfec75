#!/usr/bin/env bash
# The hardening scripts refuse to harden `/` outside a container or image build, and accept
# only their own os-release ID (not ID_LIKE). Each case runs the real script with `/`
# semantics: chroot(8) into a fake root holding Debian's static busybox (the only program),
# the scripts, and a synthetic tree (fixtures/harden/make-tree.sh) whose os-release says
# Debian, Ubuntu or Rocky, with an empty environment (no $container). The fake "host" must be
# refused with exit 2 and a message saying why, and must be left exactly as it was; each sign
# of an image build (/.dockerenv, /run/.containerenv, $container, the bootstrap's marker,
# --i-am-in-an-image-build) lets the same run through. Regression for issue 15.2.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # backquotes and $ in single quotes are literal message text
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"

busybox=${GOLDEN_TEST_BUSYBOX:-/bin/busybox}
ldd_out=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
if [ ! -x "$busybox" ] || [[ $ldd_out != *"not a dynamic executable"* ]]; then
  echo "FAIL - a static busybox is required at $busybox (apt-get install busybox-static; scripts/setup.sh does)"
  exit 1
fi

CHROOT=$(command -v chroot) || { echo "FAIL - chroot(8) required (coreutils)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-guard.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fake_host NAME OS ID [ID_LIKE]: a synthetic OS tree with busybox and the scripts in it.
fake_host() {
  local r=$work/$1
  sh "$FIXTURES/make-tree.sh" "$2" "$r"
  {
    printf 'ID=%s\nVERSION_ID="1"\n' "$3"
    [ -z "${4:-}" ] || printf 'ID_LIKE="%s"\n' "$4"
  } >"$r/etc/os-release"
  mkdir -p "$r/gbin" "$r/harden" "$r/dev"
  [ -e "$r/dev/null" ] || mknod -m 0666 "$r/dev/null" c 1 3
  cp "$busybox" "$r/gbin/busybox"
  chroot "$r" /gbin/busybox --install -s /gbin
  cp "$REPO/scripts/harden-common.sh" "$REPO/scripts/harden-$2.sh" "$r/harden/"
  printf '%s' "$r"
}
fingerprint() { find "$1" -printf '%y %m %U:%G %s %T@ %C@ %p -> %l\n' | LC_ALL=C sort; }
# in_root ROOT ENV... -- ARGS...: run a script inside ROOT as `/`, environment emptied.
in_root() {
  local r=$1
  shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env -i PATH=/gbin SOURCE_DATE_EPOCH="$TEST_EPOCH" "${envs[@]}" "$CHROOT" "$r" /gbin/sh "$@"
}
expect_refusal() { # DESCRIPTION REGEX ROOT ENV... -- ARGS...
  local desc=$1 re=$2 r=$3 rc=0 before
  shift 3
  before=$(fingerprint "$r")
  in_root "$r" "$@" >/dev/null 2>"$work/err" || rc=$?
  if [ "$rc" -eq 2 ] && grep -Eq -- "$re" "$work/err"; then ok "$desc"; else
    fail "$desc (exit $rc)"
    sed 's/^/       /' "$work/err" | head -n 8
  fi
  check_empty "... and the root is exactly as before" "$(diff <(printf '%s\n' "$before") <(fingerprint "$r") | head -n 10 || true)"
}
expect_run() { # DESCRIPTION SIGN ROOT ENV... -- ARGS...
  local desc=$1 sign=$2 r=$3 rc=0
  shift 3
  in_root "$r" "$@" >/dev/null 2>"$work/err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -qF -- "sign of an image build: $sign" "$work/err"; then ok "$desc"; else
    fail "$desc (exit $rc)"
    sed 's/^/       /' "$work/err" | head -n 8
  fi
}

echo "# a Debian host: refused without a sign of an image build"
deb=$(fake_host debian-host debian debian)
expect_refusal "harden-debian.sh on a Debian host's / is refused" \
  'refusing to harden / : this is not a container or image build .*--i-am-in-an-image-build' "$deb" -- /harden/harden-debian.sh
expect_refusal "... also with only the file-level steps" 'refusing to harden /' "$deb" -- /harden/harden-debian.sh --skip packages
expect_refusal "... also with an explicit --root /" 'refusing to harden /' "$deb" -- /harden/harden-debian.sh --root / --only umask
check "the refused host still has its root password and sudo's setuid bit" \
  bash -c "grep -q '^root:\\\$6\\\$' '$deb/etc/shadow' && test -u '$deb/usr/bin/su'"

echo "# each sign of an image build lets the same run through"
for sign in /.dockerenv /run/.containerenv /usr/share/golden/image-build; do
  mkdir -p "$(dirname "$deb$sign")"
  : >"$deb$sign"
  expect_run "$sign present: harden-debian.sh --only umask runs on /" "$sign" "$deb" -- /harden/harden-debian.sh --only umask
  rm -f "$deb$sign"
done
expect_run '$container set: runs' '$container' "$deb" container=podman -- /harden/harden-debian.sh --only umask
expect_run '--i-am-in-an-image-build: runs' --i-am-in-an-image-build "$deb" -- /harden/harden-debian.sh --i-am-in-an-image-build --only umask
check "the umask step did run inside the fake root" grep -qx 'umask 027' "$deb/etc/profile.d/golden-umask.sh"

echo "# os-release ID, not ID_LIKE"
ubu=$(fake_host ubuntu-host debian ubuntu debian)
expect_refusal "harden-debian.sh refuses Ubuntu (ID_LIKE=debian), even with --i-am-in-an-image-build" \
  'is `ubuntu`, not debian .*ID_LIKE does not count' "$ubu" -- /harden/harden-debian.sh --i-am-in-an-image-build --skip packages
expect_refusal "... and without the flag, as a host" 'refusing to harden /' "$ubu" -- /harden/harden-debian.sh
rocky=$(fake_host rocky-host redhat rocky "rhel centos fedora")
expect_refusal "harden-redhat.sh refuses Rocky (ID_LIKE=rhel ...), even with --i-am-in-an-image-build" \
  'is `rocky`, not redhat .*ID_LIKE does not count' "$rocky" -- /harden/harden-redhat.sh --i-am-in-an-image-build --skip packages
alp=$(fake_host alpine-like alpine postmarketos alpine)
expect_refusal "harden-alpine.sh refuses an Alpine derivative (ID_LIKE=alpine) even with --i-am-in-an-image-build" \
  'is `postmarketos`, not alpine' "$alp" -- /harden/harden-alpine.sh --i-am-in-an-image-build --skip packages

check "help documents the flag and the rule" bash -c "sh '$REPO/scripts/harden-debian.sh' --help | grep -q -- '--i-am-in-an-image-build' && sh '$REPO/scripts/harden-debian.sh' --help | grep -q 'ID_LIKE does not count'"

finish
