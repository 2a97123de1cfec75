#!/usr/bin/env bash
# Governance under act: promote.yml (approval-gated promotion by digest, then replicate.yml) and
# retention.yml, against the token-mode registry (the ACR stand-in: GitHub OIDC → Entra → ACR
# exchange, all faked by golden-testkit) as the primary and a plain docker-registry as the DR
# secondary. The staged images come from "run 500", a nightly whose push records the scenario
# writes (the images themselves pushed with golden-push into the staging namespace, each with a
# scan report). A fake `gh` answers the run's approvals and the environment's deployment.
# The staged images are signed (golden-push sign, key in the GOLDEN_SIGNING_KEY secret); the
# repository's verify policy (GOLDEN_VERIFY_POLICY) trusts that key.
# Asserts:
#   - promote: every staged image verified by the policy, then at the release location under
#     the same digest, with its dated and moving tags, its scan report and its signatures, plus
#     an audit record naming the environment, the approver and the deployment, signed with the
#     key (verified with the public key); replicate (called by promote): the secondary has
#     every release tag at the same digest with the referrers, its replication records signed;
#   - a second replicate.yml run copies nothing and says so;
#   - retention.yml (dry run): lists what it would delete, deletes nothing;
#   - no secret the fakes issued leaks into the logs or artifacts.
# shellcheck source=tests/workflows/lib.sh
. "$(dirname "$0")/lib.sh"
require_tools docker curl skopeo

rm -rf "$WORK"
mkdir -p "$WORK/bin"
start_fakes "$WORK/fakes"
fixture_repo "$WORK/repo"
sec_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
SECONDARY="127.0.0.1:$sec_port"
"$ROOT/scripts/registry.sh" start --port "$sec_port" --dir "$WORK/secondary" >/dev/null || fail "the secondary registry did not start"
trap 'stop_fakes; "$ROOT/scripts/registry.sh" stop --dir "$WORK/secondary" >/dev/null 2>&1 || true; docker rmi -f $(cat "$WORK/images" 2>/dev/null) >/dev/null 2>&1 || true' EXIT
: >"$WORK/images"

# golden-push as the workflows run it: OIDC → Entra → ACR exchange against the fakes.
gp() {
  env ACTIONS_ID_TOKEN_REQUEST_URL="$ACTIONS_ID_TOKEN_REQUEST_URL" ACTIONS_ID_TOKEN_REQUEST_TOKEN="$ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    AZURE_CLIENT_ID="$AZURE_CLIENT_ID" AZURE_TENANT_ID="$AZURE_TENANT_ID" AZURE_AUTHORITY_HOST="$AZURE_AUTHORITY_HOST" \
    GOLDEN_REGISTRY="$REGISTRY" GITHUB_OUTPUT=/dev/null "$ROOT/target/debug/golden-push" "$@"
}

# The signing key (a repository secret) and the verify policy trusting its public key, in the
# calling repository as a catalog owner keeps them.
"$ROOT/target/debug/golden-push" keygen "$WORK/signing-key.pem" >/dev/null || fail "golden-push keygen failed"
cp "$WORK/signing-key.pem.pub" "$WORK/repo/configs/golden-signing.pub"
printf 'keys:\n  - golden-signing.pub\n' >"$WORK/repo/configs/verify-policy.yaml"
git -C "$WORK/repo" -c user.name=golden-test -c user.email=test@invalid add configs/golden-signing.pub configs/verify-policy.yaml
git -C "$WORK/repo" -c user.name=golden-test -c user.email=test@invalid commit --quiet -m "fixture: signing public key and verify policy"
printf 'provenance:\n  required: false\nscan_report:\n  required: false\n' >"$WORK/signature-only.yaml"

# The nightly's output: three images in the staging namespace, each with a passing scan report,
# signed with its provenance (naming the report), and run 500's push records naming them.
run500="$WORK/run-500"
for name in base-debian nginx python; do
  dir="$(mktemp -d "$WORK/img.XXXXXX")"
  printf '%s\n' "$name" >"$dir/content"
  tar -C "$dir" -cf - content | docker import - "golden-governance/$name:test" >/dev/null || fail "docker import $name"
  echo "golden-governance/$name:test" >>"$WORK/images"
  staged="$REGISTRY/golden-staging/$name"
  gp push "golden-governance/$name:test" --to "$staged:1-debian-20261201" --tag 1-debian-sha-0123abc --record "$WORK/push-$name.json" >/dev/null \
    || fail "staging $name failed"
  digest="$(jq -r .digest "$WORK/push-$name.json")"
  printf '{"schema":1,"policy":{"passed":true,"failures":[]},"entry_id":"%s"}\n' "$name" >"$WORK/$name-report.json"
  gp attach "$staged@$digest" "$WORK/$name-report.json" --artifact-type application/vnd.golden.scan-report.v1+json >/dev/null \
    || fail "attaching the report of $name failed"
  GITHUB_REPOSITORY="$FIXTURE_SLUG" gp sign "$staged@$digest" --sign-key "$WORK/signing-key.pem" >/dev/null \
    || fail "signing $name failed"
  mkdir -p "$run500/artifacts/golden-report-$name-amd64"
  jq -n --arg id "$name" --arg ref "$staged@$digest" --arg digest "$digest" \
    '{schema: 1, kind: "golden-push-record", id: $id, result: "success", reference: $ref, digest: $digest, index: false}' \
    >"$run500/artifacts/golden-report-$name-amd64/push-record.json"
  echo "$name $digest" >>"$WORK/staged.txt"
done
ok "run 500 staged three images in $REGISTRY/golden-staging with passing scan reports"

# The fake gh: the approvals of this run and the environment's deployment, nothing else.
cat >"$WORK/bin/gh" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$WORK/gh.log"
[ -n "\$GH_TOKEN" ] || { echo "gh: GH_TOKEN is empty" >&2; exit 4; }
case "\$1 \$2" in
  "api repos/$FIXTURE_SLUG/actions/runs/"*/approvals) echo octocat ;;
  "api repos/$FIXTURE_SLUG/deployments?environment=production&"*) echo 4242 ;;
  *) echo "gh (fake): unexpected \$*" >&2; exit 1 ;;
esac
EOF
chmod +x "$WORK/bin/gh"

common=()
mapfile -t common < <(act_fake_args)
common+=(--repo "$WORK/repo" --env "PATH=$WORK/bin:$PATH"
  --var "GOLDEN_RELEASE=$REGISTRY/golden" --var "GOLDEN_STAGING_NAMESPACE=golden-staging"
  --var "GOLDEN_STAGING=$REGISTRY/golden-staging" --var "GOLDEN_SECONDARIES=[\"$SECONDARY\"]"
  --var GOLDEN_VERIFY_POLICY=configs/verify-policy.yaml --secret "GOLDEN_SIGNING_KEY=$(cat "$WORK/signing-key.pem")")

rc=0
act_run "$WORK/promote" "$ROOT/.github/workflows/promote.yml" workflow_dispatch "${common[@]}" \
  --input run-id=500 --input environment=production --run-artifacts "500=$run500" || rc=$?
log="$WORK/promote/act.log"
[ "$rc" = 0 ] || fail "promote.yml failed (see $log)"
[ "$(job_result "$log" "promote/promote")" = succeeded ] || fail "the promote job did not succeed (see $log)"
grep -q "actions/runs/.*/approvals" "$WORK/gh.log" || fail "the approvals were not asked for"
while read -r name digest; do
  for tag in 1-debian 1-debian-20261201 1-debian-sha-0123abc; do
    got="$(registry_get "golden/$name" "manifests/$tag" | sha256sum | cut -d' ' -f1)"
    [ "sha256:$got" = "$digest" ] || fail "release $name:$tag is sha256:$got, staged $digest"
  done
  refs="$(gp referrers "$REGISTRY/golden/$name@$digest" --format json)"
  jq -e 'map(select(.artifactType == "application/vnd.golden.scan-report.v1+json")) | length == 1' <<<"$refs" >/dev/null \
    || fail "the scan report did not come along to the release of $name: $refs"
  jq -e 'map(select(.artifactType == "application/vnd.dev.sigstore.bundle.v0.3+json")) | length == 2' <<<"$refs" >/dev/null \
    || fail "the signature and provenance did not come along to the release of $name: $refs"
  audit="$(jq -r 'map(select(.artifactType == "application/vnd.golden.audit.v1+json")) | .[0].digest // empty' <<<"$refs")"
  [ -n "$audit" ] || fail "no audit record on the release of $name: $refs"
  layer="$(registry_get "golden/$name" "manifests/$audit" application/vnd.oci.image.manifest.v1+json | jq -r '.layers[0].digest')"
  record="$(registry_get "golden/$name" "blobs/$layer")"
  jq -e '.event == "promotion" and .context.environment == "production" and .context.approver == "octocat" and .context.deployment_id == "4242"' <<<"$record" >/dev/null \
    || fail "the audit record of $name does not name the environment, approver and deployment: $record"
  jq -e '.verified | index("signature") and index("provenance") and index("scan-report")' <<<"$record" >/dev/null \
    || fail "the audit record of $name does not say what the verify policy checked: $record"
  gp verify "$REGISTRY/golden/$name@$audit" --key "$WORK/signing-key.pem.pub" \
    --policy "$WORK/signature-only.yaml" >"$WORK/verify-audit-$name.txt" 2>&1 \
    || fail "the promotion audit record of $name is not signed by the key: $(cat "$WORK/verify-audit-$name.txt")"
  # Replicated by the replicate job promote.yml calls: same digest, same referrers.
  got="$(skopeo inspect --raw --tls-verify=false "docker://$SECONDARY/golden/$name:1-debian" | sha256sum | cut -d' ' -f1)"
  [ "sha256:$got" = "$digest" ] || fail "the secondary's $name:1-debian is sha256:$got, not $digest"
  sec_refs="$("$ROOT/target/debug/golden-push" referrers "$SECONDARY/golden/$name@$digest" --format json)"
  n="$(jq length <<<"$sec_refs")"
  [ "$n" = 5 ] || fail "the secondary has $n referrers of $name (want the report, the signature, the provenance and the promotion and replication audit records): $sec_refs"
  replication="$(jq -r 'map(select(.artifactType == "application/vnd.golden.audit.v1+json")) | map(.digest) | .[]' <<<"$sec_refs")"
  signed=0
  for r in $replication; do
    GITHUB_OUTPUT=/dev/null "$ROOT/target/debug/golden-push" verify "$SECONDARY/golden/$name@$r" --key "$WORK/signing-key.pem.pub" \
      --policy "$WORK/signature-only.yaml" >/dev/null 2>&1 && signed=$((signed + 1))
  done
  [ "$signed" = 2 ] || fail "$signed of the 2 audit records on the secondary's $name verify with the key (want both: promotion and replication)"
done <"$WORK/staged.txt"
[ "$(job_result "$log" "replicate/replicate/sync to $SECONDARY")" = succeeded ] || fail "the replicate job did not run after the promotion (see $log)"
grep -q "\[ok\] signature" "$log" || fail "the promotion log does not show the verify policy's checks (see $log)"
ok "verified, then promoted by digest with dated and moving tags, reports, signatures and a signed audit record (environment, approver, deployment); replicated to the secondary with a signed replication record"

rc=0
act_run "$WORK/replicate" "$ROOT/.github/workflows/replicate.yml" workflow_dispatch "${common[@]}" || rc=$?
[ "$rc" = 0 ] || fail "replicate.yml failed (see $WORK/replicate/act.log)"
grep -q "in sync: 9 tag(s) already at the destination, nothing copied" "$WORK/replicate/act.log" \
  || fail "the second replication was not a no-op (see $WORK/replicate/act.log)"
ok "a second replication copies nothing and says so"

rc=0
act_run "$WORK/retention" "$ROOT/.github/workflows/retention.yml" workflow_dispatch "${common[@]}" \
  --input keep=0 --input older-than=0 || rc=$?
log="$WORK/retention/act.log"
[ "$rc" = 0 ] || fail "retention.yml failed (see $log)"
grep -q "would delete" "$log" || fail "the dry run listed nothing to delete (see $log)"
while read -r name digest; do
  registry_get "golden-staging/$name" "manifests/$digest" >/dev/null || fail "the dry run deleted $name@$digest"
done <"$WORK/staged.txt"
ok "retention (dry run) lists the old per-run tags and deletes nothing"

# Every token the fakes issued stays out of the logs and artifacts.
# The signing key's body lines (the secret) are checked the same way.
grep -v -- '-----' "$WORK/signing-key.pem" >"$WORK/signing-key-lines.txt"
for s in "$WORK/promote" "$WORK/replicate" "$WORK/retention"; do
  no_leaks "$s" "$WORK/fakes/kit/issued-secrets.txt"
  no_leaks "$s" "$WORK/signing-key-lines.txt"
done
ok "no issued secret and no line of the signing key in the logs or artifacts"
