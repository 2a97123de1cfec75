#!/usr/bin/env bash
# The hardened Debian base against the real engine, built the way `make base-debian` builds
# it: golden-plan's entry for base-debian (tags rewritten to a unique test name so nothing
# real is overwritten) through scripts/build-base.sh -> bootstrap-debian.sh. Then:
#   - image config: numeric USER 10001, WORKDIR, the plan's labels plus created (no base.*
#     labels: the image is not built FROM the upstream they name), Created = the epoch;
#   - as the default user: uid/gid 10001, the home is writable, /etc/shadow is not readable;
#   - as root inside (tests/shell/fixtures/harden/check-debian-rootfs.sh): no setuid/setgid,
#     nothing world-writable outside sticky /tmp and /var/tmp, root locked, limits file,
#     no apt lists/caches, docs stripped, manifest present, re-hardening is a no-op;
#   - the manifest is valid JSON with every step applied;
#   - apt still works for platform images (installs a package, docs excluded by dpkg);
#   - building again (what a second `make base-debian` of the same commit does) gives the
#     same image id, under another tag.
# Needs root (mmdebstrap) and the Docker engine; fails, never skips, without them.
# Set GOLDEN_DEBIAN_CACHE_DIR to reuse downloaded .debs between runs.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"
require_docker
command -v jq >/dev/null || { echo "FAIL - jq required: run scripts/setup.sh"; exit 1; }
cd "$REPO"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-base-debian.XXXXXX")
tag=$(unique_tag base-debian)
tag2=${tag}-second
tag3=${tag}-rebuild
cleanup() {
  docker image rm -f "$tag" "$tag2" "$tag3" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The plan, from golden-plan, with the tags replaced by test tags.
plan_bin=${CARGO_TARGET_DIR:-target}/debug/golden-plan
if [ ! -x "$plan_bin" ]; then cargo build -q -p golden-plan; fi
"$plan_bin" --config configs/build-config.yaml --event local --os debian --format json >"$work/plan.json"
jq --arg t1 "$tag" --arg t2 "$tag2" '(.bases.include[] | select(.id == "base-debian") | .tags) = [$t1, $t2]' \
  "$work/plan.json" >"$work/plan-test.json"
check_eq "golden-plan gives base-debian a bootstrap section" \
  "$(jq -c '.bases.include[] | select(.id == "base-debian") | .bootstrap | has("suite")' "$work/plan-test.json")" true

start=$(date +%s)
rc=0
GOLDEN_PLAN_FILE=$work/plan-test.json SOURCE_DATE_EPOCH=$TEST_EPOCH scripts/build-base.sh debian \
  >"$work/id" 2>"$work/build.log" || rc=$?
check_eq "scripts/build-base.sh debian exits 0 ($(($(date +%s) - start)) s)" "$rc" 0
if [ "$rc" -ne 0 ]; then
  tail -n 40 "$work/build.log" | sed 's/^/       /'
  finish
fi
id=$(cat "$work/id")
check "build-base.sh prints the image id" grep -Eq '^sha256:[0-9a-f]{64}$' "$work/id"
check_eq "both plan tags point at the image" \
  "$(docker image inspect --format '{{.Id}}' "$tag") $(docker image inspect --format '{{.Id}}' "$tag2")" "$id $id"

# image config
docker image inspect "$tag" >"$work/inspect.json"
check_eq "numeric non-root user in the image config" "$(jq -r '.[0].Config.User' "$work/inspect.json")" 10001
check_eq "working directory" "$(jq -r '.[0].Config.WorkingDir' "$work/inspect.json")" /home/app
check_eq "one layer" "$(jq -r '.[0].RootFS.Layers | length' "$work/inspect.json")" 1
want_labels=$(jq -c '.bases.include[] | select(.id == "base-debian") | .labels + {"org.opencontainers.image.created": "'"$TEST_DATE"'"}
  | del(.["org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"])' "$work/plan-test.json")
check_eq "the plan's labels (+ created, - base.*) are on the image" \
  "$(jq -cS '.[0].Config.Labels' "$work/inspect.json")" "$(jq -cS . <<<"$want_labels")"
check_eq "the config is dated SOURCE_DATE_EPOCH" "$(jq -r '.[0].Created' "$work/inspect.json")" "$TEST_DATE"

# as the default user
check_eq "runs as uid/gid 10001 by default" "$(docker run --rm "$tag" id -u):$(docker run --rm "$tag" id -g)" "10001:10001"
check "the runtime user can write its home" docker run --rm "$tag" sh -c 'touch /home/app/probe'
check "the runtime user cannot read /etc/shadow" docker run --rm "$tag" sh -c '! cat /etc/shadow 2>/dev/null'

# as root, the filesystem sweeps
rc=0
docker run --rm -i --user 0 "$tag" sh -s <"$FIXTURES/check-debian-rootfs.sh" >"$work/inside" 2>&1 || rc=$?
cat "$work/inside"
check_eq "in-container checks pass" "$rc" 0

# the manifest
docker run --rm "$tag" cat /usr/share/golden/hardening.json >"$work/manifest.json"
check "manifest is valid JSON" json_ok "$work/manifest.json"
check_eq "manifest header" "$(jq -c '[.schema, .os, .os_version, .date, .user.uid, .user.gid, .user.name, .setuid_allowlist]' "$work/manifest.json")" \
  "[1,\"debian\",\"12\",\"$TEST_DATE\",10001,10001,\"app\",[]]"
check_empty "every step applied in the bootstrap (package steps ran through --chroot)" \
  "$(jq -r '.steps[] | select(.status != "applied") | .name' "$work/manifest.json")"

# platform images can still install packages (as root, like a platform Dockerfile's RUN)
rc=0
docker run --rm --user 0 "$tag" sh -c 'apt-get update -qq && apt-get install -y -qq hello >/dev/null &&
  hello && test -f /usr/share/doc/hello/copyright && test -z "$(find /usr/share/man /usr/share/info -type f)" &&
  test -z "$(find /var/cache/apt -name "*.deb")"' >"$work/apt.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then ok "apt-get install works in the base; new docs/man pages are excluded, .debs not kept"; else
  fail "apt-get install works in the base; new docs/man pages are excluded, .debs not kept"
  tail -n 20 "$work/apt.log" | sed 's/^/       /'
fi

# Build again: same commit, same epoch, same plan (tags aside) -> the same image, not a new one.
jq --arg t "$tag3" '(.bases.include[] | select(.id == "base-debian") | .tags) = [$t]' \
  "$work/plan-test.json" >"$work/plan-rebuild.json"
start=$(date +%s)
rc=0
GOLDEN_PLAN_FILE=$work/plan-rebuild.json SOURCE_DATE_EPOCH=$TEST_EPOCH scripts/build-base.sh debian \
  >"$work/id2" 2>"$work/build2.log" || rc=$?
check_eq "a second build-base.sh debian exits 0 ($(($(date +%s) - start)) s)" "$rc" 0
[ "$rc" -eq 0 ] || tail -n 20 "$work/build2.log" | sed 's/^/       /'
echo "# image ids: $id / $(cat "$work/id2")"
check_eq "the second build gives the same image id" "$(cat "$work/id2")" "$id"
check_eq "its tag points at that image" "$(docker image inspect --format '{{.Id}}' "$tag3" 2>&1)" "$id"

size=$(jq -r '.[0].Size' "$work/inspect.json")
packages=$(docker run --rm "$tag" dpkg-query -W -f='.\n' | wc -l)
echo "# image size $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB), $packages packages"
finish
