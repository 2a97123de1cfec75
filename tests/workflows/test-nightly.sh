#!/usr/bin/env bash
# Scenario "nightly": .github/workflows/nightly.yml on `schedule`, through golden-images.yml, as
# GitHub would run it, on this machine's buildable subset (tests/workflows/fixtures/
# build-config.yaml: the Debian base from the archive, nginx, python), pushing to a registry in
# token mode behind the ACR-compatible token service, logging in through GitHub OIDC → Entra →
# ACR exchange (golden-testkit). Asserts what the run produced, not only its exit code:
#   the login chain, every planned tag in the registry, the referrers of each image (scan report,
#   SBOM, build record, OpenVEX), real Trivy scans against a DB mirror (one download per run,
#   the planted findings decided by VEX), the workflow outputs summary/digests/status, the stored
#   SARIF, the alert job closing the alert issue an earlier failing night left open, and that
#   no secret the fakes issued appears in any log or artifact.
# The first run routes its jobs through the `runners` mapping (vars.GOLDEN_RUNNERS, custom labels
# only act maps to this host; ubuntu-24.04 is not mapped, so a job that ignored the mapping would
# be skipped by act and its assertions below would fail).
# Then a second run with a planted failure (python's Dockerfile broken): report says failed and
# names the image, nothing of it is pushed, the others still are.
# shellcheck source=tests/workflows/lib.sh
. "$(dirname "$0")/lib.sh"
require_tools docker curl
docker info >/dev/null 2>&1 || fail "no Docker engine: run scripts/ensure-docker.sh"

rm -rf "$WORK"
mkdir -p "$WORK"
fixture_repo "$WORK/repo"
start_fakes "$WORK"
start_trivy_db "$WORK"
# Signing by configuration alone (docs/signing.md): a key in a secret, a verify policy in the
# catalog (its public key beside it) checked before any tag moves, and GitHub's keyless
# attestations (stand-ins that check the Docker config login golden-push login wrote).
"$ROOT/target/debug/golden-push" keygen "$WORK/signing-key.pem" >/dev/null || fail "golden-push keygen failed"
cp "$WORK/signing-key.pem.pub" "$WORK/repo/configs/golden-signing.pub"
printf 'keys:\n  - golden-signing.pub\nprovenance:\n  source_repository: %s\n' "'https://github\\.com/$FIXTURE_SLUG'" >"$WORK/repo/configs/verify-policy.yaml"
git -C "$WORK/repo" -c user.name=golden-test -c user.email=test@invalid add configs/golden-signing.pub configs/verify-policy.yaml
git -C "$WORK/repo" -c user.name=golden-test -c user.email=test@invalid commit --quiet -m "fixture: signing public key and verify policy"
sign_args=(--secret "GOLDEN_SIGNING_KEY=$(cat "$WORK/signing-key.pem")" --var GOLDEN_VERIFY_POLICY=configs/verify-policy.yaml
  --var GOLDEN_GITHUB_ATTESTATIONS=true)
mapfile -t fake_args < <(act_fake_args)
mapfile -t trivy_args < <(act_trivy_args)
# Staging (docs/governance.md): the nightly pushes under golden-staging with per-run tags only;
# the release namespace (the catalog's `golden`) gets nothing until a promotion.
vars=(--var GOLDEN_BUILD_MODE=auto --var GOLDEN_STAGING_NAMESPACE=golden-staging "${trivy_args[@]}")

# Monitoring by configuration alone (docs/monitoring.md): the real Pushgateway behind basic auth
# and a json webhook receiver; the nightly ships to both through repository variables and
# secrets only. The report job keeps its history and the webhook alert state in the Actions cache.
for t in prometheus-pushgateway htpasswd; do
  command -v "$t" >/dev/null 2>&1 || fail "$t not found: run scripts/setup.sh (Debian packages prometheus-pushgateway, apache2-utils)"
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port="$(free_port)" pg_user=pusher pg_pass="pg-$RANDOM$RANDOM-secret"
printf 'basic_auth_users:\n  %s: %s\n' "$pg_user" "$(htpasswd -nbB "$pg_user" "$pg_pass" | cut -d: -f2-)" >"$WORK/pushgateway-web.yml"
prometheus-pushgateway --web.listen-address="127.0.0.1:$pg_port" --web.config.file="$WORK/pushgateway-web.yml" \
  --persistence.file="$WORK/pushgateway.data" >"$WORK/pushgateway.log" 2>&1 &
PG_PID=$!
hook_port="$(free_port)" hook_journal="$WORK/webhook.jsonl"
: >"$hook_journal"
python3 "$ROOT/tests/workflows/fixtures/webhook-receiver.py" "$hook_port" "$hook_journal" >"$WORK/webhook.log" 2>&1 &
HOOK_PID=$!
trap 'stop_fakes; kill "$PG_PID" "$HOOK_PID" 2>/dev/null || true' EXIT
hook_path="/hooks/golden-$RANDOM$RANDOM$RANDOM"
hook_secret="whsec-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$pg_pass" "$hook_secret" "$hook_path" >"$WORK/monitoring-secrets.txt"
for _ in $(seq 1 100); do curl -fsS -o /dev/null -u "$pg_user:$pg_pass" "http://127.0.0.1:$pg_port/-/ready" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null -u "$pg_user:$pg_pass" "http://127.0.0.1:$pg_port/-/ready" || fail "the Pushgateway did not start: $(cat "$WORK/pushgateway.log")"
mon_args=(--var "GOLDEN_PUSHGATEWAY=http://127.0.0.1:$pg_port" --secret "PUSHGATEWAY_USERNAME=$pg_user"
  --secret "PUSHGATEWAY_PASSWORD=$pg_pass" --secret "WEBHOOK_URLS=http://127.0.0.1:$hook_port$hook_path"
  --secret "WEBHOOK_SECRET=$hook_secret")
# pushed VALUE METRIC LABEL-MATCH...: the Pushgateway exposes METRIC with every LABEL-MATCH
# (`name="value"`) at VALUE.
pushed() {
  local want="$1" metric="$2" line
  shift 2
  while IFS= read -r line; do
    local all=1 m
    for m in "$@"; do case "$line" in *"$m"*) ;; *) all=0 ;; esac; done
    [ "$all" = 1 ] && [ "${line##* }" = "$want" ] && return 0
  done < <(curl -fsS -u "$pg_user:$pg_pass" "http://127.0.0.1:$pg_port/metrics" | grep "^$metric{")
  return 1
}

# An alert issue an earlier failing night left open (as golden-report opens it: the label and the
# hidden marker of the nightly's key). act 0.2.89 does not run the caller's `if: !cancelled()`
# jobs after a called workflow failed, so the opening itself cannot run here (tested against the
# GitHub fake in golden-report's own tests); the green run must close this one.
gh_api() { curl -fsS -X "$1" -H "Authorization: Bearer $GITHUB_TOKEN" -H 'Content-Type: application/json' \
  "$GITHUB_API_URL/repos/$FIXTURE_SLUG/$2" ${3:+-d "$3"}; }
gh_api POST labels '{"name":"golden-nightly-failure","color":"b60205"}' >/dev/null || fail "cannot create the alert label"
alert_issue="$(gh_api POST issues '{"title":"golden images: 1 image failing","labels":["golden-nightly-failure"],"body":"<!-- golden-report:alert:nightly:configs/build-config.yaml -->\nplanted by tests/workflows/test-nightly.sh: a failing night"}' | jq -r .number)"
[ -n "$alert_issue" ] || fail "cannot plant the open alert issue"

# ---------------------------------------------------------------- run 1: green, custom runners
state="$WORK/run1"
rc=0
runners='{"default": "golden-custom-default", "amd64": "golden-custom-amd64"}'
act_run "$state" nightly.yml schedule --repo "$WORK/repo" "${vars[@]}" "${fake_args[@]}" "${mon_args[@]}" "${sign_args[@]}" --env GITHUB_RUN_ID=101 \
  --var GOLDEN_PUBLISH_SITE=true --var "GOLDEN_RUNNERS=$runners" --platform golden-custom-default --platform golden-custom-amd64 || rc=$?
log="$state/act.log"
for j in "setup (amd64)" plan; do
  [ "$(job_result "$log" "images/golden images/$j")" = succeeded ] || fail "job $j did not succeed (see $log)"
done
grep -q 'installed the prebuilt binaries from GOLDEN_SETUP_BINARIES' "$log" || fail "setup did not reuse target/debug"
ok "setup reused the built binaries; plan succeeded"

# Every job ran on a label of the mapping: act runs only the labels mapped with --platform (no
# ubuntu-24.04), and skips a job on any other label ("Skipping unsupported platform").
if grep -F 'Skipping unsupported platform' "$log" >&2; then
  fail "a job asked for a runner label outside the runners mapping (see $log)"
fi
plan_log="$(grep -F '[images/golden images/plan' "$log")"
grep -F 'runners: default jobs run on "golden-custom-default"' <<<"$plan_log" >/dev/null \
  || fail "the plan job did not map default to golden-custom-default"
grep -F 'runners: amd64 jobs run on "golden-custom-amd64"' <<<"$plan_log" >/dev/null \
  || fail "the plan job did not map amd64 to golden-custom-amd64"
grep -F 'runners: arm64 jobs run on "ubuntu-24.04-arm"' <<<"$plan_log" >/dev/null \
  || fail "the plan job did not keep the hosted label for the arm64 key the mapping lacks"
for j in "images/golden images/trivy db" "images/golden images/report" "nightly/nightly alert"; do
  [ "$(job_result "$log" "$j")" = succeeded ] || fail "job $j did not run on its mapped runner (see $log)"
done
ok "runners mapping: every job ran on golden-custom-default or golden-custom-amd64, none on ubuntu-24.04"

jr="$WORK/kit/requests.jsonl"
for svc in oidc entra acr; do
  jq -s -e --arg s "$svc" 'any(.[]; .service == $s and .ok)' "$jr" >/dev/null || fail "no accepted $svc request: the login chain did not run (see $jr)"
done
bad="$(jq -c 'select(.ok | not)' "$jr")"
[ -z "$bad" ] || fail "the fakes refused requests: $bad"
ok "login through GitHub OIDC → Entra → ACR exchange → registry token"

plan="$state/artifacts/golden-plan/plan.json"
[ -f "$plan" ] || fail "no golden-plan artifact"
mapfile -t ids < <(jq -r '(.bases.include + .platforms.include)[].id' "$plan")
[ "${ids[*]}" = "base-debian nginx-1.22-debian python-3.11-debian" ] || fail "the plan holds ${ids[*]}"
for id in "${ids[@]}"; do
  r="$(job_result "$log" "images/golden images/$id (amd64)")"
  if [ "$r" != succeeded ]; then
    grep -F "[images/golden images/$id (amd64)" "$log" | grep -E '❌|::error|parse error|\| error' | head -n 8 >&2 || true
    fail "image job $id: $r (see $log)"
  fi
done
ok "every image job succeeded"
[ "$rc" = 0 ] || fail "act exited $rc although every image job succeeded (see $log)"

for id in "${ids[@]}"; do
  entry="$(jq -c --arg id "$id" '(.bases.include + .platforms.include)[] | select(.id == $id)' "$plan")"
  repo="$(jq -r '.image' <<<"$entry")"
  repo="${repo#"$REGISTRY"/}"
  tags="$(registry_get "$repo" tags/list | jq -r '.tags[]')" || fail "cannot list the tags of $repo"
  for t in $(jq -r '.tags[]' <<<"$entry"); do
    grep -qxF "${t##*:}" <<<"$tags" || fail "$id: tag ${t##*:} missing from $repo (has: $(tr '\n' ' ' <<<"$tags"))"
  done
  digest="$(report_output "$log" digests | jq -r --arg id "$id" '.[$id] // empty')"
  [ -n "$digest" ] || fail "$id has no digest in the workflow output digests"
  digest="${digest##*@}"
  referrers="$(registry_get "$repo" "manifests/${digest/:/-}" application/vnd.oci.image.index.v1+json)" \
    || fail "$id: no referrers index (tag ${digest/:/-})"
  n="$(jq '[.manifests[].artifactType] | unique | length' <<<"$referrers")"
  [ "$n" -ge 3 ] || fail "$id: $n distinct referrer types, expected the scan report, the SBOM and the build record: $referrers"
done
ok "every planned tag is in the registry; each image has its report, SBOM and build record as referrers"

# Staging: every image under golden-staging, dated and commit tags only; no moving tag, and the
# release repositories untouched.
for id in "${ids[@]}"; do
  entry="$(jq -c --arg id "$id" '(.bases.include + .platforms.include)[] | select(.id == $id)' "$plan")"
  repo="$(jq -r '.image' <<<"$entry")"
  case "$repo" in "$REGISTRY/golden-staging/"*) ;; *) fail "$id was not pushed to staging: $repo" ;; esac
  name="${repo##*/}"
  tags="$(registry_get "golden-staging/$name" tags/list | jq -r '.tags[]')"
  moving="$(jq -r '.published | sub(".*:"; "")' <<<"$entry")"
  if grep -qxF "$moving" <<<"$tags"; then fail "$id: the moving tag $moving is in staging"; fi
  if released="$(registry_get "golden/$name" tags/list 2>/dev/null)" && [ "$(jq '.tags // [] | length' <<<"$released")" != 0 ]; then
    fail "$id: the release repository golden/$name got tags from the nightly: $released"
  fi
done
ok "staging: per-run tags only under golden-staging, no moving tag, nothing in the release namespace"

# Signed before any tag moved, verified against the catalog's policy, and attested by GitHub.
for id in "${ids[@]}"; do
  digest="$(report_output "$log" digests | jq -r --arg id "$id" '.[$id] // empty')"
  repo="$(jq -r --arg id "$id" '(.bases.include + .platforms.include)[] | select(.id == $id) | .image' "$plan")"
  registry_get "${repo#"$REGISTRY"/}" "manifests/${digest##*@}" >/dev/null || fail "$id: cannot read $digest"
  out="$(env ACTIONS_ID_TOKEN_REQUEST_URL="$ACTIONS_ID_TOKEN_REQUEST_URL" ACTIONS_ID_TOKEN_REQUEST_TOKEN="$ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    AZURE_CLIENT_ID="$AZURE_CLIENT_ID" AZURE_TENANT_ID="$AZURE_TENANT_ID" AZURE_AUTHORITY_HOST="$AZURE_AUTHORITY_HOST" GOLDEN_REGISTRY="$REGISTRY" \
    GITHUB_OUTPUT=/dev/null "$ROOT/target/debug/golden-push" verify "$digest" --policy "$WORK/repo/configs/verify-policy.yaml" 2>&1)" \
    || fail "$id: golden-push verify refused the pushed image: $out"
done
grep -F '[images/golden images/' "$log" | grep -F 'signed' >/dev/null || fail "the push steps did not say they signed"
n="$(find "$state/records/attestations" -name '*.json' 2>/dev/null | wc -l)"
[ "$n" = 6 ] || fail "$n GitHub attestations recorded, expected a provenance and an SBOM attestation per image"
jq -s -e 'all(.[]; .push_to_registry != null) and ([.[] | select(.kind == "sbom" and .sbom_format == "spdx")] | length) == 3' \
  "$state"/records/attestations/*.json >/dev/null || fail "the attestations were not for the registry, or the SBOM ones not SPDX"
ok "every image signed with provenance before its tags moved, verified against the catalog's policy, and attested by GitHub (provenance + SPDX SBOM, after golden-push login)"

# Real Trivy: one DB download for the run (the trivy-db job), restored by every image job; every
# image scanned against the mirror's DB, the planted HIGH/CRITICAL decided by the fixture's VEX
# (shown as suppressed, the policy passes), the image's own OpenVEX document attached beside
# its report.
[ "$(job_result "$log" "images/golden images/trivy db")" = succeeded ] || fail "the trivy db job did not succeed (see $log)"
grep -F '[images/golden images/trivy db' "$log" | grep -F 'downloading the vulnerability DB' >/dev/null \
  || fail "the trivy db job did not download the DB"
for id in "${ids[@]}"; do
  grep -F "[images/golden images/$id (amd64)" "$log" | grep -F 'restored cache golden-trivy-db-' >/dev/null \
    || fail "$id: the image job did not restore the run's shared DB"
done
sumfile="$state/artifacts/golden-summary/summary.json"
for id in "${ids[@]}"; do
  jq -e --arg id "$id" '.images[] | select(.id == $id) | .scan
    | .scanner_status == "scanned" and .policy_passed and .vulnerabilities.CRITICAL == 0 and .vulnerabilities.HIGH == 0
      and .vulnerabilities.MEDIUM >= 1 and .vulnerabilities.LOW >= 1 and .suppressed >= 2' "$sumfile" >/dev/null \
    || fail "$id: not scanned against the test DB as expected: $(jq -c --arg id "$id" '.images[] | select(.id == $id) | .scan | del(.checks)' "$sumfile")"
done
jq -e '([.images[] | select(.id == "nginx-1.22-debian") | .scan.suppressed][0]) > ([.images[] | select(.id == "base-debian") | .scan.suppressed][0])' "$sumfile" >/dev/null \
  || fail "nginx's own planted HIGH (CVE-2099-0007) was not suppressed by VEX"
nginx_report="$(find "$state/artifacts/golden-report-nginx-1.22-debian-amd64" -name report.json | head -n 1)"
jq -e '[.vulnerabilities.items[] | select(.id == "CVE-2099-0001" and .vex.status == "not_affected")] | length >= 1' "$nginx_report" >/dev/null \
  || fail "nginx's report does not show the VEX decision on CVE-2099-0001"
for id in "${ids[@]}"; do
  entry="$(jq -c --arg id "$id" '(.bases.include + .platforms.include)[] | select(.id == $id)' "$plan")"
  repo="$(jq -r '.image' <<<"$entry")"
  repo="${repo#"$REGISTRY"/}"
  digest="$(report_output "$log" digests | jq -r --arg id "$id" '.[$id] // empty')"
  digest="${digest##*@}"
  registry_get "$repo" "manifests/${digest/:/-}" application/vnd.oci.image.index.v1+json \
    | jq -e 'any(.manifests[]; .artifactType == "application/openvex+json")' >/dev/null \
    || fail "$id: no OpenVEX referrer beside the scan report"
done
ok "real Trivy: one DB download, every image scanned against the mirror, planted findings decided by VEX, OpenVEX attached"

summary="$(report_output "$log" summary)"
[ "$(report_output "$log" status)" = passed ] || fail "output status is $(report_output "$log" status)"
jq -e '.status == "passed" and ([.images[] | select(.status == "ok" and (.digest // "" | startswith("sha256:")))] | length) == 3' \
  <<<"$summary" >/dev/null || fail "output summary: $summary"
ok "outputs: status passed, summary and digests name all three images"

n="$(find "$state/records/sarif" -name '*.sarif' 2>/dev/null | wc -l)"
[ "$n" = 3 ] || fail "$n SARIF files uploaded, expected one per image"
ok "one valid SARIF per image stored by the upload-sarif stand-in"

[ "$(job_result "$log" "nightly/nightly alert")" = succeeded ] || fail "the nightly alert job did not succeed (see $log)"
jq -s -e 'any(.[]; .service == "github" and .method == "GET" and (.path | endswith("/issues")))' "$jr" >/dev/null \
  || fail "the alert job did not look for an open alert issue"
[ "$(jq -r '.issues | length' "$WORK/kit/github.json")" = 1 ] || fail "a green run opened another alert issue"
jq -e --argjson n "$alert_issue" '.issues[] | select(.number == $n) | .state == "closed"' "$WORK/kit/github.json" >/dev/null \
  || fail "the green run did not close the open alert issue #$alert_issue"
jq -e --argjson n "$alert_issue" '[.comments[] | select((.issue_url // "" | endswith("/issues/\($n)")) or .issue == $n) | .body | test("is green")] | any' \
  "$WORK/kit/github.json" >/dev/null || fail "the alert issue was closed without the green-run comment: $(jq -c .comments "$WORK/kit/github.json")"
ok "alert job: the open alert issue was closed with a comment by the green run, none opened"
no_leaks "$state" "$WORK/kit/issued-secrets.txt"
ok "no issued secret in act's log, the artifacts or the records"

# The catalog site (opt-in with GOLDEN_PUBLISH_SITE): rendered from the run's documents, handed
# to Pages as one artifact.tar, deployed (the deploy-pages stand-in records what it would publish).
for j in "nightly/catalog site" "nightly/publish the catalog site"; do
  [ "$(job_result "$log" "$j")" = succeeded ] || fail "job $j did not succeed (see $log)"
done
pages="$state/records/pages"
[ -f "$pages/index.html" ] || fail "no deployed index.html under $pages"
for id in "${ids[@]}"; do
  grep -qF "href=\"images/$id.html\"" "$pages/index.html" || fail "the deployed index does not list $id"
  [ -f "$pages/images/$id.html" ] || fail "no deployed page for $id"
done
grep -qF 'Content-Security-Policy' "$pages/index.html" || fail "the deployed index has no CSP"
grep -qF '<dt>Dockerfile</dt>' "$pages/images/nginx-1.22-debian.html" || fail "the deployed nginx page names no Dockerfile (plan not read)"
# Each image's audit timeline, read from the registry by the site job with the push's identity.
grep -F '[nightly/catalog site' "$log" | grep -qF 'audit timelines: 3 of 3 pushed image(s) read' \
  || fail "the site job did not read the 3 audit timelines (see $log)"
for id in "${ids[@]}"; do
  page="$pages/images/$id.html"
  grep -qF 'class="timeline"' "$page" || fail "the deployed page of $id has no audit timeline"
  for event in built scanned signed provenance; do
    grep -qE "<td>$event</td>|>$event<" "$page" || fail "the audit timeline of $id has no $event event"
  done
done
ok "catalog site: rendered from the run's documents and deployed with a page per image and its audit timeline"

# Monitoring, green night: the metrics in the Pushgateway (run group and one group per image),
# no webhook message (green before, green now), the history saved.
pushed 3 golden_images 'job="golden-images"' 'status="ok"' \
  || fail "the Pushgateway has no golden_images{status=ok} 3 of the run (see $WORK/pushgateway.log, $log)"
for id in "${ids[@]}"; do
  pushed 1 golden_image_policy_passed "image=\"$id\"" || fail "the Pushgateway has no group of $id"
done
[ ! -s "$hook_journal" ] || fail "a green first night sent a webhook message: $(cat "$hook_journal")"
grep -F '[images/golden images/report' "$log" | grep -F 'Pushgateway: sent' >/dev/null || fail "the report job did not say what it shipped"
no_leaks "$state" "$WORK/monitoring-secrets.txt"
ok "monitoring: the metrics reached the real Pushgateway (basic auth), no webhook on a green night, no secret printed"

# ---------------------------------------------------------------- run 2: a planted failure
printf '\nRUN false # planted failure (tests/workflows/test-nightly.sh)\n' >>"$WORK/repo/platform-images/python/Dockerfile"
git -C "$WORK/repo" -c user.name=golden-test -c user.email=test@invalid commit --quiet -am "plant a failure in python"
state="$WORK/run2"
rc=0
act_run "$state" nightly.yml schedule --repo "$WORK/repo" "${vars[@]}" "${fake_args[@]}" "${mon_args[@]}" \
  --env GITHUB_RUN_ID=102 || rc=$?
log="$state/act.log"
[ "$rc" != 0 ] || fail "the run with a broken python image passed"
[ "$(report_output "$log" status)" = failed ] || fail "output status is not failed"
report_output "$log" summary | jq -e '[.images[] | select(.id == "python-3.11-debian" and .status != "ok")] | length == 1' >/dev/null \
  || fail "the summary does not name python-3.11-debian as failed"
[ "$(job_result "$log" "images/golden images/nginx-1.22-debian (amd64)")" = succeeded ] || fail "nginx did not still build and push"
ok "planted failure: status failed, python named, nginx still pushed"
grep -F '[images/golden images/trivy db' "$log" | grep -F 'restored cache golden-trivy-db-' >/dev/null \
  || fail "the second run did not reuse the DB the first one cached (same day, same key)"
if grep -F '[images/golden images/trivy db' "$log" | grep -F 'downloading the vulnerability DB' >/dev/null; then
  fail "the second run downloaded the DB again"
fi
ok "the second run of the day restored the cached DB instead of downloading it"
no_leaks "$state" "$WORK/kit/issued-secrets.txt"
ok "no issued secret in the second run's logs either"

# Monitoring, failing night: one signed json message naming python, the Pushgateway's groups
# replaced, the kept history restored from the green night's cache entry and saved again with
# the alert state the next night reads (its dedupe itself: golden-report's own tests).
[ "$(wc -l <"$hook_journal")" = 1 ] || fail "the failing night sent $(wc -l <"$hook_journal") webhook messages, want 1: $(cat "$hook_journal")"
python3 - "$hook_journal" "$hook_path" "$hook_secret" <<'PY' || fail "the webhook message is not the signed json failing message (see $hook_journal)"
import base64, hashlib, hmac, json, sys
req = json.loads(open(sys.argv[1]).readline())
body = base64.b64decode(req["body_b64"])
assert req["method"] == "POST" and req["path"] == sys.argv[2], (req["method"], req["path"])
assert req["headers"]["content-type"].startswith("application/json"), req["headers"]
want = "sha256=" + hmac.new(sys.argv[3].encode(), body, hashlib.sha256).hexdigest()
assert req["headers"]["x-golden-signature-256"] == want, "HMAC mismatch"
msg = json.loads(body)
assert msg["status"] == "failing", msg["status"]
assert any("python-3.11-debian" in json.dumps(f) for f in msg["failures"]), msg["failures"]
assert not any("nginx" in json.dumps(f) for f in msg["failures"]), msg["failures"]
PY
pushed 1 golden_images 'job="golden-images"' 'status="build_failed"' || fail "the Pushgateway's run group was not replaced by the failing night"
grep -F '[images/golden images/report' "$log" | grep -F 'restored cache golden-history-schedule-' >/dev/null \
  || fail "the failing night's report job did not restore the green night's history"
python3 - "$GOLDEN_ACT_CACHE_DIR" <<'PY' || fail "the saved history lacks the two summaries or the failing alert state"
import glob, json, os, sys, tarfile
hits = sorted(glob.glob(os.path.join(sys.argv[1], "golden-history-schedule-*.tar")), key=os.path.getmtime)
assert len(hits) == 2, hits
with tarfile.open(hits[-1]) as t:
    names = t.getnames()
    assert len([n for n in names if n.endswith("-summary.json")]) == 2, names
    state = json.load(t.extractfile(next(n for n in names if n.endswith("alert-state.json"))))
assert state["status"] == "failing" and any("python-3.11-debian" in i for i in state["items"]), state
PY
no_leaks "$state" "$WORK/monitoring-secrets.txt"
ok "monitoring: one signed webhook message naming python, the Pushgateway updated, the history and alert state kept for the next night"
