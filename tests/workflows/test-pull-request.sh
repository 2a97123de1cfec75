#!/usr/bin/env bash
# Scenario "pull-request": the pull-request life of the catalog, as GitHub would run it, against a
# registry in token mode behind the ACR-compatible token service (golden-testkit):
#   1. dispatch.yml (`workflow_dispatch`, os=debian, platforms=nginx, push, architectures
#      amd64+arm64): the filter plans the Debian base and nginx only; each is built, scanned and
#      pushed per architecture (arm64 for real, under qemu-user-static: act runs the
#      ubuntu-24.04-arm jobs on this amd64 host and the build action's `arch` input emulates),
#      and the merge job publishes one index per image with both platforms (the published
#      images the PRs compare with);
#   2. pull-request.yml from a branch of the same repository changing nginx: only nginx is
#      planned, built and scanned; nothing is pushed, no OIDC token exists in the run, the
#      registry is read with the pull-only credential (GOLDEN_PULL_*) and the comment data
#      compares with the published image; pr-comment.json is uploaded, nothing is posted;
#   3. pr-comment.yml (`workflow_run`) posts it: one sticky comment on the pull request;
#   4. pr-comment.yml again for the same run: nothing is sent (the comment is unchanged);
#   5. pull-request.yml from a fork (no secrets at all): no registry credential is used, the
#      run still succeeds and uploads its pr-comment.json; pr-comment.yml then updates the same
#      comment in place (still one comment);
#   6. dispatch.yml again, amd64+arm64, with nginx broken on arm64 only: the amd64 leg pushes,
#      the arm64 one fails, the moving tag keeps its index, the report names nginx on arm64;
#   and no secret the fakes issued appears in any log or artifact of any of these runs. Every
#   run scans with the pinned Trivy against the test DB mirror (lib.sh start_trivy_db), as the
#   shipped policy requires on these events.
# shellcheck source=tests/workflows/lib.sh
. "$(dirname "$0")/lib.sh"
require_tools docker curl
docker info >/dev/null 2>&1 || fail "no Docker engine: run scripts/ensure-docker.sh"

rm -rf "$WORK"
mkdir -p "$WORK"
fixture_repo "$WORK/repo"
start_fakes "$WORK"
start_trivy_db "$WORK"
mapfile -t fake_args < <(act_fake_args)
mapfile -t trivy_args < <(act_trivy_args)
vars=(--var GOLDEN_BUILD_MODE=auto "${trivy_args[@]}")
jr="$WORK/kit/requests.jsonl"
repo="$WORK/repo"
git_c() { git -C "$repo" -c user.name=golden-test -c user.email=test@invalid "$@"; }
count() { jq -s "[.[] | select($1)] | length" "$jr"; }

# ---------------------------------------------------------------- 1. dispatch with filters
state="$WORK/dispatch"
rc=0
act_run "$state" dispatch.yml workflow_dispatch --repo "$repo" --input os=debian --input platforms=nginx \
  --input push=true --input architectures=amd64+arm64 "${vars[@]}" "${fake_args[@]}" || rc=$?
log="$state/act.log"
plan="$state/artifacts/golden-plan/plan.json"
[ -f "$plan" ] || fail "dispatch: no golden-plan artifact (see $log)"
ids="$(jq -r '[(.bases.include + .platforms.include)[].id] | join(" ")' "$plan")"
[ "$ids" = "base-debian nginx-1.22-debian" ] || fail "dispatch os=debian platforms=nginx planned: $ids"
[ "$rc" = 0 ] || fail "dispatch run failed ($rc, see $log)"
nginx_repo="$(jq -r '.platforms.include[0].image' "$plan")"
nginx_repo="${nginx_repo#"$REGISTRY"/}"
published="$(registry_get "$nginx_repo" tags/list | jq -r '.tags | sort | join(" ")')" || fail "nginx was not pushed"
for t in $(jq -r '.platforms.include[0].tags[]' "$plan"); do
  grep -qw -- "${t##*:}" <<<"$published" || fail "dispatch: tag ${t##*:} missing (has $published)"
done
python_repo="${nginx_repo%/nginx}/python"
if registry_get "$python_repo" tags/list >/dev/null 2>&1; then fail "dispatch pushed python although platforms=nginx"; fi
# Two architectures: the moving tag is an index with both platforms, each manifest's config of
# its own architecture (the arm64 one built under emulation in the arm64 job).
for e in base-debian nginx-1.22-debian; do
  ref="$(jq -r --arg id "$e" '(.bases.include + .platforms.include)[] | select(.id == $id) | .tags[0]' "$plan")"
  r="${ref#"$REGISTRY"/}"
  index="$(registry_get "${r%:*}" "manifests/${r##*:}")" || fail "dispatch: no manifest for $ref"
  platforms="$(jq -r '[.manifests[]?.platform | "\(.os)/\(.architecture)"] | sort | join(" ")' <<<"$index")"
  [ "$(jq -r .mediaType <<<"$index")" = application/vnd.oci.image.index.v1+json ] && [ "$platforms" = "linux/amd64 linux/arm64" ] \
    || fail "dispatch: $ref is not a two-platform index: $(jq -c '{mediaType, manifests: [.manifests[]?.platform]}' <<<"$index")"
  for a in amd64 arm64; do
    m="$(jq -r --arg a "$a" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$index")"
    cfg="$(registry_get "${r%:*}" "manifests/$m" | jq -r .config.digest)"
    [ "$(registry_get "${r%:*}" "blobs/$cfg" | jq -r .architecture)" = "$a" ] || fail "dispatch: the $a manifest of $ref has a config of another architecture"
  done
done
[ -f "$state/artifacts/golden-index/index-record.json" ] || fail "dispatch: no golden-index artifact"
ok "dispatch os=debian platforms=nginx amd64+arm64: base and nginx built per architecture, merged into two-platform indexes; python not planned"

# ---------------------------------------------------------------- 2. same-repository pull request
base_sha="$(git -C "$repo" rev-parse HEAD)"
git -C "$repo" checkout --quiet -b feature
printf '\n# pull request change (tests/workflows/test-pull-request.sh)\n' >>"$repo/platform-images/nginx/Dockerfile"
git_c commit --quiet -am "nginx: a change under review"
head_sha="$(git -C "$repo" rev-parse HEAD)"
pr_event() { # HEAD-SHA HEAD-REPO FORK
  jq -n --arg head "$1" --arg base "$base_sha" --arg hr "$2" --argjson fork "$3" --arg repo "$FIXTURE_SLUG" '{
    number: 7, action: "synchronize",
    pull_request: {number: 7, head: {sha: $head, ref: "feature", repo: {full_name: $hr, fork: $fork}},
                   base: {sha: $base, ref: "main", repo: {full_name: $repo}}},
    repository: {full_name: $repo, default_branch: "main"}}'
}
pr_event "$head_sha" "$FIXTURE_SLUG" false >"$WORK/pr1.json"
exchanges_before="$(count '.service == "acr" and (.path | endswith("/exchange"))')"
oidc_before="$(count '.service == "oidc"')"
state="$WORK/pr1"
rc=0
act_run "$state" pull-request.yml pull_request --repo "$repo" --event-json "$WORK/pr1.json" "${vars[@]}" \
  --var "GOLDEN_REGISTRY=$REGISTRY" --secret "GOLDEN_PULL_USERNAME=$GOLDEN_PULL_USERNAME" \
  --secret "GOLDEN_PULL_PASSWORD=$GOLDEN_PULL_PASSWORD" --secret "GITHUB_TOKEN=$GITHUB_TOKEN" \
  --env "GITHUB_API_URL=$GITHUB_API_URL" || rc=$?
log="$state/act.log"
[ "$rc" = 0 ] || fail "same-repository pull request run failed ($rc, see $log)"
ids="$(jq -r '[(.bases.include + .platforms.include)[].id] | join(" ")' "$state/artifacts/golden-plan/plan.json")"
[ "$ids" = "nginx-1.22-debian" ] || fail "the pull request changing nginx planned: $ids"
# (The journal first: registry_get below logs in through the fakes itself.)
[ "$(count '.service == "acr" and (.path | endswith("/exchange"))')" = "$exchanges_before" ] \
  || fail "the pull request run exchanged an Entra token (it must have no push credential)"
[ "$(count '.service == "oidc"')" = "$oidc_before" ] || fail "the pull request run asked for a GitHub OIDC token"
[ "$(registry_get "$nginx_repo" tags/list | jq -r '.tags | sort | join(" ")')" = "$published" ] \
  || fail "the pull request moved or added tags"
jq -s -e 'any(.[]; .service == "acr" and .method == "GET" and (.path | endswith("/token")) and .ok)' "$jr" >/dev/null \
  || fail "the baseline was not read with the pull-only credential (no accepted Basic token request in $jr)"
comment="$state/artifacts/golden-pr-comment/pr-comment.json"
[ -f "$comment" ] || fail "no golden-pr-comment artifact"
jq -e '.schema == 2 and .pr == 7 and .data.totals.baseline_images == 1
  and ([.data.images[] | select(.id == "nginx-1.22-debian" and .new_image == false)] | length == 1)' "$comment" >/dev/null \
  || fail "pr-comment.json does not compare nginx with the published image: $(jq -c '{pr, totals: .data.totals, images: [.data.images[] | {id, new_image, size_change}]}' "$comment")"
[ "$(jq -r '.comments | length' "$WORK/kit/github.json" 2>/dev/null || echo 0)" = 0 ] \
  || fail "the pull-request run posted a comment itself (only pr-comment.yml may)"
jq -e '.data.images[] | select(.id == "nginx-1.22-debian") | .scanner == "scanned" and .vulnerabilities.critical == 0
  and .vulnerabilities.high == 0 and .vulnerabilities.medium >= 1' "$comment" >/dev/null \
  || fail "the pull request's nginx was not scanned with the real Trivy against the test DB: $(jq -c '[.data.images[] | {id, scanner, vulnerabilities}]' "$comment")"
ok "pull request: only nginx built and scanned (real Trivy), nothing pushed, no OIDC, baseline read with the pull credential, pr-comment.json uploaded"
# The build cache (docs/workflows.md, "Build cache"): the pull request's nginx build pulled the
# published nginx from the token-mode registry with the pull-only credential and the classic
# builder reused its layers.
published_ref="$(jq -r '.platforms.include[0].cache_from | if length == 1 then .[0] else error("cache_from: \(.)") end' "$state/artifacts/golden-plan/plan.json")" \
  || fail "the pull request's plan does not name one cache source for nginx"
if [ "$published_ref" != "$(jq -r '.platforms.include[0].published' "$state/artifacts/golden-plan/plan.json")" ] \
  || [ "${published_ref%:*}" != "$REGISTRY/$nginx_repo" ] || ! grep -qw -- "${published_ref##*:}" <<<"$published"; then
  fail "cache source $published_ref is not the tag the dispatch run published (has: $published)"
fi
rec="$(find "$state/artifacts/golden-report-nginx-1.22-debian-amd64" -name '*build-record.json' | head -n 1)"
[ -n "$rec" ] || fail "no build record of the pull request's nginx"
jq -e --arg p "$published_ref" '.cache.used == [$p] and (.cache.missing | length) == 0' "$rec" >/dev/null \
  || fail "the pull request's nginx build did not use its published image as cache: $(jq -c .cache "$rec")"
hits="$(grep -F '[images/golden images/nginx-1.22-debian (amd64)' "$log" | grep -c -- '---> Using cache' || true)"
[ "$hits" -ge 1 ] || fail "the classic builder reused no step of the pulled cache image (see $log)"
ok "pull request build cache: the published nginx pulled from the token-mode registry with the pull credential, $hits steps from the cache"

# ---------------------------------------------------------------- 3. pr-comment.yml posts
curl -fsS -X POST -H "Authorization: Bearer $GOLDEN_TESTKIT_CONTROL_TOKEN" -H 'Content-Type: application/json' \
  -d "{\"sha\":\"$head_sha\"}" "$GITHUB_API_URL/_testkit/pulls/7" >/dev/null || fail "cannot set the pull request head in the fake"
run_event() { # RUN-ID HEAD-SHA HEAD-REPO
  jq -n --argjson id "$1" --arg head "$2" --arg hr "$3" --arg repo "$FIXTURE_SLUG" '{
    action: "completed",
    workflow_run: {id: $id, name: "pull request", event: "pull_request", conclusion: "success",
                   head_sha: $head, head_branch: "feature", head_repository: {full_name: $hr}},
    repository: {full_name: $repo, default_branch: "main"}}'
}
post_comment() { # STATE RUN-ID PR-STATE HEAD-SHA HEAD-REPO
  run_event "$2" "$4" "$5" >"$1.json"
  git -C "$repo" checkout --quiet main # workflow_run runs the default branch's workflow
  local rc=0
  act_run "$1" pr-comment.yml workflow_run --repo "$repo" --event-json "$1.json" --run-artifacts "$2=$3" \
    --secret "GITHUB_TOKEN=$GITHUB_TOKEN" --env "GITHUB_API_URL=$GITHUB_API_URL" || rc=$?
  git -C "$repo" checkout --quiet feature
  [ "$rc" = 0 ] || fail "pr-comment.yml failed ($rc, see $1/act.log)"
}
writes() { count '.service == "github" and (.method == "POST" or .method == "PATCH") and (.path | test("/issues/(7/)?comments"))'; }
post_comment "$WORK/post1" 1001 "$WORK/pr1" "$head_sha" "$FIXTURE_SLUG"
n="$(jq -r '.comments | length' "$WORK/kit/github.json")"
[ "$n" = 1 ] || fail "pr-comment.yml left $n comments, expected one"
body1="$(jq -r '.comments[0].body' "$WORK/kit/github.json")"
grep -q 'nginx' <<<"$body1" || fail "the comment does not name nginx: $body1"
grep -q '<!--' <<<"$body1" || fail "the comment has no sticky marker: $body1"
# The SBOM's package counts per ecosystem (an all-green image has no details block, the table
# is there anyway): nginx's row gives its total and its dpkg count, equal to the scan's.
grep -qF '### Packages per ecosystem' <<<"$body1" || fail "the comment has no package counts per ecosystem: $body1"
want_dpkg="$(jq -r '.data.images[] | select(.id == "nginx-1.22-debian") | .packages_by_kind.dpkg // empty' "$comment")"
[ -n "$want_dpkg" ] || fail "pr-comment.json has no dpkg count for nginx: $(jq -c '[.data.images[] | {id, packages, packages_by_kind}]' "$comment")"
# shellcheck disable=SC2016 # the backticks are Markdown, matched literally
grep -E '^\| `nginx-1\.22-debian` \| [0-9]+ \| '"$want_dpkg"' \|' <<<"$body1" >/dev/null \
  || fail "the ecosystem table's nginx row does not give the scan's $want_dpkg dpkg packages: $(grep -F 'nginx-1.22-debian' <<<"$body1")"
[ "$(writes)" = 1 ] || fail "expected exactly one write to the comments, saw $(writes)"
ok "pr-comment.yml: one sticky comment created from the validated artifact"

# ---------------------------------------------------------------- 4. the same comment again
post_comment "$WORK/post2" 1001 "$WORK/pr1" "$head_sha" "$FIXTURE_SLUG"
[ "$(writes)" = 1 ] || fail "an unchanged comment was sent again ($(writes) writes)"
[ "$(jq -r '.comments | length' "$WORK/kit/github.json")" = 1 ] || fail "a second comment was created"
ok "pr-comment.yml with an unchanged comment sends nothing"

# ---------------------------------------------------------------- 5. a fork's pull request
printf '# a fork pushes another change\n' >>"$repo/platform-images/nginx/Dockerfile"
git_c commit --quiet -am "nginx: the fork's next push"
fork_sha="$(git -C "$repo" rev-parse HEAD)"
pr_event "$fork_sha" "someone/golden-fork" true >"$WORK/pr2.json"
issued_before="$(count '.service == "acr" and .ok and (.path | endswith("/token"))')"
oidc_before="$(count '.service == "oidc"')"
state="$WORK/pr2"
rc=0
act_run "$state" pull-request.yml pull_request --repo "$repo" --event-json "$WORK/pr2.json" "${vars[@]}" \
  --var "GOLDEN_REGISTRY=$REGISTRY" || rc=$?
log="$state/act.log"
[ "$rc" = 0 ] || fail "fork pull request run failed ($rc, see $log)"
[ "$(count '.service == "acr" and .ok and (.path | endswith("/token"))')" = "$issued_before" ] \
  || fail "the fork's run got a registry token (it has no credential)"
[ "$(count '.service == "oidc"')" = "$oidc_before" ] || fail "the fork's run asked for a GitHub OIDC token"
[ "$(registry_get "$nginx_repo" tags/list | jq -r '.tags | sort | join(" ")')" = "$published" ] \
  || fail "the fork's run moved or added tags"
[ -f "$state/artifacts/golden-pr-comment/pr-comment.json" ] || fail "the fork's run uploaded no pr-comment.json"
curl -fsS -X POST -H "Authorization: Bearer $GOLDEN_TESTKIT_CONTROL_TOKEN" -H 'Content-Type: application/json' \
  -d "{\"sha\":\"$fork_sha\"}" "$GITHUB_API_URL/_testkit/pulls/7" >/dev/null || fail "cannot set the pull request head in the fake"
post_comment "$WORK/post3" 1002 "$WORK/pr2" "$fork_sha" "someone/golden-fork"
[ "$(jq -r '.comments | length' "$WORK/kit/github.json")" = 1 ] || fail "the fork's comment was not updated in place"
[ "$(jq -r '.comments[0].body' "$WORK/kit/github.json")" != "$body1" ] || fail "the comment was not updated for the new push"
[ "$(writes)" = 2 ] || fail "expected one more write (the update), saw $(writes) in total"
jq -s -e 'any(.[]; .service == "github" and .method == "PATCH" and (.path | test("/issues/comments/")))' "$jr" >/dev/null \
  || fail "the update was not a PATCH of the existing comment"
ok "fork pull request: no credential, nothing pushed, pr-comment.json posted by pr-comment.yml as an in-place update"

# ---------------------------------------------------------------- 6. one architecture fails
# A change that breaks nginx on arm64 only: the amd64 leg builds and pushes its `-amd64` tag, the
# arm64 leg fails; the merge job must not publish an amd64-only index under the moving tag, and
# the report names the failed architecture.
git -C "$repo" checkout --quiet main
# shellcheck disable=SC2016 # the RUN line is for the Dockerfile's shell, not this one
printf '\n# planted arm64-only failure (tests/workflows/test-pull-request.sh)\nRUN [ "$(uname -m)" != aarch64 ]\n' \
  >>"$repo/platform-images/nginx/Dockerfile"
git_c commit --quiet -am "nginx: a change that breaks arm64 only"
moving="$(jq -r '.platforms.include[0].tags[0]' "$plan")"
moving="${moving##*:}"
index_before="$(registry_get "$nginx_repo" "manifests/$moving" | sha256sum)"
state="$WORK/dispatch-arm64-broken"
rc=0
act_run "$state" dispatch.yml workflow_dispatch --repo "$repo" --input os=debian --input platforms=nginx \
  --input push=true --input architectures=amd64+arm64 "${vars[@]}" "${fake_args[@]}" || rc=$?
log="$state/act.log"
[ "$rc" != 0 ] || fail "the run with nginx broken on arm64 passed (see $log)"
r="$(job_result "$log" "images/golden images/nginx-1.22-debian (arm64)")"
[ "$r" = failed ] || fail "the nginx arm64 job: $r, expected failed (see $log)"
r="$(job_result "$log" "images/golden images/nginx-1.22-debian (amd64)")"
[ "$r" = succeeded ] || fail "the nginx amd64 job: $r, expected succeeded (see $log)"
[ "$(registry_get "$nginx_repo" "manifests/$moving" | sha256sum)" = "$index_before" ] \
  || fail "the moving tag $moving moved although nginx failed on arm64"
[ "$(report_output "$log" status)" = failed ] || fail "output status is $(report_output "$log" status), expected failed"
sumfile="$state/artifacts/golden-summary/summary.json"
jq -e '[.images[] | select(.id == "nginx-1.22-debian" and .arch == "arm64" and .status != "ok")] | length == 1' "$sumfile" >/dev/null \
  || fail "the summary does not name nginx arm64 as failed: $(jq -c '[.images[] | {id, arch, status}]' "$sumfile")"
awk '/^\| .* \| \*\*nginx-1\.22-debian\*\* \| ✅ \| ❌/ {f = 1} END {exit !f}' "$state/artifacts/golden-summary/summary.md" \
  || fail "summary.md does not show nginx passing on amd64 and failing on arm64: $(grep -F 'nginx-1.22-debian**' "$state/artifacts/golden-summary/summary.md")"
ok "one architecture fails: no new index under the moving tag, status failed, nginx arm64 named"

for s in dispatch pr1 post1 post2 pr2 post3 dispatch-arm64-broken; do no_leaks "$WORK/$s" "$WORK/kit/issued-secrets.txt"; done
ok "no issued secret in any log or artifact of the seven runs"
