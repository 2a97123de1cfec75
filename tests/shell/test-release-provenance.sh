#!/usr/bin/env bash
# Release provenance is bound to the tag (issue 15.9):
#   - actions/setup's `release` step, for a tag no trusted checksum knows, runs
#     `gh attestation verify` with --signer-workflow <repo>/.github/workflows/release.yml,
#     --source-ref refs/tags/<tag> and --deny-self-hosted-runners (a fake `gh` on PATH records
#     its arguments; a fake release served from file://), and refuses when gh fails;
#   - release.yml checks out refs/tags/<tag> (not a bare name a branch could shadow), stops
#     when the run's ref is not that tag, and uploads without --clobber.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # $ in single quotes is literal text searched for
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-provenance.XXXXXX")
trap 'rm -rf "$work"' EXIT

tag=v9.9.9
target=x86_64-unknown-linux-musl
name=golden-$tag-$target
mkdir -p "$work/stage/$name" "$work/release/$tag" "$work/fakebin"
for b in golden-plan golden-build golden-scan golden-push golden-report; do
  printf '#!/bin/sh\necho %s\n' "$b" >"$work/stage/$name/$b"
  chmod 755 "$work/stage/$name/$b"
done
tar -czf "$work/release/$tag/$name.tar.gz" -C "$work/stage" "$name"
(cd "$work/release/$tag" && sha256sum "$name.tar.gz" >SHA256SUMS)
cat >"$work/fakebin/gh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$work/gh-args"
exit \${FAKE_GH_RC:-0}
EOF
chmod 755 "$work/fakebin/gh"

run_release() {
  env PATH="$work/fakebin:$PATH" GITHUB_OUTPUT="$work/out" RUNNER_TEMP="$work/tmp" \
    GOLDEN_TAG=$tag GOLDEN_REPOSITORY=example/golden-images GOLDEN_ASSET="$name.tar.gz" \
    GOLDEN_BIN_DIR="$work/bin" IN_SUMS_SHA256='' IN_VERIFY_ATTESTATION=true \
    IN_RELEASE_URL="file://$work/release" GH_TOKEN=fake "$@" \
    bash "$REPO/actions/setup/setup.sh" release
}
mkdir -p "$work/tmp"
: >"$work/out"
rc=0
run_release >"$work/log" 2>&1 || rc=$?
check_eq "setup release with an attestation exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/       /' "$work/log"
args=$(cat "$work/gh-args" 2>/dev/null || true)
check_eq "gh attestation verify runs on the downloaded archive for the repository" \
  "$(head -n 5 <<<"$args" | tr '\n' ' ')" "attestation verify $work/tmp/golden/setup-download/$name.tar.gz --repo example/golden-images "
check "... signed by release.yml" grep -qxF -- "--signer-workflow" <<<"$args"
check "... signer workflow example/golden-images/.github/workflows/release.yml" \
  grep -qxF "example/golden-images/.github/workflows/release.yml" <<<"$args"
check_eq "... bound to the tag: --source-ref refs/tags/$tag" \
  "$(grep -A1 -xF -- --source-ref <<<"$args" | tail -n 1)" "refs/tags/$tag"
check "... on GitHub-hosted runners only: --deny-self-hosted-runners" grep -qxF -- "--deny-self-hosted-runners" <<<"$args"
check "the output says what verified the archive" grep -q 'verified-by.*attestation\|attestation' "$work/out"

rm -rf "${work:?}/bin" "$work/gh-args"
rc=0
run_release FAKE_GH_RC=1 >"$work/log" 2>&1 || rc=$?
check "a failed verification refuses to install (exit non-zero)" test "$rc" -ne 0
check "... naming the tag ref" grep -q "could not be verified .* at refs/tags/$tag: refusing to install" "$work/log"
check "... and installs nothing" test ! -e "$work/bin/golden-plan"

echo "# release.yml"
wf=$REPO/.github/workflows/release.yml
check_empty "no --clobber anywhere in release.yml" "$(grep -n -- '--clobber' "$wf" || true)"
check_empty "every checkout ref names refs/tags/ explicitly" \
  "$(grep -nE '^[[:space:]]+ref:' "$wf" | grep -v 'ref: refs/tags/\${{' || true)"
check "at least one checkout of refs/tags/<tag>" grep -qE '^[[:space:]]+ref: refs/tags/\$\{\{ github.event.release.tag_name \|\| inputs.tag \}\}' "$wf"
check "the build stops when the run's ref is not the tag" grep -qF '[ "$RUN_REF" != "refs/tags/$TAG" ]' "$wf"

finish
