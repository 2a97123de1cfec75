#!/usr/bin/env bash
# scripts/build-base.sh (what `make base-<os>` runs), its refusals: alpine and redhat need
# their pinned upstream image, which cannot be pulled on a machine without a registry: the
# script must say so clearly and exit 2 (never half-build, never pretend). Usage errors exit 2.
# The successful paths are covered by test-base-debian.sh (bootstrap) and
# test-base-dockerfile.sh (Dockerfile). Needs the Docker engine and golden-plan.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # backquotes in single quotes are literal message text
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_docker
cd "$REPO"
plan_bin=${CARGO_TARGET_DIR:-target}/debug/golden-plan
if [ ! -x "$plan_bin" ]; then cargo build -q -p golden-plan; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-base-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

expect() { # expect DESCRIPTION RC MESSAGE-REGEX COMMAND...
  local desc=$1 want=$2 re=$3 rc=0
  shift 3
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq "$want" ] && grep -Eq -- "$re" "$work/err" && [ ! -s "$work/out" ]; then ok "$desc"; else
    fail "$desc (exit $rc, want $want)"
    sed 's/^/       /' "$work/err" | tail -n 10
  fi
}

for os in alpine redhat; do
  upstream=$("$plan_bin" --config configs/build-config.yaml --event local --os "$os" --format json |
    jq -r --arg id "base-$os" '.bases.include[] | select(.id == $id) | .upstream')
  if docker image inspect "$upstream" >/dev/null 2>&1; then
    fail "$os: the upstream $upstream is unexpectedly in the local engine; this test needs a machine that cannot pull it"
    continue
  fi
  expect "$os: exits 2 explaining the upstream cannot be pulled here and GitHub builds it" 2 \
    "upstream image .*${upstream%%@*}.* is not in the local engine and cannot be pulled.*built by the GitHub workflow" \
    scripts/build-base.sh "$os"
  expect "$os: a missing GOLDEN_UPSTREAM_IMAGE is refused the same way" 2 \
    'upstream image golden-base-test/no-such-image:x is not in the local engine and cannot be pulled' \
    env GOLDEN_UPSTREAM_IMAGE=golden-base-test/no-such-image:x scripts/build-base.sh "$os"
done
expect "no argument is a usage error" 2 'expected exactly one OS argument' scripts/build-base.sh
expect "an unknown OS is a usage error" 2 'unknown OS `debain`' scripts/build-base.sh debain
expect "a missing plan file is reported" 2 'GOLDEN_PLAN_FILE `/nonexistent/plan.json` does not exist' \
  env GOLDEN_PLAN_FILE=/nonexistent/plan.json scripts/build-base.sh debian
echo '{"bases":{"include":[]},"platforms":{"include":[]}}' >"$work/empty-plan.json"
expect "a plan without the base entry is reported" 2 'the plan has no base entry `base-debian`' \
  env GOLDEN_PLAN_FILE="$work/empty-plan.json" scripts/build-base.sh debian
# The default SOURCE_DATE_EPOCH is the HEAD commit time (same commit = same Debian image id),
# also when git would call the checkout "dubious" (owned by another user than the root that
# runs the bootstrap; GIT_TEST_ASSUME_DIFFERENT_OWNER makes git treat it so). The bootstrap's
# --dry-run shows the epoch it gets without building anything.
"$plan_bin" --config configs/build-config.yaml --event local --os debian --format json >"$work/plan.json"
head_before=$(git -c "safe.directory=$(pwd -P)" log -1 --format=%ct)
rc=0
env -u SOURCE_DATE_EPOCH GIT_TEST_ASSUME_DIFFERENT_OWNER=1 GOLDEN_BOOTSTRAP_DRY_RUN=1 GOLDEN_PLAN_FILE="$work/plan.json" \
  scripts/build-base.sh debian >"$work/out" 2>"$work/err" || rc=$?
head_after=$(git -c "safe.directory=$(pwd -P)" log -1 --format=%ct)
got=$(grep -o ' SOURCE_DATE_EPOCH=[0-9]*' "$work/out" | cut -d= -f2 || true)
if [ "$rc" -eq 0 ] && { [ "$got" = "$head_before" ] || [ "$got" = "$head_after" ]; }; then
  ok "SOURCE_DATE_EPOCH defaults to the HEAD commit time, in a checkout owned by another user too"
else
  fail "SOURCE_DATE_EPOCH defaults to the HEAD commit time, in a checkout owned by another user too (exit $rc, got \`$got\`, HEAD $head_before)"
  tail -n 5 "$work/err" | sed 's/^/       /'
fi
check "--help documents the OS argument" bash -c 'scripts/build-base.sh --help | grep -q "build-base.sh OS"'
finish
