#!/usr/bin/env bash
# The Dockerfile path of the bases, for real, offline: base-images/debian/Dockerfile built by
# scripts/build-base.sh's Dockerfile branch (the one alpine and redhat take on GitHub) FROM a
# stand-in upstream: a plain, unhardened Debian bootstrap (bootstrap-debian.sh --no-harden)
# given through GOLDEN_UPSTREAM_IMAGE. The RUN applies updates and removals at root / (so the
# package steps run here, unlike the bootstrap's --chroot), and the result must pass the same
# in-container checks as the bootstrapped base.
# Needs root (mmdebstrap) and the Docker engine; fails, never skips, without them.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"
require_docker
command -v jq >/dev/null || { echo "FAIL - jq required: run scripts/setup.sh"; exit 1; }
cd "$REPO"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-base-dockerfile.XXXXXX")
upstream=$(unique_tag upstream-debian)
tag=$(unique_tag base-debian-dockerfile)
cleanup() {
  docker image rm -f "$tag" >/dev/null 2>&1 || true
  docker image rm -f "$upstream" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

rc=0
SOURCE_DATE_EPOCH=$TEST_EPOCH scripts/bootstrap-debian.sh --no-harden --tag "$upstream" >/dev/null 2>"$work/upstream.log" || rc=$?
check_eq "plain Debian bootstrap imported as the stand-in upstream" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 20 "$work/upstream.log" | sed 's/^/       /'; finish; fi
check_eq "the stand-in upstream is unhardened (runs as root, setuid present)" \
  "$(docker run --rm "$upstream" sh -c 'id -u; test -u /usr/bin/su && echo setuid')" $'0\nsetuid'

plan_bin=${CARGO_TARGET_DIR:-target}/debug/golden-plan
if [ ! -x "$plan_bin" ]; then cargo build -q -p golden-plan; fi
"$plan_bin" --config configs/build-config.yaml --event local --os debian --format json |
  jq --arg t "$tag" '(.bases.include[] | select(.id == "base-debian")) |= (.tags = [$t] | del(.bootstrap))' >"$work/plan.json"

start=$(date +%s)
rc=0
GOLDEN_PLAN_FILE=$work/plan.json GOLDEN_UPSTREAM_IMAGE=$upstream SOURCE_DATE_EPOCH=$TEST_EPOCH \
  scripts/build-base.sh debian >"$work/id" 2>"$work/build.log" || rc=$?
check_eq "build-base.sh builds base-images/debian/Dockerfile FROM the upstream ($(($(date +%s) - start)) s)" "$rc" 0
if [ "$rc" -ne 0 ]; then tail -n 30 "$work/build.log" | sed 's/^/       /'; finish; fi
check_eq "build-base.sh prints the built image id" "$(cat "$work/id")" "$(docker image inspect --format '{{.Id}}' "$tag")"

docker image inspect "$tag" >"$work/inspect.json"
check_eq "numeric non-root user in the image config" "$(jq -r '.[0].Config.User' "$work/inspect.json")" 10001
check_eq "plan labels override the Dockerfile's defaults" \
  "$(jq -r '.[0].Config.Labels["org.opencontainers.image.title"] + "|" + .[0].Config.Labels["org.opencontainers.image.created"]' "$work/inspect.json")" \
  "golden debian 12 base|$TEST_DATE"
check_eq "the base.name label is the plan's (the pinned upstream)" \
  "$(jq -r '.[0].Config.Labels["org.opencontainers.image.base.name"]' "$work/inspect.json")" \
  "$(jq -r '.bases.include[] | select(.id == "base-debian") | .labels["org.opencontainers.image.base.name"]' "$work/plan.json")"
check_eq "runs as uid 10001 by default" "$(docker run --rm "$tag" id -u)" 10001

rc=0
docker run --rm -i --user 0 "$tag" sh -s <"$FIXTURES/check-debian-rootfs.sh" >"$work/inside" 2>&1 || rc=$?
cat "$work/inside"
check_eq "in-container checks pass" "$rc" 0

docker run --rm "$tag" cat /usr/share/golden/hardening.json >"$work/manifest.json"
check "manifest is valid JSON" json_ok "$work/manifest.json"
check_empty "every step applied, package steps included (root /)" \
  "$(jq -r '.steps[] | select(.status != "applied") | .name' "$work/manifest.json")"
check "the build log shows apt's upgrade and the purge of the removal list" \
  grep -q 'removing: e2fsprogs libext2fs2 libss2 logsave mount' "$work/build.log"
finish
