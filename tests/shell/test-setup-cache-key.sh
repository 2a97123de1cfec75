#!/usr/bin/env bash
# actions/setup's binary cache key (source: build) covers every file compiled into the
# binaries, including the files the sources pull in with include_str!/include_bytes!
# (configs/policy.yaml, the default scan policy): the resolve step runs on a copy of the
# checkout, and the key must change when policy.yaml changes, stay when a test file changes,
# and resolve must fail on an include it cannot follow (not a string literal).
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
command -v cargo >/dev/null || { echo "FAIL - cargo required"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-cachekey.XXXXXX")
trap 'rm -rf "$work"' EXIT
co=$work/checkout
mkdir -p "$co"
(cd "$REPO" && git ls-files -z -- Cargo.toml Cargo.lock crates configs actions | xargs -0 cp --parents -t "$co")

key() { # the cache-key output of `setup.sh resolve` in the copy
  local out=$work/out
  : >"$out"
  env GITHUB_OUTPUT="$out" RUNNER_TEMP="$work/tmp" IN_SOURCE=build IN_INSTALL_DIR="$work/bin" \
    bash "$co/actions/setup/setup.sh" resolve >/dev/null 2>"$work/err" || return 1
  awk '/^cache-key<</ { getline; print; exit }' "$out"
}
mkdir -p "$work/tmp"
k1=$(key) || { fail "setup.sh resolve failed"; sed 's/^/       /' "$work/err"; finish; }
check "resolve prints a binary cache key" test -n "$k1"
check_eq "the key is stable" "$(key)" "$k1"
printf '\n# a changed default policy\n' >>"$co/configs/policy.yaml"
k2=$(key)
check "a change to configs/policy.yaml (include_str! in golden-scan) changes the key" test "$k2" != "$k1"
testfile=$(cd "$co" && find crates -path '*/tests/*' -name '*.rs' | head -n 1)
printf '\n// test-only change\n' >>"$co/$testfile"
check_eq "a change to a test file ($testfile) does not" "$(key)" "$k2"
printf '\nconst X: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/x"));\n' >>"$co/crates/golden-scan/src/policy.rs"
rc=0
key >/dev/null || rc=$?
check "an include_str! of a non-literal fails resolve" test "$rc" -ne 0
check "... naming the file" grep -q 'crates/golden-scan/src/policy.rs: .*other than a string literal' "$work/err"

finish
