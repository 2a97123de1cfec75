#!/usr/bin/env bash
# Benchmark golden-push against `docker push` and `skopeo copy docker-daemon:` on a real local
# registry (Debian's docker-registry on random loopback ports), all measured in this one run.
#
#   scripts/bench-push.sh            (BENCH_ROUNDS=3 by default: medians of 3 runs)
#   BENCH_IMAGE=name:tag scripts/bench-push.sh   to choose the image
#
# Image: the largest Debian platform image in the engine (<registry>/golden/<p>:<v>-debian),
# else the hardened Debian base (built with scripts/build-base.sh debian when missing).
#
# Measures (median of BENCH_ROUNDS, fresh registry and empty caches for every cold push):
#   cold   every blob new: golden-push vs docker push vs skopeo copy   (target: >= 1.5x both)
#          golden-push is also timed with --layer-store off (engine export path)
#   warm   only the top layer changed, pushed over the previous push of the same tag
#          (each tool with its own caches): golden-push vs docker push  (target: >= 3x)
#   re-push of an unchanged image with golden-push                     (target: < 0.5 s)
set -Eeuo pipefail
cd "$(dirname "$0")/.."

die() { printf 'bench-push: %s\n' "$*" >&2; exit 2; }
log() { printf 'bench-push: %s\n' "$*" >&2; }

ROUNDS="${BENCH_ROUNDS:-3}"
case "$ROUNDS" in ''|*[!0-9]*|0) die "BENCH_ROUNDS must be a positive number" ;; esac
for tool in docker skopeo docker-registry curl awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run scripts/setup.sh"
done
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine: run scripts/ensure-docker.sh"

log "building golden-push (release)"
cargo build --release --quiet -p golden-push
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/golden-push"

WORK="$(mktemp -d -t golden-push-bench.XXXXXX)"
REGS=()
TAGS=()
PORTS=()
cleanup() {
  local d t p
  set +e
  for d in "${REGS[@]}"; do scripts/registry.sh stop --dir "$d" >/dev/null 2>&1 || true; done
  # `docker push` leaves repo-digest references (127.0.0.1:PORT/bench/...@sha256:...) on the
  # images it pushed; drop them (an image is deleted only when nothing else refers to it).
  for p in "${PORTS[@]}"; do
    docker images --digests --format '{{.Repository}}@{{.Digest}}' \
      | grep -F "127.0.0.1:$p/bench/" | grep -v '@<none>$' \
      | while read -r t; do docker rmi "$t" >/dev/null 2>&1 || true; done
  done
  for t in "${TAGS[@]}"; do docker rmi "$t" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the image --------------------------------------------------------------------------
size_of() { docker image inspect --format '{{.Size}}' "$1" 2>/dev/null || echo 0; }
largest() {
  local best="" best_size=0 ref s
  while read -r ref; do
    [ -n "$ref" ] || continue
    s="$(size_of "$ref")"
    if [ "$s" -gt "$best_size" ]; then best="$ref"; best_size="$s"; fi
  done
  printf '%s\n' "$best"
}
images() { docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' || true; }

IMAGE="${BENCH_IMAGE:-}"
KIND="given by BENCH_IMAGE"
if [ -z "$IMAGE" ]; then
  IMAGE="$(images | grep -E '/golden/[a-z0-9._-]+:[^ ]*-debian$' | grep -v '/golden/base-debian:' | largest)"
  KIND="largest Debian platform image"
fi
if [ -z "$IMAGE" ]; then
  IMAGE="$(images | grep -E '/golden/base-debian:' | largest)"
  KIND="hardened Debian base (no Debian platform image in the engine)"
fi
if [ -z "$IMAGE" ]; then
  log "no Debian image in the engine: building the hardened Debian base (scripts/build-base.sh debian)"
  scripts/build-base.sh debian >&2
  IMAGE="$(images | grep -E '/golden/base-debian:' | largest)"
  KIND="hardened Debian base (built for this run)"
fi
[ -n "$IMAGE" ] || die "no image to benchmark"
# Pin the image under our own name: a concurrent rebuild of the original tag cannot change it.
SRC="golden-push-bench-src-$$:cold"
docker tag "$IMAGE" "$SRC"
TAGS+=("$SRC")
SIZE="$(size_of "$SRC")"
LAYERS="$(docker image inspect --format '{{len .RootFS.Layers}}' "$SRC")"
log "image: $IMAGE ($KIND), $((SIZE / 1024 / 1024)) MiB, $LAYERS layers"

# Warm variants: the same image plus one small top layer, different each round.
mkdir -p "$WORK/ctx"
printf 'FROM %s\nCOPY warm.txt /golden-push-bench-warm.txt\n' "$SRC" >"$WORK/ctx/Dockerfile"
for i in $(seq 0 "$ROUNDS"); do
  head -c 4096 /dev/urandom | od -An -tx1 >"$WORK/ctx/warm.txt"
  docker build -q -t "golden-push-bench-warm-$$:$i" "$WORK/ctx" >/dev/null 2>&1 || die "cannot build the warm image"
  TAGS+=("golden-push-bench-warm-$$:$i")
done

# ---- helpers ------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_reg N: a fresh registry in $WORK/reg-N; sets REG=127.0.0.1:PORT
start_reg() {
  local dir="$WORK/reg-$1" port
  port="$(free_port)"
  REGS+=("$dir")
  PORTS+=("$port")
  scripts/registry.sh start --port "$port" --dir "$dir" >/dev/null
  REG="127.0.0.1:$port"
}
stop_reg() { scripts/registry.sh stop --dir "$WORK/reg-$1" >/dev/null; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stored() { du -sb "$WORK/reg-$1/data" | awk '{ printf "%.1f", $1 / 1048576 }'; }

run_golden() { "$BIN" "$@" -q >/dev/null; }
run_docker() { # image target
  docker tag "$1" "$2"
  TAGS+=("$2")
  docker push -q "$2" >/dev/null
}
run_skopeo() { skopeo copy -q --dest-tls-verify=false "docker-daemon:$1" "docker://$2" >/dev/null; }

declare -A T SZ
REG=""
n=0
# Rounds are interleaved (tool after tool, round after round) so a noisy moment on this shared
# machine hits every tool alike.
sync
sleep 2
# ---- cold ---------------------------------------------------------------------------------
COLD_TOOLS=(golden golden-export docker skopeo)
declare -A TIMES
for r in $(seq 1 "$ROUNDS"); do
  for tool in "${COLD_TOOLS[@]}"; do
    n=$((n + 1))
    start_reg "$n"
    reg="$REG"
    cache="$WORK/cache-$n"
    start="$(now)"
    case "$tool" in
      golden) GOLDEN_CACHE_DIR="$cache" run_golden "$SRC" --to "$reg/bench/golden:cold" ;;
      golden-export) GOLDEN_CACHE_DIR="$cache" run_golden "$SRC" --to "$reg/bench/golden:cold" --layer-store off ;;
      docker) run_docker "$SRC" "$reg/bench/docker:cold" ;;
      skopeo) run_skopeo "$SRC" "$reg/bench/skopeo:cold" ;;
    esac
    t="$(since "$start")"
    TIMES[$tool]="${TIMES[$tool]:-} $t"
    SZ[$tool]="$(stored "$n")"
    stop_reg "$n"
    log "cold $tool round $r: ${t} s (${SZ[$tool]} MiB stored)"
  done
done
for tool in "${COLD_TOOLS[@]}"; do T[cold-$tool]="$(printf '%s' "${TIMES[$tool]}" | median)"; done

# ---- warm ---------------------------------------------------------------------------------
# One registry per tool; the previous image is pushed first (not timed), then each round
# pushes a variant whose top layer differs, over the same tag.
declare -A WREG WCACHE
for tool in golden docker; do
  n=$((n + 1))
  start_reg "$n"
  WREG[$tool]="$REG/bench/$tool:latest"
  WCACHE[$tool]="$WORK/cache-warm-$n"
  case "$tool" in
    golden) GOLDEN_CACHE_DIR="${WCACHE[golden]}" run_golden "golden-push-bench-warm-$$:0" --to "${WREG[golden]}" ;;
    docker) run_docker "golden-push-bench-warm-$$:0" "${WREG[docker]}" ;;
  esac
done
for r in $(seq 1 "$ROUNDS"); do
  for tool in golden docker; do
    start="$(now)"
    case "$tool" in
      golden) GOLDEN_CACHE_DIR="${WCACHE[golden]}" run_golden "golden-push-bench-warm-$$:$r" --to "${WREG[golden]}" ;;
      docker) run_docker "golden-push-bench-warm-$$:$r" "${WREG[docker]}" ;;
    esac
    t="$(since "$start")"
    TIMES[warm-$tool]="${TIMES[warm-$tool]:-} $t"
    log "warm $tool round $r: ${t} s"
  done
done
T[warm-golden]="$(printf '%s' "${TIMES[warm-golden]}" | median)"
T[warm-docker]="$(printf '%s' "${TIMES[warm-docker]}" | median)"
times=""
for r in $(seq 1 "$ROUNDS"); do
  start="$(now)"
  GOLDEN_CACHE_DIR="${WCACHE[golden]}" run_golden "golden-push-bench-warm-$$:$ROUNDS" --to "${WREG[golden]}"
  t="$(since "$start")"
  times="$times $t"
  log "unchanged golden round $r: ${t} s"
done
T[unchanged]="$(printf '%s' "$times" | median)"

# ---- report -------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "PASS" : "MISS" }'; }
r_docker="$(ratio "${T[cold-docker]}" "${T[cold-golden]}")"
r_skopeo="$(ratio "${T[cold-skopeo]}" "${T[cold-golden]}")"
r_warm="$(ratio "${T[warm-docker]}" "${T[warm-golden]}")"
unchanged_ok="$(awk -v t="${T[unchanged]}" 'BEGIN { print (t < 0.5) ? "PASS" : "MISS" }')"

printf '\n== golden-push benchmark (%s rounds, medians; load average %s) ==\n' "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'image: %s (%s), %s MiB uncompressed, %s layers\n' "$IMAGE" "$KIND" "$((SIZE / 1024 / 1024))" "$LAYERS"
printf 'golden-push: gzip level %s, %s compression threads, layer store %s\n\n' \
  "${GOLDEN_COMPRESSION_LEVEL:-default (3)}" "$(nproc)" "${GOLDEN_LAYER_STORE:-auto}"
printf '%-38s %10s %14s\n' "push" "seconds" "stored MiB"
printf '%-38s %10s %14s\n' "cold golden-push" "${T[cold-golden]}" "${SZ[golden]}"
printf '%-38s %10s %14s\n' "cold golden-push --layer-store off" "${T[cold-golden-export]}" "${SZ[golden-export]}"
printf '%-38s %10s %14s\n' "cold docker push" "${T[cold-docker]}" "${SZ[docker]}"
printf '%-38s %10s %14s\n' "cold skopeo copy docker-daemon:" "${T[cold-skopeo]}" "${SZ[skopeo]}"
printf '%-38s %10s\n' "warm golden-push (top layer changed)" "${T[warm-golden]}"
printf '%-38s %10s\n' "warm docker push (top layer changed)" "${T[warm-docker]}"
printf '%-38s %10s\n\n' "re-push unchanged golden-push" "${T[unchanged]}"
printf 'cold: docker push / golden-push   = %sx  (target >= 1.5x) %s\n' "$r_docker" "$(verdict "$r_docker" 1.5)"
printf 'cold: skopeo copy / golden-push   = %sx  (target >= 1.5x) %s\n' "$r_skopeo" "$(verdict "$r_skopeo" 1.5)"
printf 'warm: docker push / golden-push   = %sx  (target >= 3x)   %s\n' "$r_warm" "$(verdict "$r_warm" 3)"
printf 'unchanged re-push                 = %s s (target < 0.5 s) %s\n' "${T[unchanged]}" "$unchanged_ok"
printf 'export path: docker push / golden-push --layer-store off = %sx, skopeo / that = %sx\n' \
  "$(ratio "${T[cold-docker]}" "${T[cold-golden-export]}")" "$(ratio "${T[cold-skopeo]}" "${T[cold-golden-export]}")"
