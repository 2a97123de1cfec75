#!/usr/bin/env bash
# local.sh: the whole golden chain on this machine, what `make local` runs (`make clean-local`
# runs it with --clean). The same binaries with the same GOLDEN_* variables as the composite
# actions of the GitHub workflow, in the same order:
#
#   1. scripts/setup.sh (engine, mmdebstrap, docker-registry, linters; idempotent)
#   2. the local registry on 127.0.0.1:5000, data in .cache/registry (scripts/registry.sh)
#   3. cargo build of the golden binaries (target/debug)
#   4. golden-plan --event local --offline with GOLDEN_REGISTRY=127.0.0.1:5000: what can be
#      built here (the Debian base from the archive and the platforms on it)
#   5. for each base, then each platform: golden-build (bases with `bootstrap` in mode
#      bootstrap) -> golden-scan (Trivy when TRIVY_DB_REPOSITORY names a DB, else not
#      scanned, said once and in the summary) -> golden-push to the local
#      registry when policy passed -> golden-push attach report.json (with the pushed digest
#      as image.digest), sbom.cdx.json and build-record.json, as the push action does; then
#      the pushed digest is signed and its SLSA provenance attached (before any tag moves), and
#      `golden-push verify` checks it (signature, provenance, signed passed scan report)
#   6. golden-report over reports/ (the previous run's reports as the baseline), then the
#      Markdown summary in the terminal
#
# Usage: scripts/local.sh [--clean] [--no-setup] [--verbose] [--only ID]...
#   --clean     stop the local registry and remove reports/ (and .cache/local); keeps the
#               registry's data in .cache/registry and the Debian package cache
#   --no-setup  skip scripts/setup.sh (everything it installs is already there)
#   --verbose   stream build and scan output (default: kept in reports/<id>/*.log)
#   --only X    only the plan entries with id X or of platform X (repeatable; the bases
#               they need are built too) [GOLDEN_ONLY, space-separated]
#
# Multi-architecture (GOLDEN_ARCHS="amd64 arm64", what `make local ARCHS=...` sets): every
# image is built, scanned and pushed once per architecture (a foreign one under emulation,
# tagged <tag>-<arch> in the engine and pushed as <tag>-<arch>), then `golden-push index`
# merges them into one index per image under the real tags; an image missing an
# architecture stops the merge (no index, no tag moved). Reports go to reports/<id>/<arch>/,
# the index record to reports/index-record.json.
#
# A second run with no change rebuilds from the engine's cache (the Debian bootstrap is
# reproducible: same SOURCE_DATE_EPOCH, same archive state, same layer) and pushes nothing new:
# every blob is already in the registry and every digest is the same (the run's reports are
# attached again, to the digest, before the tags are set).
#
# Environment: SOURCE_DATE_EPOCH (default: the HEAD commit time; dates tags and labels and
# makes the bootstrap reproducible), GOLDEN_SHA (default: HEAD; the commit tag and the
# revision label), GOLDEN_DEBIAN_* (bootstrap mirror/snapshot settings, see
# scripts/bootstrap-debian.sh --help; the .deb cache defaults to .cache/debian-debs),
# TRIVY_DB_REPOSITORY / TRIVY_JAVA_DB_REPOSITORY (the vulnerability and Java DBs; unset: no
# vulnerability scan), GOLDEN_SIGNING_KEY (a PKCS#8 PEM key file; default: an ECDSA P-256 key
# generated into .cache/signing/signing-key.pem on the first run, its public key beside it as
# .pub; the private key is never printed).
# Output: reports/<id>/{build-record.json,report.json,report.sarif,report.md,sbom.cdx.json,sbom.spdx.json,
# push-record.json,*.log}, reports/{plan.json,summary.json,summary.md,metrics.prom}, and the image
# catalog site reports/site/ (index.html; its path is printed last).
# Exit codes: 0 every image built, passed policy and was pushed; 1 an image failed its build
# or policy; 2 usage or runtime error.
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
# The push action's helpers: the same tags, attachments and push record as in the workflow.
# shellcheck source=actions/lib/common.sh
. actions/lib/common.sh
PROG=local.sh
PORT=5000
REGISTRY="127.0.0.1:$PORT"
REG_DIR="$ROOT/.cache/registry"
WORK="$ROOT/.cache/local"
REPORTS="$ROOT/reports"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
BINARIES=(golden-plan golden-build golden-scan golden-push golden-report)

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
# shellcheck source=scripts/lib/arch.sh
. scripts/lib/arch.sh
usage() { sed -n '2,48s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

clean=0 setup=1 verbose=0
only=()
if [ -n "${GOLDEN_ONLY:-}" ]; then read -r -a only <<<"$GOLDEN_ONLY"; fi
while [ "$#" -gt 0 ]; do
  case "$1" in
    --clean) clean=1 ;;
    --no-setup) setup=0 ;;
    --verbose) verbose=1 ;;
    --only)
      [ "$#" -ge 2 ] || die "--only needs an entry id or a platform name"
      only+=("$2")
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument \`$1\`" ;;
  esac
  shift
done

if [ "$clean" = 1 ]; then
  scripts/registry.sh stop --dir "$REG_DIR"
  rm -rf "$REPORTS" "$WORK"
  log "stopped the local registry ($REGISTRY) and removed reports/ (registry data kept in .cache/registry)"
  exit 0
fi

# The architectures: this machine's by default; GOLDEN_ARCHS="amd64 arm64" for indexes.
host_arch=$(golden_host_arch)
archs=()
archs_in=${GOLDEN_ARCHS:-}
for a in ${archs_in//,/ }; do
  a=$(golden_arch "$a" GOLDEN_ARCHS) || exit 2
  [[ " ${archs[*]} " == *" $a "* ]] || archs+=("$a")
done
[ "${#archs[@]}" -gt 0 ] || archs=("$host_arch")
multi=0
[ "${#archs[@]}" -eq 1 ] || multi=1

[ "$(id -u)" -eq 0 ] || die "make local needs root (apt packages, the Docker engine, mmdebstrap's root mode): run it as root"

# ---- 1-3: tools, registry, binaries -------------------------------------------------------
if [ "$setup" = 1 ]; then
  log "setup: scripts/setup.sh"
  GOLDEN_ARCHS="${archs[*]}" scripts/setup.sh
elif [ "$multi" = 1 ]; then
  scripts/ensure-emulation.sh "${archs[@]}"
fi
for t in jq curl git docker; do
  command -v "$t" >/dev/null 2>&1 || die "$t not found: run scripts/setup.sh"
done
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"

mkdir -p "$REG_DIR"
if ! scripts/registry.sh status --dir "$REG_DIR" >/dev/null 2>&1 &&
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$REGISTRY/v2/" 2>/dev/null || true)" = 200 ]; then
  # Another registry (docker compose up -d registry) already serves the port anonymously.
  log "registry: using the one already answering on http://$REGISTRY (docker-compose.yml?)"
else
  pid="$(scripts/registry.sh start --port "$PORT" --dir "$REG_DIR")"
  log "registry: http://$REGISTRY (PID $pid, data in .cache/registry)"
fi

log "building the golden binaries (cargo build, debug)"
cargo_args=()
for b in "${BINARIES[@]}"; do cargo_args+=(-p "$b" --bin "$b"); done
cargo build --locked "${cargo_args[@]}"
export PATH="$BIN:$PATH"

# Signing: every pushed image (and index) is signed with this key and verified with its .pub.
sign_key="${GOLDEN_SIGNING_KEY:-$ROOT/.cache/signing/signing-key.pem}"
[ -f "$sign_key" ] || [ -n "${GOLDEN_SIGNING_KEY:-}" ] || golden-push keygen "$sign_key" >/dev/null \
  || die "cannot generate the signing key $sign_key"
[ -f "$sign_key" ] || die "GOLDEN_SIGNING_KEY: no key file at $sign_key"
sign_pub="$sign_key.pub"
[ -f "$sign_pub" ] || die "no public key $sign_pub beside the signing key (golden-push verify needs it)"
# The fingerprint golden-push prints: sha256 of the DER public key (the PEM body).
sign_fp="SHA256:$(sed '1d;$d' "$sign_pub" | tr -d '\n' | base64 -d | sha256sum | cut -d' ' -f1)"
log "signing: public key ${sign_pub#"$ROOT"/} ($sign_fp)"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export GOLDEN_DEBIAN_CACHE_DIR="${GOLDEN_DEBIAN_CACHE_DIR:-$ROOT/.cache/debian-debs}"
revision="${GOLDEN_SHA:-$(git rev-parse HEAD 2>/dev/null || true)}"

# The build context is the repository root; without a .dockerignore it would carry target/ and
# .venv/ (gigabytes). Build from a copy of the files git knows (tracked and new, not ignored).
rm -rf "$WORK/context"
mkdir -p "$WORK/context"
git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C "$WORK/context"

# The previous run's reports become the baseline (new and fixed vulnerabilities, size change).
baseline=""
rm -rf "$WORK/baseline"
if [ -d "$REPORTS" ]; then
  mv "$REPORTS" "$WORK/baseline"
  baseline="$WORK/baseline"
fi
mkdir -p "$REPORTS"

# Trivy: the pinned one scripts/setup.sh puts in .venv (else one on PATH), scanning only with a
# vulnerability DB it can reach: TRIVY_DB_REPOSITORY (a mirror of Trivy's DB, or a test DB from
# `golden-testkit trivy-db`; TRIVY_JAVA_DB_REPOSITORY for the Java DB of images with jars).
# Like the workflow: the DBs are downloaded once into .cache/trivy, every scan then runs with
# --skip-db-update. Without a DB the chain says why once, and every image is "not scanned".
trivy=off
trivy_env=()
trivy_skipped=""
trivy_bin="$ROOT/.venv/bin/trivy"
[ -x "$trivy_bin" ] || trivy_bin="$(command -v trivy 2>/dev/null || true)"
if [ -z "$trivy_bin" ]; then
  trivy_skipped="no Trivy (scripts/setup.sh installs the pinned one into .venv)"
elif [ -z "${TRIVY_DB_REPOSITORY:-}" ]; then
  trivy_skipped="no vulnerability DB: set TRIVY_DB_REPOSITORY to a registry repository serving Trivy's DB (docs/workflows.md, \"Trivy and its vulnerability DB\")"
else
  mkdir -p "$ROOT/.cache/trivy"
  log "Trivy: downloading the vulnerability DB from $TRIVY_DB_REPOSITORY into .cache/trivy"
  "$trivy_bin" image --download-db-only --no-progress --quiet --cache-dir "$ROOT/.cache/trivy" \
    || die "cannot download the vulnerability DB from $TRIVY_DB_REPOSITORY (see Trivy's message above); unset TRIVY_DB_REPOSITORY to run without vulnerability scanning"
  "$trivy_bin" image --download-java-db-only --no-progress --quiet --cache-dir "$ROOT/.cache/trivy" \
    || die "cannot download the Java DB from ${TRIVY_JAVA_DB_REPOSITORY:-the default repository of Trivy}: set TRIVY_JAVA_DB_REPOSITORY (golden-testkit trivy-db --java-repository serves an empty one)"
  trivy="$trivy_bin"
  trivy_env=(GOLDEN_TRIVY_CACHE_DIR="$ROOT/.cache/trivy" GOLDEN_TRIVY_SKIP_DB_UPDATE=true)
  log "Trivy: $trivy with the DB of $TRIVY_DB_REPOSITORY (vulnerabilities scanned)"
fi
if [ -n "$trivy_skipped" ]; then
  log "Trivy: vulnerability scanning is SKIPPED for every image: $trivy_skipped"
fi

# ---- 4: plan ------------------------------------------------------------------------------
env GOLDEN_REGISTRY="$REGISTRY" GOLDEN_EVENT=local GOLDEN_OFFLINE=true GOLDEN_SHA="$revision" \
  GOLDEN_PLAN_OUTPUT="$REPORTS/plan.json" GOLDEN_FORMAT=json golden-plan >/dev/null \
  || die "golden-plan failed (see its message above)"
# --only: the entries named (by id or platform) and the bases they are built on.
only_json=$(printf '%s\n' "${only[@]}" | jq -R . | jq -sc 'map(select(. != ""))')
mapfile -t entries < <(jq -c --argjson only "$only_json" '
  [.bases.include[], .platforms.include[]] as $all
  | if ($only | length) == 0 then $all[] else
      ($all | map(select(.id as $i | .platform as $p | $only | index($i) or index($p)))) as $picked
      | ($picked | map(.base // empty)) as $bases
      | $all[] | select((.id as $i | $picked | map(.id) | index($i)) or (.id as $i | $bases | index($i)))
    end' "$REPORTS/plan.json")
[ "${#entries[@]}" -gt 0 ] || die "nothing to build: the plan is empty${only[*]:+, or --only ${only[*]} matches no entry id or platform}"
if [ "${#only[@]}" -gt 0 ]; then
  # The run's plan is what it builds: the report must not count the left-out entries as missing.
  keep=$(printf '%s\n' "${entries[@]}" | jq -sc 'map(.id)')
  jq --argjson keep "$keep" '(.bases.include, .platforms.include) |= map(select(.id as $i | $keep | index($i)))' \
    "$REPORTS/plan.json" >"$REPORTS/plan.json.tmp" && mv "$REPORTS/plan.json.tmp" "$REPORTS/plan.json"
fi
log "plan: ${#entries[@]} images for ${archs[*]}: $(printf '%s\n' "${entries[@]}" | jq -rs 'map(.id) | join(", ")')"

# ---- 5: build, scan, push, attach ---------------------------------------------------------
# run LOG CMD...: run a step, its output in LOG (and on the terminal with --verbose).
run() {
  local logf="$1"
  shift
  if [ "$verbose" = 1 ]; then
    "$@" 2>&1 | tee "$logf"
    return "${PIPESTATUS[0]}"
  fi
  "$@" >"$logf" 2>&1
}

failed=()
declare -A pushed_line
# one ENTRY-JSON ARCH: build, scan, push and attach one image for one architecture; a failure
# is recorded in `failed` (the other images go on).
one() {
  local e="$1" arch="$2" id dir mode start image_id scan_rc label push_env=()
  id="$(jq -r '.id' <<<"$e")"
  label="$id"
  dir="$REPORTS/$id"
  if [ "$multi" = 1 ]; then
    label="$id ($arch)"
    dir="$REPORTS/$id/$arch"
    # Pushed as <tag>-<arch> alone; the index moves the real tags (golden-push index below).
    push_env=(GOLDEN_ARCH_SUFFIX="$arch")
  fi
  mkdir -p "$dir"
  mode=auto
  if [ "$(jq -r '.bootstrap != null' <<<"$e")" = true ]; then mode=bootstrap; fi

  start=$(date +%s)
  # GOLDEN_ENTRY + GOLDEN_PLAN: the same entry for golden-build, golden-scan and golden-push
  # (golden-contracts' one resolver). GOLDEN_ARCH: a foreign architecture is built under
  # emulation, on that architecture's base (<base tag>-<arch>).
  if ! run "$dir/build.log" env GOLDEN_ENTRY="$id" GOLDEN_PLAN="$REPORTS/plan.json" GOLDEN_REPO_ROOT="$WORK/context" \
    GOLDEN_RECORD="$dir/build-record.json" GOLDEN_BUILD_MODE="$mode" GOLDEN_ARCH="$arch" \
    GOLDEN_LABELS="org.opencontainers.image.revision=$revision" golden-build; then
    tail -n 25 "$dir/build.log" >&2
    log "$label: build FAILED (${dir#"$ROOT"/}/build.log)"
    failed+=("$label")
    return 0
  fi
  image_id="$(jq -r '.image_id' "$dir/build-record.json")"
  log "$label: built ${image_id:7:12} in $(($(date +%s) - start))s ($mode)"

  scan_rc=0
  run "$dir/scan.log" env GOLDEN_IMAGE="$image_id" GOLDEN_ENTRY="$id" GOLDEN_PLAN="$REPORTS/plan.json" GOLDEN_OUTPUT="$dir" \
    GOLDEN_TRIVY="$trivy" "${trivy_env[@]}" GOLDEN_FORMAT=text golden-scan || scan_rc=$?
  case "$scan_rc" in
    0) log "$label: scan passed policy" ;;
    1)
      grep -E 'policy|Fail' "$dir/scan.log" | tail -n 10 >&2 || true
      log "$label: scan FAILED policy (${dir#"$ROOT"/}/report.md); not pushed"
      failed+=("$label")
      return 0
      ;;
    *)
      tail -n 25 "$dir/scan.log" >&2
      log "$label: scan error (${dir#"$ROOT"/}/scan.log); not pushed"
      failed+=("$label")
      return 0
      ;;
  esac

  # golden-push resolves the entry (tags) itself, attaches the reports to the pushed digest
  # before any tag moves, and writes the push record; its stdout is for people.
  if ! env GOLDEN_IMAGE="$image_id" GOLDEN_ENTRY="$id" GOLDEN_PLAN="$REPORTS/plan.json" "${push_env[@]}" \
    GOLDEN_ATTACH="$(printf '%s\n' "$dir/report.json" "$dir/sbom.cdx.json" "$dir/sbom.spdx.json" "$dir/build-record.json"; if [ -f "$dir/vex.openvex.json" ]; then printf '%s\n' "$dir/vex.openvex.json"; fi)" \
    GOLDEN_RECORD="$dir/push-record.json" GOLDEN_SIGNING_KEY="$sign_key" GOLDEN_BUILD_RECORD="$dir/build-record.json" \
    golden-push push >"$dir/push.log" 2>&1; then
    cat "$dir/push.log" >&2
    log "$label: push FAILED (${dir#"$ROOT"/}/push.log, ${dir#"$ROOT"/}/push-record.json)"
    failed+=("$label")
    return 0
  fi
  local digest reference uploaded total attached
  digest="$(jq -r '.digest' "$dir/push-record.json")"
  reference="$(jq -r '.reference' "$dir/push-record.json")"
  uploaded="$(jq -r '.uploaded' "$dir/push-record.json")"
  total="$(jq -r '.blobs' "$dir/push-record.json")"
  attached="$(jq -r '.referrers | length' "$dir/push-record.json")"
  if [ "$uploaded" -eq 0 ]; then
    pushed_line[$label]="$digest  every blob already present ($total of $total), $attached report(s) attached"
  else
    pushed_line[$label]="$digest  $uploaded of $total blobs sent, $attached report(s) attached"
  fi
  log "$label: pushed $reference (${pushed_line[$label]#*  })"
  verify_one "$label" "$reference" "$dir/verify.log"
}

# verify_one LABEL REFERENCE LOG: golden-push verify with the signing key's public half; the
# result joins the image's line of the summary, a failure fails the run.
verify_one() {
  local label="$1" reference="$2" out="$3" rc=0
  golden-push verify "$reference" --key "$sign_pub" >"$out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    pushed_line[$label]="${pushed_line[$label]:-$reference}, signed and verified"
    log "$label: verified (signature, provenance, signed scan report; ${out#"$ROOT"/})"
  else
    cat "$out" >&2
    pushed_line[$label]="${pushed_line[$label]:-$reference}, NOT verified"
    log "$label: golden-push verify FAILED ($rc, ${out#"$ROOT"/})"
    failed+=("$label")
  fi
}

for e in "${entries[@]}"; do
  for arch in "${archs[@]}"; do
    arch_start=$(date +%s)
    one "$e" "$arch"
    [ "$arch" = "$host_arch" ] || log "$(jq -r '.id' <<<"$e") ($arch): $(($(date +%s) - arch_start))s under emulation"
  done
done

# ---- 5b: multi-arch indexes -----------------------------------------------------------------
index_rc=0
if [ "$multi" = 1 ]; then
  expect=$(IFS=,; echo "${archs[*]}")
  if [ "${#failed[@]}" -gt 0 ]; then
    log "indexes: NOT merged: ${failed[*]} failed, and an index needs every architecture ($expect); the moving tags stay where they were"
    index_rc=1
  elif ! golden-push index --records "$REPORTS" --expect-arch "$expect" --record "$REPORTS/index-record.json" \
    --sign-key "$sign_key" >"$WORK/index.log" 2>&1; then
    cat "$WORK/index.log" >&2
    log "indexes: golden-push index FAILED (.cache/local/index.log, reports/index-record.json); no tag moved"
    index_rc=1
  else
    log "indexes: $(jq -r '.indexes | length' "$REPORTS/index-record.json") images merged and signed for $expect (reports/index-record.json)"
    while IFS=$'\t' read -r id ref; do
      verify_one "$id (index)" "$ref" "$REPORTS/$id/verify-index.log"
      [ "${pushed_line[$id (index)]}" = "$ref, signed and verified" ] || index_rc=1
    done < <(jq -r '.indexes[] | select(.result == "success") | [.id, .reference] | @tsv' "$REPORTS/index-record.json")
  fi
fi

# ---- 6: report ----------------------------------------------------------------------------
report_env=(GOLDEN_INPUT="$REPORTS" GOLDEN_OUTPUT="$REPORTS" GOLDEN_PLAN="$REPORTS/plan.json"
  GOLDEN_NO_COMMENT=true GOLDEN_NO_ALERT=true GOLDEN_NO_JOB_SUMMARY=true GOLDEN_FAIL_ON_FAILURE=true)
if [ -n "$baseline" ]; then report_env+=(GOLDEN_BASELINE="$baseline"); fi
report_rc=0
env -u GITHUB_TOKEN "${report_env[@]}" golden-report >"$WORK/report.log" 2>&1 || report_rc=$?
if [ "$report_rc" -ge 2 ]; then
  cat "$WORK/report.log" >&2
  die "golden-report failed"
fi

printf '\n'
cat "$REPORTS/summary.md"
printf '\n## Local registry http://%s\n\n' "$REGISTRY"
for e in "${entries[@]}"; do
  id="$(jq -r '.id' <<<"$e")"
  if [ "$multi" = 1 ]; then
    idx=$(jq -r --arg id "$id" '.indexes[]? | select(.id == $id and .result == "success") | "`\(.tags[0] // .reference)` index \(.digest) (\(.manifests | map(.arch) | join(", ")))"' "$REPORTS/index-record.json" 2>/dev/null || true)
    printf -- '- %s %s%s\n' "$id" "${idx:-no index}" "${pushed_line[$id (index)]:+ (${pushed_line[$id (index)]##*, })}"
    for arch in "${archs[@]}"; do
      printf -- '  - %s %s\n' "$arch" "${pushed_line[$id ($arch)]:-not pushed}"
    done
  elif [ -n "${pushed_line[$id]:-}" ]; then
    printf -- '- %s %s %s\n' "$id" "\`$(jq -r '.tags[0] // ""' "$REPORTS/$id/push-record.json")\`" "${pushed_line[$id]}"
  else
    printf -- '- %s not pushed\n' "$id"
  fi
done
if [ -n "$trivy_skipped" ]; then
  printf '\nVulnerabilities: NOT scanned for any image (%s)\n' "$trivy_skipped"
fi
printf '\nReports: reports/ (summary.md, summary.json, metrics.prom, <image>/report.json ...)\n'
printf 'Catalog: curl -s http://%s/v2/_catalog\n' "$REGISTRY"

# The image catalog site, with the earlier local runs' history kept in the previous site.
site_args=(site --input "$REPORTS" --plan "$REPORTS/plan.json" --output "$REPORTS/site")
if [ -d "$WORK/baseline/site/history" ]; then site_args+=(--history "$WORK/baseline/site/history"); fi
if golden-report "${site_args[@]}" >"$WORK/site.log" 2>&1; then
  printf 'Site: %s\n' "$REPORTS/site/index.html"
else
  cat "$WORK/site.log" >&2
  failed+=("site")
fi

if [ "${#failed[@]}" -gt 0 ] || [ "$report_rc" -ne 0 ] || [ "$index_rc" -ne 0 ]; then
  log "FAILED: ${failed[*]:-see the summary}"
  exit 1
fi
log "every image built, passed policy and is in the local registry"
