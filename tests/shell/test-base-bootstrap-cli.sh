#!/usr/bin/env bash
# scripts/bootstrap-debian.sh's interface without building anything (--dry-run prints the
# mmdebstrap command): the archive sources it derives from the config's `bootstrap` section
# (default mirrors, --mirror, --snapshot with GOLDEN_DEBIAN_SNAPSHOT_URL), the hardening hook,
# the env equivalents, and every refusal with exit 2. Needs neither root nor the engine.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # backquotes and $1 in single quotes are literal text
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
cd "$REPO"
work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-bootstrap-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

# dry ARGS...: the mmdebstrap arguments, one per line (the printed line is shell-quoted).
dry() {
  local line
  line=$(env -u GOLDEN_DEBIAN_CACHE_DIR scripts/bootstrap-debian.sh --dry-run "$@")
  eval "set -- ${line#* * }"
  printf '%s\n' "$@"
}
has() { grep -qxF -- "$2" <<<"$1"; }

out=$(dry)
check "default: minbase of bookworm, main" bash -c 'has() { grep -qxF -- "$2" <<<"$1"; }; has "$1" --variant=minbase && has "$1" --components=main && has "$1" bookworm' _ "$out"
check "default: merged /usr without usrmerge (maybe-merged-usr hook)" has "$out" --hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr
check "default: the hardening hook runs harden-debian.sh --chroot" has "$out" '--customize-hook=sh "$GOLDEN_BOOTSTRAP_SCRIPTS/harden-debian.sh" --root "$1" --chroot'
check_empty "default: no explicit mirror (mmdebstrap adds -updates and -security)" "$(grep '^deb ' <<<"$out" || true)"
check "default: this machine's architecture" has "$out" "--architectures=$(dpkg --print-architecture)"
out=$(dry --arch aarch64)
check "--arch aarch64 bootstraps arm64 (dpkg name)" has "$out" --architectures=arm64
out=$(GOLDEN_DEBIAN_ARCH=arm64 dry)
check "env GOLDEN_DEBIAN_ARCH is honoured" has "$out" --architectures=arm64
check "host resolv.conf and hostname are dropped" has "$out" '--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"'

out=$(GOLDEN_DEBIAN_SNAPSHOT_URL=http://snapshot.invalid/archive/ dry --snapshot 20250520T000000Z --components main,contrib)
check_eq "snapshot: suite, -updates and -security pinned at the timestamp" "$(grep '^deb ' <<<"$out")" \
  "deb [check-valid-until=no] http://snapshot.invalid/archive/debian/20250520T000000Z bookworm main contrib
deb [check-valid-until=no] http://snapshot.invalid/archive/debian/20250520T000000Z bookworm-updates main contrib
deb [check-valid-until=no] http://snapshot.invalid/archive/debian-security/20250520T000000Z bookworm-security main contrib"

out=$(GOLDEN_DEBIAN_MIRROR=http://mirror.invalid/debian GOLDEN_DEBIAN_SECURITY_MIRROR=http://mirror.invalid/debian-security \
  GOLDEN_DEBIAN_SUITE=trixie GOLDEN_DEBIAN_VARIANT=apt dry)
check_eq "mirror from the environment: suite, -updates, security mirror" "$(grep '^deb ' <<<"$out")" \
  "deb http://mirror.invalid/debian trixie main
deb http://mirror.invalid/debian trixie-updates main
deb http://mirror.invalid/debian-security trixie-security main"
check "env GOLDEN_DEBIAN_VARIANT is honoured" has "$out" --variant=apt
out=$(dry --suite sid --mirror http://mirror.invalid/debian)
check_eq "unstable has no -updates or -security suites" "$(grep '^deb ' <<<"$out")" "deb http://mirror.invalid/debian sid main"
out=$(dry --no-harden --cache-dir "$work/cache")
check_empty "--no-harden: no hardening hook" "$(grep 'harden-debian.sh' <<<"$out" || true)"
check "--cache-dir keeps the essential debs and syncs the cache" has "$out" --skip=essential/unlink

expect_fail() { # expect_fail DESCRIPTION MESSAGE-REGEX ARGS...
  local desc=$1 re=$2 rc=0
  shift 2
  scripts/bootstrap-debian.sh --dry-run "$@" >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 2 ] && grep -Eq -- "$re" "$work/err" && [ ! -s "$work/out" ]; then ok "$desc"; else
    fail "$desc (exit $rc)"
    sed 's/^/       /' "$work/err"
  fi
}
expect_fail "an unsupported architecture" 'architecture `s390x` is not supported \(amd64, arm64' --arch s390x
expect_fail "a malformed snapshot timestamp" 'is not a timestamp like 20250520T000000Z' --snapshot 2025-05-20
expect_fail "a snapshot without the service URL" 'set GOLDEN_DEBIAN_SNAPSHOT_URL' --snapshot 20250520T000000Z
expect_fail "mirror and snapshot together" 'exclude each other' --snapshot 20250520T000000Z --snapshot-url http://s.invalid --mirror http://m.invalid/debian
expect_fail "a mirror that is not a URL" 'is not an http\(s\):// or file:// URL' --mirror mirror.invalid/debian
expect_fail "an unknown variant" 'unknown mmdebstrap variant `tiny`' --variant tiny
expect_fail "a bad suite name" 'is not a Debian suite name' --suite 'Bookworm!'
expect_fail "a bad component" 'is not an archive component name' --components 'main,Non Free'
expect_fail "a label without =" 'is not KEY=VALUE' --label org.opencontainers.image.title
expect_fail "--no-import without --output" 'would throw the result away' --no-import
expect_fail "--security-mirror without --mirror" 'only applies with --mirror' --security-mirror http://s.invalid/debian-security
expect_fail "an unknown flag" 'unknown argument `--frob`' --frob
expect_fail "a digest reference as a tag" 'is a digest reference: an image is tagged NAME\[:TAG\]' \
  --tag "golden/base-debian@sha256:$(printf '0%.0s' {1..64})"
rc=0
SOURCE_DATE_EPOCH=yesterday scripts/bootstrap-debian.sh --dry-run >/dev/null 2>"$work/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q 'SOURCE_DATE_EPOCH must be seconds' "$work/err"; then ok "a non-numeric SOURCE_DATE_EPOCH"; else
  fail "a non-numeric SOURCE_DATE_EPOCH (exit $rc)"
fi
check "--help documents every flag golden-build passes" bash -c \
  'h=$(scripts/bootstrap-debian.sh --help); for f in --suite --variant --components --mirror --snapshot --tag --label --output --no-import; do grep -q -- "  $f " <<<"$h" || exit 1; done'
finish
