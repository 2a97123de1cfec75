#!/usr/bin/env bash
# End-to-end test of `make local` (scripts/local.sh), twice:
#   1st run: the local registry's catalog lists the Debian base and every platform of the plan,
#            each tagged as planned, each with its scan report (carrying the pushed digest as
#            image.digest), SBOM and build record attached as referrers (on distribution 2.8
#            through the referrers tag schema: a `sha256-<digest>` tag); the push record names
#            the architecture as the workflows do; reports/summary.json and the printed summary
#            show every image passing policy and its digest; with no TRIVY_DB_REPOSITORY the
#            run says once that vulnerabilities are not scanned, and each report says disabled;
#            each image is signed with the key generated into .cache/signing/ (its SLSA
#            provenance attached too) and `golden-push verify` passes on it (issue 16).
#   2nd run: nothing new is pushed: for every image every blob was already present, the digest
#            is the same, no report was attached again, and the registry's tags are unchanged.
# SOURCE_DATE_EPOCH and GOLDEN_SHA are pinned for both runs (other commits landing between the
# runs would otherwise change the dated/commit tags and the labels).
# Needs root, the Docker engine and the packages of scripts/setup.sh; fails loudly without them.
# Uses the documented local registry port 127.0.0.1:5000; stops the registry afterwards when it
# was not running before.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

REGISTRY=127.0.0.1:5000
REPORT_TYPE=application/vnd.golden.scan-report.v1+json
SBOM_TYPE=application/vnd.cyclonedx+json
RECORD_TYPE=application/vnd.golden.build-record.v1+json
BUNDLE_TYPE=application/vnd.dev.sigstore.bundle.v0.3+json

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
log() { printf 'test-local-pipeline: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || fail "root required (make local runs mmdebstrap in root mode)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || fail "docker engine required: run scripts/ensure-docker.sh"
for t in jq curl; do command -v "$t" >/dev/null 2>&1 || fail "$t required: run scripts/setup.sh"; done

# The single-architecture chain (tests/shell/test-multiarch.sh runs the multi-arch one).
unset GOLDEN_ARCHS GOLDEN_ONLY
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
export GOLDEN_SHA="${GOLDEN_SHA:-$(git rev-parse HEAD)}"

work="$(mktemp -d)"
was_running=0
if scripts/registry.sh status --dir .cache/registry >/dev/null 2>&1; then was_running=1; fi
cleanup() {
  if [ "$was_running" = 0 ]; then scripts/registry.sh stop --dir .cache/registry || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

tags_of() { # tags_of REPO: sorted tag list
  curl -sf "http://$REGISTRY/v2/$1/tags/list" | jq -r '.tags // [] | .[]' | sort
}

# runs_charted ID: how many runs the catalog site's charts of ID cover (1: no chart yet). The
# site keeps its history across `make local` runs, so a machine that ran it before starts above 1.
runs_charted() {
  grep -o 'over the last [0-9]* runs' "reports/site/images/$1.html" 2>/dev/null | head -n 1 | grep -o '[0-9][0-9]*' || echo 1
}

referrers() { # referrers SUBJECT TYPE: number of referrers of that type
  GOLDEN_SUBJECT="$1" GOLDEN_ARTIFACT_TYPE="$2" GOLDEN_FORMAT=json "${CARGO_TARGET_DIR:-target}/debug/golden-push" referrers | jq 'length'
}

# ---- first run ----------------------------------------------------------------------------
log "first run of scripts/local.sh (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH GOLDEN_SHA=${GOLDEN_SHA:0:7})"
# Without a vulnerability DB (TRIVY_DB_REPOSITORY unset) nothing is scanned for
# vulnerabilities: said once, and in the summary (the real-Trivy runs are golden-scan's
# docker_real_trivy_* tests).
if ! env -u TRIVY_DB_REPOSITORY scripts/local.sh >"$work/run1.log" 2>&1; then
  tail -n 60 "$work/run1.log" >&2
  fail "the first run of scripts/local.sh failed (log above)"
fi
[ "$(grep -c 'vulnerability scanning is SKIPPED for every image' "$work/run1.log")" = 1 ] \
  || fail "the run did not say exactly once that vulnerability scanning is skipped"
grep -q '^Vulnerabilities: NOT scanned for any image (' "$work/run1.log" \
  || fail "the summary does not say that no image was scanned for vulnerabilities"

plan=reports/plan.json
[ -s "$plan" ] || fail "no reports/plan.json"
mapfile -t ids < <(jq -r '.bases.include[].id, .platforms.include[].id' "$plan")
[ "${#ids[@]}" -ge 2 ] || fail "the local plan has fewer than two images: ${ids[*]}"
jq -e '.bases.include | map(.id) | index("base-debian") != null' "$plan" >/dev/null || fail "the plan has no Debian base"
platforms="$(jq -r '[.platforms.include[].platform] | unique | join(" ")' "$plan")"
log "plan: ${ids[*]}"

catalog="$(curl -sf "http://$REGISTRY/v2/_catalog?n=1000")" || fail "the registry catalog does not answer"
declare -A digest1 tags1
for id in "${ids[@]}"; do
  e="$(jq -c --arg id "$id" '.bases.include[], .platforms.include[] | select(.id == $id)' "$plan")"
  image="$(jq -r '.image' <<<"$e")"
  repo="${image#"$REGISTRY"/}"
  jq -e --arg r "$repo" '.repositories | index($r) != null' <<<"$catalog" >/dev/null \
    || fail "$id: repository $repo is not in the catalog: $catalog"
  rec="reports/$id/push-record.json"
  [ -s "$rec" ] || fail "$id: not pushed (no $rec)"
  digest="$(jq -r '.digest' "$rec")"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "$id: bad digest in $rec"
  digest1[$id]="$digest"
  [ "$(jq -r '.vulnerabilities.status' "reports/$id/report.json")" = disabled ] \
    || fail "$id: vulnerabilities.status is not disabled without a DB"
  tags="$(tags_of "$repo")"
  tags1[$id]="$tags"
  while IFS= read -r t; do
    grep -qxF "${t##*:}" <<<"$tags" || fail "$id: tag ${t##*:} missing from $repo (has: $(tr '\n' ' ' <<<"$tags"))"
  done < <(jq -r '.tags[]' <<<"$e")
  # The pushed manifest answers by digest, with the digest the registry computes.
  got="$(curl -sf -I -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$repo/manifests/$digest" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')"
  [ "$got" = "$digest" ] || fail "$id: the registry serves $digest as \`$got\`"
  # Reports attached as referrers; distribution 2.8 has no referrers API: the fallback tag.
  grep -qxF "sha256-${digest#sha256:}" <<<"$tags" || fail "$id: no referrers fallback tag sha256-${digest#sha256:} in $repo"
  [ "$(referrers "$image@$digest" "$REPORT_TYPE")" -ge 1 ] || fail "$id: no scan report attached to $image@$digest"
  [ "$(referrers "$image@$digest" "$SBOM_TYPE")" -ge 1 ] || fail "$id: no SBOM attached to $image@$digest"
  [ "$(referrers "$image@$digest" "$RECORD_TYPE")" -ge 1 ] || fail "$id: no build record attached to $image@$digest"
  # Signed, with provenance (two Sigstore bundles), and verified by golden-push verify.
  [ "$(referrers "$image@$digest" "$BUNDLE_TYPE")" -ge 2 ] || fail "$id: no signature and provenance bundles attached to $image@$digest"
  [ -f .cache/signing/signing-key.pem.pub ] || fail "no public key .cache/signing/signing-key.pem.pub"
  "${CARGO_TARGET_DIR:-target}/debug/golden-push" verify "$image@$digest" --key .cache/signing/signing-key.pem.pub >"$work/verify.txt" \
    || { cat "$work/verify.txt" >&2; fail "$id: golden-push verify does not pass on $image@$digest"; }
  grep -q "^- $id .*signed and verified" "$work/run1.log" || fail "$id: the printed summary does not say signed and verified"
  [ "$(jq -r '.image.digest' "reports/$id/report.json")" = "$digest" ] \
    || fail "$id: reports/$id/report.json does not carry the pushed digest as image.digest"
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  [ "$(jq -r '.arch' "$rec")" = "$arch" ] || fail "$id: $rec names the architecture $(jq -r '.arch' "$rec"), not $arch"
done
for p in $platforms; do
  jq -e --arg r "golden/$p" '.repositories | index($r) != null' <<<"$catalog" >/dev/null || fail "platform $p missing from the catalog"
done

summary=reports/summary.json
[ -s "$summary" ] || fail "no reports/summary.json"
n="${#ids[@]}"
jq -e --argjson n "$n" '.totals.images == $n and .totals.failed == 0 and .totals.problems == 0' "$summary" >/dev/null \
  || fail "the summary does not show $n images all passing: $(jq -c '.totals' "$summary")"
jq -e '[.images[].status] | all(. == "ok")' "$summary" >/dev/null || fail "an image is not ok: $(jq -c '[.images[] | {id, status}]' "$summary")"
for id in "${ids[@]}"; do
  jq -e --arg id "$id" '.images | map(.id) | index($id) != null' "$summary" >/dev/null || fail "$id missing from the summary"
  jq -e --arg id "$id" --arg d "${digest1[$id]}" '.images[] | select(.id == $id) | .digest == $d' "$summary" >/dev/null \
    || fail "$id: the summary does not show the pushed digest ${digest1[$id]}"
done
grep -q "all $n passed" "$work/run1.log" || fail "the printed Markdown summary does not say all $n passed"
grep -q '^## Local registry http://127.0.0.1:5000' "$work/run1.log" || fail "the printed summary has no registry section"
grep -q 'signing: public key .cache/signing/signing-key.pem.pub (SHA256:[0-9a-f]\{64\})' "$work/run1.log" \
  || fail "the run does not print the signing public key and its fingerprint"
if grep -q 'PRIVATE KEY' "$work/run1.log"; then fail "the run printed the private key"; fi
# The image catalog site: its path printed, every image listed (issue 19).
site="$(sed -n 's/^Site: //p' "$work/run1.log" | tail -n 1)"
[ -n "$site" ] || fail "the run did not print the path of the catalog site"
[ -f "$site" ] || fail "the printed catalog site $site does not exist"
for id in "${ids[@]}"; do
  grep -qF "href=\"images/$id.html\"" "$site" || fail "the catalog site $site does not list $id"
done
charted1="$(runs_charted "${ids[0]}")"
log "first run: $n images pushed, reports attached, all passed policy, catalog site at $site ($charted1 run(s) charted)"

# ---- second run: nothing new --------------------------------------------------------------
log "second run of scripts/local.sh"
if ! scripts/local.sh --no-setup >"$work/run2.log" 2>&1; then
  tail -n 60 "$work/run2.log" >&2
  fail "the second run of scripts/local.sh failed (log above)"
fi
for id in "${ids[@]}"; do
  rec="reports/$id/push-record.json"
  [ -s "$rec" ] || fail "$id: not pushed in the second run"
  [ "$(jq -r '.digest' "$rec")" = "${digest1[$id]}" ] \
    || fail "$id: the second run pushed a new digest $(jq -r '.digest' "$rec") (was ${digest1[$id]}): not rebuilt from cache"
  [ "$(jq -r '.uploaded' "$rec")" = 0 ] || fail "$id: the second run sent $(jq -r '.uploaded' "$rec") blobs"
  [ "$(jq -r '.attached | length' "$rec")" = 0 ] || fail "$id: the second run attached reports again"
  image="$(jq -r '.image' "$rec")"
  [ "$(tags_of "${image#"$REGISTRY"/}")" = "${tags1[$id]}" ] || fail "$id: the registry's tags changed in the second run"
  grep -q "^- $id .*every blob already present" "$work/run2.log" || fail "$id: the printed summary does not report every blob present"
done
log "second run: same ${#ids[@]} digests, every blob already present, nothing attached again"
# The second site charts one run more than the first: the first one's history was kept in its
# site (30 runs at most).
want=$((charted1 + 1)); [ "$want" -le 30 ] || want=30
[ "$(runs_charted "${ids[0]}")" = "$want" ] \
  || fail "the second run's catalog site charts $(runs_charted "${ids[0]}") run(s) for ${ids[0]}, expected $want (the first run's history was not kept)"
log "ok"
