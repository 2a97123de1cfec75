#!/usr/bin/env bash
# harden-alpine.sh's file-level steps inside a busybox-only container: Debian's static
# busybox (package busybox-static) copied into a FROM scratch image with its applet
# symlinks, no bash, no GNU tools. The synthetic Alpine tree is built and hardened there with
# busybox sh, and the result must be exactly the listing the GNU run produces
# (tests/shell/fixtures/harden/expected-alpine.txt), and a second run must change nothing.
# Proves harden-common.sh and harden-alpine.sh are POSIX sh with busybox-compatible tools.
# Needs the Docker engine (fails, never skips, without one).
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_docker

busybox=${GOLDEN_TEST_BUSYBOX:-/bin/busybox}
ldd_out=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
if [ ! -x "$busybox" ] || [[ $ldd_out != *"not a dynamic executable"* ]]; then
  echo "FAIL - a static busybox is required at $busybox (apt-get install busybox-static; scripts/setup.sh does)"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-busybox.XXXXXX")
image=$(unique_tag harden-busybox)
cleanup() {
  docker image rm -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ctx/harden"
cp "$busybox" "$work/ctx/busybox"
cp "$REPO/scripts/harden-common.sh" "$REPO/scripts/harden-alpine.sh" \
  "$FIXTURES/make-tree.sh" "$FIXTURES/list-tree.sh" "$work/ctx/harden/"
cat >"$work/ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "sh", "-c", "mkdir -p /tmp /usr/bin /sbin /usr/sbin && chmod 1777 /tmp"]
COPY harden /harden/
CMD ["/bin/sh"]
EOF
if ! DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work/ctx" >"$work/build.log" 2>&1; then
  fail "docker build of the busybox image"
  sed 's/^/       /' "$work/build.log"
  finish
fi
ok "built a busybox-only scratch image ($image)"

# Inside: prove the userland is busybox, build the tree, harden it twice, list it each time.
cat >"$work/run.sh" <<'EOF'
set -eu
for tool in sh find sed grep stat sha256sum readlink mktemp cut chmod chown; do
  target=$(readlink "/bin/$tool")
  [ "$target" = /bin/busybox ] || { echo "NOT-BUSYBOX $tool -> $target"; exit 3; }
done
# the only program in the image is busybox (no bash, no GNU tools anywhere)
others=$(find / -xdev -type f ! -path /bin/busybox ! -path '/harden/*' ! -path '/etc/*' ! -path /.dockerenv ! -path '/proc/*' ! -path '/sys/*' ! -path '/dev/*')
if [ -n "$others" ]; then echo "NOT-BUSYBOX other files: $others"; exit 3; fi
sh /harden/make-tree.sh alpine /tree
SOURCE_DATE_EPOCH=1747699200 sh /harden/harden-alpine.sh --root /tree --skip packages 2>/harden.log
echo "=== first"
sh /harden/list-tree.sh /tree
SOURCE_DATE_EPOCH=1747699200 sh /harden/harden-alpine.sh --root /tree --skip packages 2>>/harden.log
echo "=== second"
sh /harden/list-tree.sh /tree
echo "=== log"
cat /harden.log
EOF
rc=0
docker run --rm -i --network none "$image" sh -s <"$work/run.sh" >"$work/out" 2>&1 || rc=$?
check_eq "busybox sh ran the hardening without error" "$rc" 0
if [ "$rc" -ne 0 ]; then
  sed 's/^/       /' "$work/out" | tail -n 40
  finish
fi
check_empty "the container's userland is busybox only (no bash, no GNU tools)" "$(grep -E '^(NOT-BUSYBOX|BASH-PRESENT)' "$work/out" || true)"
sed -n '/^=== first$/,/^=== second$/p' "$work/out" | sed '1d;$d' >"$work/first"
sed -n '/^=== second$/,/^=== log$/p' "$work/out" | sed '1d;$d' >"$work/second"
check "the busybox run produced a listing" test -s "$work/first"
check_empty "busybox result is exactly expected-alpine.txt (same as the GNU run)" \
  "$(diff -u "$FIXTURES/expected-alpine.txt" "$work/first" || true)"
check_empty "second busybox run changes nothing" "$(diff -u "$work/first" "$work/second" || true)"
check "the log shows setuid stripping ran" grep -q 'stripped setuid/setgid: /usr/bin/su' "$work/out"
check "the log shows the package steps skipped under --root" grep -q 'step upgrade: skipped' "$work/out"
finish
