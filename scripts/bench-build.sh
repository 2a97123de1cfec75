#!/usr/bin/env bash
# bench-build.sh: golden-build against `docker build` (classic builder) on the same Dockerfile and
# context, measured in the same run. Prints medians and ratios; it is not a test (no pass/fail).
#
#   1. build, cold (--no-cache) and cached: golden-build wall / docker build wall
#      (target <= 1.05). golden-build always applies the OCI labels, so the peer gets them too,
#      two ways: as `--label` flags (what a user would type: the classic builder then adds one
#      step per label) and as the one `LABEL` line golden-build appends to the Dockerfile (the
#      same instructions on both sides: pure tool overhead). A bare `docker build` (no labels)
#      is printed for reference.
#   2. context upload: a 200 MB context whose .dockerignore excludes all but ~4 MB, same
#      instructions on both sides (target <= 1.00, i.e. no slower than the docker CLI).
#   3. build cache (`cache`): a pull request's rebuild of nginx (platform-images/nginx on the
#      hardened Debian base) with one changed config file, on an engine without the image (a
#      fresh runner): `--cache-from` the previously published image in a local registry (pulled
#      first, timed with the build) vs no cache source; plus the unchanged rebuild (every step
#      cached). Prints both times and the ratio (cached / uncached; lower is better).
#
# Environment:
#   GOLDEN_BUILD_BIN  golden-build binary (default target/debug/golden-build, built when missing)
#   DOCKER_CLI        peer CLI (default /usr/local/bin/docker when present, else docker)
#   BENCH_RUNS        repetitions of each measurement (default 7)
#   BENCH_DIR         scratch directory (default: a new temporary directory, removed at the end)
#   BENCH_SCENARIOS   which to run, space-separated: `peer` (1 and 2), `cache` (3); default both
#   BENCH_CACHE_RUNS  repetitions of scenario 3 (default 3; each is two nginx builds)
#   BENCH_NGINX_BASE  the Debian base nginx builds on (default
#                     goldenimages.azurecr.io/golden/base-debian:12: scripts/build-base.sh)
# Needs a Docker engine (scripts/ensure-docker.sh) and /bin/busybox (busybox-static).
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=bench-build.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

GB=${GOLDEN_BUILD_BIN:-${CARGO_TARGET_DIR:-target}/debug/golden-build}
if [ ! -x "$GB" ]; then
  log "building golden-build"
  cargo build -q -p golden-build || die "cargo build -p golden-build failed"
fi
[ -x "$GB" ] || die "golden-build not found at $GB (set GOLDEN_BUILD_BIN)"
GB=$(realpath "$GB")
if [ -n "${DOCKER_CLI:-}" ]; then
  PEER=$DOCKER_CLI
elif [ -x /usr/local/bin/docker ]; then
  PEER=/usr/local/bin/docker
else
  PEER=docker
fi
command -v "$PEER" >/dev/null || die "docker CLI \`$PEER\` not found"
"$PEER" version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"
[ -x /bin/busybox ] || die "/bin/busybox not found: apt-get install busybox-static"
command -v jq >/dev/null || die "jq not found: run scripts/setup.sh"
RUNS=${BENCH_RUNS:-7}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
COLD_RUNS=$RUNS

if [ -n "${BENCH_DIR:-}" ]; then
  WORK=$BENCH_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d)
fi
PREFIX=golden-build-bench-$$
BASE=$PREFIX-busybox:1
SCENARIOS=" ${BENCH_SCENARIOS:-peer cache} "
want() { [[ $SCENARIOS == *" $1 "* ]]; }
for s in $SCENARIOS; do
  case $s in peer | cache) ;; *) die "BENCH_SCENARIOS: unknown scenario \`$s\` (known: peer cache)" ;; esac
done
CACHE_RUNS=${BENCH_CACHE_RUNS:-3}
[[ $CACHE_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CACHE_RUNS must be a positive number"
NGINX_BASE=${BENCH_NGINX_BASE:-goldenimages.azurecr.io/golden/base-debian:12}
REG_DIR=""
cleanup() {
  if [ -n "${PUBLISHED:-}" ]; then "$PEER" rmi "$PUBLISHED" "$PR_TAG" >/dev/null 2>&1 || true; fi
  if [ -n "$REG_DIR" ]; then scripts/registry.sh stop --dir "$REG_DIR" >/dev/null 2>&1 || true; fi
  local images
  images=$("$PEER" images --format '{{.Repository}}:{{.Tag}}' | grep "^$PREFIX" || true)
  if [ -n "$images" ]; then
    # shellcheck disable=SC2086 # one tag per word
    "$PEER" rmi $images >/dev/null 2>&1 || true
  fi
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# Same label values on every run (and for both tools): a fixed build date.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)}
export DOCKER_BUILDKIT=0

now() { date +%s.%N; }
# time_cmd VAR cmd...: run, add the wall time (seconds) to the array VAR.
time_cmd() {
  local -n acc=$1
  shift
  local t0 t1
  t0=$(now)
  "$@" >"$WORK/last.log" 2>&1 || { tail -n 30 "$WORK/last.log" >&2; die "benchmark command failed: $*"; }
  t1=$(now)
  acc+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
rmi() { "$PEER" rmi "$@" >/dev/null 2>&1 || true; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

if want peer; then
# ---- the base image: busybox copied into scratch --------------------------------------------
mkdir -p "$WORK/base"
cp /bin/busybox "$WORK/base/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' >"$WORK/base/Dockerfile"
"$GB" -q --repo-root "$WORK" --context "$WORK/base" --tag "$BASE" >/dev/null

# ---- scenario 1: a small application build -------------------------------------------------
APP=$WORK/app
mkdir -p "$APP/src" "$APP/assets"
for i in $(seq 1 200); do head -c 4096 /dev/urandom >"$APP/src/module$i.txt"; done
head -c $((6 * 1024 * 1024)) /dev/urandom >"$APP/assets/blob.bin"
cat >"$APP/Dockerfile" <<EOF
ARG BASE_IMAGE=$BASE
FROM \${BASE_IMAGE}
ENV APP_HOME=/app
WORKDIR /app
COPY src/ /app/src/
RUN find /app/src -type f | sort | xargs sha256sum > /app/manifest.sha256
COPY assets/ /app/assets/
RUN dd if=/dev/zero of=/app/data.bin bs=1M count=16 2>/dev/null && sha256sum /app/data.bin > /app/data.sha256
RUN for i in \$(seq 1 300); do echo "line \$i" >> /app/log.txt; done && wc -l /app/log.txt
RUN chown -R 10001:10001 /app
USER 10001
CMD ["/bin/sh"]
EOF

TAG_GB=$PREFIX-app:golden
TAG_PEER=$PREFIX-app:docker
TAG_BARE=$PREFIX-app:bare
RECORD=$WORK/record.json
EXTRA=() # --no-cache for the cold runs
gb_build() { "$GB" --repo-root "$WORK" --context "$APP" --tag "$TAG_GB" --record "$RECORD" "${EXTRA[@]}"; }
# The labels golden-build applies (from its record) become the peer's --label flags.
gb_build >/dev/null 2>&1 || die "golden-build failed on the benchmark app"
mapfile -t LABEL_ARGS < <(jq -r '.labels | to_entries[] | "--label\n\(.key)=\(.value)"' "$RECORD")
# label_line: the LABEL instruction golden-build appends (same quoting: \ " $ escaped).
label_line() {
  printf '# labels added by golden-build\n'
  # shellcheck disable=SC2016 # jq program, not shell
  jq -r 'def q: "\"" + gsub("(?<c>[\\\\\"$])"; "\\\(.c)") + "\""; "LABEL " + ([.labels | to_entries[] | (.key|q) + "=" + (.value|q)] | join(" "))' "$RECORD"
}
# The peer's copy of the Dockerfile golden-build sends, kept out of golden-build's context.
{ cat "$APP/Dockerfile"; label_line; } >"$APP/Dockerfile.golden"
printf 'Dockerfile.golden\n' >"$APP/.dockerignore"
peer_build() { "$PEER" build "${LABEL_ARGS[@]}" -t "$TAG_PEER" "${EXTRA[@]}" "$APP"; }
bare_build() { "$PEER" build -t "$TAG_BARE" "${EXTRA[@]}" "$APP"; }
TAG_SAME=$PREFIX-app:same
same_build() { "$PEER" build -f "$APP/Dockerfile.golden" -t "$TAG_SAME" "${EXTRA[@]}" "$APP"; }

declare -A TAG_OF=([gb]=$TAG_GB [peer]=$TAG_PEER [same]=$TAG_SAME [bare]=$TAG_BARE)
VARIANTS=(gb peer same bare)
# Each round runs every variant once, starting with a different one each round, so no variant
# always follows the same neighbour (image removal and cache state affect the next build).
log "scenario 1: cold builds ($COLD_RUNS rounds)"
cold_gb=() cold_peer=() cold_bare=() cold_same=()
EXTRA=(--no-cache)
for k in $(seq 0 $((COLD_RUNS - 1))); do
  for j in 0 1 2 3; do
    v=${VARIANTS[$(( (j + k) % 4 ))]}
    time_cmd "cold_$v" "${v}_build"
    rmi "${TAG_OF[$v]}"
  done
done
EXTRA=()
log "scenario 1: cached builds ($RUNS rounds)"
gb_build >/dev/null 2>&1; peer_build >/dev/null 2>&1; bare_build >/dev/null 2>&1; same_build >/dev/null 2>&1
warm_gb=() warm_peer=() warm_bare=() warm_same=()
for k in $(seq 0 $((RUNS - 1))); do
  for j in 0 1 2 3; do
    v=${VARIANTS[$(( (j + k) % 4 ))]}
    time_cmd "warm_$v" "${v}_build"
  done
done

# ---- scenario 2: context upload, 200 MB mostly excluded ------------------------------------
CTX=$WORK/bigctx
mkdir -p "$CTX/node_modules" "$CTX/dist" "$CTX/src" "$CTX/.git/objects"
log "scenario 2: writing a 200 MB context"
for d in $(seq 1 40); do
  mkdir -p "$CTX/node_modules/pkg$d/lib"
  for f in $(seq 1 50); do head -c 40960 /dev/urandom >"$CTX/node_modules/pkg$d/lib/f$f.js"; done
done
head -c $((60 * 1024 * 1024)) /dev/urandom >"$CTX/dist/bundle.tar"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$CTX/.git/objects/pack.bin"
for f in $(seq 1 100); do head -c 40960 /dev/urandom >"$CTX/src/s$f.txt"; done
printf 'node_modules\ndist/\n.git\n**/*.log\n!src/**\nDockerfile.golden\n' >"$CTX/.dockerignore"
printf 'FROM %s\nCOPY src/ /src/\n' "$BASE" >"$CTX/Dockerfile"
{ cat "$CTX/Dockerfile"; label_line; } >"$CTX/Dockerfile.golden"
ctx_mb=$(du -sm "$CTX" | cut -f1)
TAG_CTX_GB=$PREFIX-ctx:golden
TAG_CTX_PEER=$PREFIX-ctx:docker
ctx_gb() { "$GB" --repo-root "$WORK" --context "$CTX" --tag "$TAG_CTX_GB"; }
ctx_peer() { "$PEER" build -f "$CTX/Dockerfile.golden" -t "$TAG_CTX_PEER" "$CTX"; }
ctx_gb >/dev/null 2>&1; ctx_peer >/dev/null 2>&1
up_gb=() up_peer=()
for k in $(seq 1 "$RUNS"); do
  if (( k % 2 )); then
    time_cmd up_gb ctx_gb; time_cmd up_peer ctx_peer
  else
    time_cmd up_peer ctx_peer; time_cmd up_gb ctx_gb
  fi
done

# ---- report ---------------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
m() { median "$@"; }
c_gb=$(m "${cold_gb[@]}") c_peer=$(m "${cold_peer[@]}") c_bare=$(m "${cold_bare[@]}") c_same=$(m "${cold_same[@]}")
w_gb=$(m "${warm_gb[@]}") w_peer=$(m "${warm_peer[@]}") w_bare=$(m "${warm_bare[@]}") w_same=$(m "${warm_same[@]}")
u_gb=$(m "${up_gb[@]}") u_peer=$(m "${up_peer[@]}")
printf '\ngolden-build benchmark (%s, peer: %s %s, engine %s, %s labels, SOURCE_DATE_EPOCH=%s)\n' \
  "$(basename "$GB")" "$PEER" "$("$PEER" version --format '{{.Client.Version}}' 2>/dev/null)" \
  "$("$PEER" version --format '{{.Server.Version}}' 2>/dev/null)" "$(( ${#LABEL_ARGS[@]} / 2 ))" "$SOURCE_DATE_EPOCH"
# paired NAME_A NAME_B: median of the per-run ratios a[i]/b[i] (runs alternate, so a pair
# shares the machine's load at that moment: steadier than a ratio of medians on a busy box).
paired() {
  local -n pa=$1 pb=$2
  local i out=()
  for i in "${!pa[@]}"; do out+=("$(ratio "${pa[$i]}" "${pb[$i]}")"); done
  median "${out[@]}"
}
row() { printf '%-48s %12s %8s %7s %7s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"; }
printf 'load average at start %s, at end %s (the machine is shared: expect noise)\n' "$load_start" "$load_end"
printf '%-48s %12s %8s %7s %7s\n' "median wall time (s)" golden-build docker ratio paired
row "build, cold, peer: same labels as --label" "$c_gb" "$c_peer" "$(paired cold_gb cold_peer)"
row "build, cold, peer: same LABEL line (identical)" "$c_gb" "$c_same" "$(paired cold_gb cold_same)"
row "build, cold, peer: no labels (reference)" "$c_gb" "$c_bare" "$(paired cold_gb cold_bare)"
row "build, cached, peer: same labels as --label" "$w_gb" "$w_peer" "$(paired warm_gb warm_peer)"
row "build, cached, peer: same LABEL line (identical)" "$w_gb" "$w_same" "$(paired warm_gb warm_same)"
row "build, cached, peer: no labels (reference)" "$w_gb" "$w_bare" "$(paired warm_gb warm_bare)"
row "context upload (${ctx_mb} MB, mostly ignored)" "$u_gb" "$u_peer" "$(paired up_gb up_peer)"
printf '(ratio: golden-build median / docker median; paired: median of per-run ratios)\n'
printf 'targets: build ratios <= 1.05 (same labels), context upload ratio <= 1.00\n'
fi

# ---- scenario 3: a pull request's nginx rebuild, cache from the published image vs none -----
if want cache; then
  command -v docker-registry >/dev/null || die "docker-registry not found: run scripts/setup.sh"
  "$PEER" image inspect "$NGINX_BASE" >/dev/null 2>&1 \
    || die "the nginx base $NGINX_BASE is not in the engine: run scripts/build-base.sh (or set BENCH_NGINX_BASE)"
  # The files the nginx Dockerfile copies, in a repository of its own (the PR edits one).
  NGX=$WORK/nginx-repo
  mkdir -p "$NGX/platform-images/common" "$NGX/configs"
  cp -a platform-images/nginx "$NGX/platform-images/"
  cp -a platform-images/common/golden-pkg platform-images/common/healthcheck "$NGX/platform-images/common/"
  cp -a configs/nginx.conf configs/default.conf configs/nginx-security-headers.conf "$NGX/configs/"
  REG_DIR=$WORK/registry
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  scripts/registry.sh start --port "$port" --dir "$REG_DIR" >/dev/null || die "could not start a local registry"
  PUBLISHED=127.0.0.1:$port/golden/nginx:1.22-debian
  PR_TAG=127.0.0.1:$port/golden/nginx:1.22-debian-pr-1
  ngx_build() {
    "$GB" --repo-root "$NGX" --context "$NGX" --dockerfile "$NGX/platform-images/nginx/Dockerfile" \
      --base-image "$NGINX_BASE" --no-pull-base --tag "$1" --record "$WORK/nginx-record.json" "${@:2}"
  }
  # Nothing of nginx left in the engine (a fresh runner has only the base): the tags go, and
  # with them the untagged intermediate images of their builds.
  ngx_clean() { rmi "$PR_TAG"; rmi "$PUBLISHED"; }
  log "scenario 3: the published nginx (built once, pushed to $PUBLISHED)"
  ngx_build "$PUBLISHED" --no-cache >"$WORK/nginx-published.log" 2>&1 \
    || { tail -n 30 "$WORK/nginx-published.log" >&2; die "the nginx build failed"; }
  "$PEER" push "$PUBLISHED" >/dev/null || die "docker push $PUBLISHED failed"
  ngx_clean
  # The pull request: one config file changed.
  printf '# edited by a pull request (bench-build.sh)\n' >>"$NGX/configs/nginx.conf"
  pr_cached() { ngx_build "$PR_TAG" --cache-from "$PUBLISHED"; }
  # Without a cache source a fresh runner has nothing to reuse: --no-cache, so that images of
  # the same Dockerfile left in this engine by other builds (a local `make`) cannot help it.
  pr_uncached() { ngx_build "$PR_TAG" --no-cache; }
  cache_on=() cache_off=()
  for k in $(seq 1 "$CACHE_RUNS"); do
    log "scenario 3: round $k of $CACHE_RUNS"
    if (( k % 2 )); then
      time_cmd cache_on pr_cached; cached_steps=$(grep -c 'Using cache' "$WORK/last.log" || true); ngx_clean
      time_cmd cache_off pr_uncached; ngx_clean
    else
      time_cmd cache_off pr_uncached; ngx_clean
      time_cmd cache_on pr_cached; cached_steps=$(grep -c 'Using cache' "$WORK/last.log" || true); ngx_clean
    fi
    [ "$cached_steps" -gt 0 ] || die "the cached build used no cache (see $WORK/last.log)"
  done
  # The unchanged rebuild (a dispatch run on the published commit): every step from the cache.
  cp configs/nginx.conf "$NGX/configs/nginx.conf"
  same_on=()
  time_cmd same_on pr_cached
  same_cached=$(grep -c 'Using cache' "$WORK/last.log" || true)
  ngx_clean
  on=$(median "${cache_on[@]}") off=$(median "${cache_off[@]}")
  printf '\nbuild cache: a pull request rebuild of nginx 1.22 on %s, one config file changed,\n' "$NGINX_BASE"
  printf 'engine without the image (fresh runner), cache pulled from a local registry (%s rounds)\n' "$CACHE_RUNS"
  printf '%-52s %10s\n' "median wall time (s)" ""
  printf '%-52s %10s\n' "no cache source (today's pull request run)" "$off"
  printf '%-52s %10s\n' "--cache-from the published image (pull included)" "$on"
  printf '%-52s %10s\n' "ratio cached / uncached (lower is better)" "$(ratio "$on" "$off")"
  printf '%-52s %10s\n' "  steps from the cache in the changed rebuild" "$cached_steps"
  printf '%-52s %10s\n' "unchanged rebuild, --cache-from (every step cached)" "${same_on[0]}"
  printf '%-52s %10s\n' "ratio unchanged / uncached" "$(ratio "${same_on[0]}" "$off")"
  printf '%-52s %10s\n' "  steps from the cache in the unchanged rebuild" "$same_cached"
fi
