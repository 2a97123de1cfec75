#!/usr/bin/env bash
# bench-multiarch.sh: what emulating arm64 costs on this machine, measured in one run against
# the native build of the same thing (the peer is this machine's own architecture):
#   - the hardened Debian base: bootstrap + hardening wall time, amd64 vs arm64 (same .deb
#     cache, warm: no download in either);
#   - one platform (nginx by default; GOLDEN_BENCH_PLATFORM) built by golden-build without the
#     engine's cache on each architecture's base;
#   - golden-scan of each result (the scanner reads layers; emulation costs it nothing).
# Prints the times and the arm64/amd64 ratio per step. Not a test: it exits 0 unless a step
# itself fails. Needs root, the engine, arm64 emulation (GOLDEN_ARCHS=arm64 scripts/setup.sh)
# and the golden binaries (cargo build). On GitHub the arm64 images are built on native arm64
# runners instead (docs/multi-arch.md): there the ratio is about 1.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=bench-multiarch.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, the engine)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"
scripts/ensure-emulation.sh arm64 || die "arm64 emulation is not available (see above)"
host=$(dpkg --print-architecture)
[ "$host" = amd64 ] || die "this benchmark emulates arm64 on an amd64 machine (this one is $host)"
BIN=${CARGO_TARGET_DIR:-target}/debug
for b in golden-plan golden-build golden-scan; do [ -x "$BIN/$b" ] || die "$BIN/$b missing: cargo build --bins"; done
platform=${GOLDEN_BENCH_PLATFORM:-nginx}

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-bench-multiarch.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export GOLDEN_DEBIAN_CACHE_DIR=${GOLDEN_DEBIAN_CACHE_DIR:-$PWD/.cache/debian-debs}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
declare -A t

# Warm the .deb cache for both architectures first, so neither timed run downloads.
for a in amd64 arm64; do
  GOLDEN_ARCH=$a scripts/build-base.sh debian >/dev/null 2>"$work/warm-$a.log" ||
    { tail -n 20 "$work/warm-$a.log" >&2; die "warming the $a base failed"; }
done
for a in amd64 arm64; do
  s=$(now)
  GOLDEN_ARCH=$a scripts/build-base.sh debian >/dev/null 2>"$work/base-$a.log" ||
    { tail -n 20 "$work/base-$a.log" >&2; die "the $a base failed"; }
  t[base-$a]=$(secs "$s" "$(now)")
done

"$BIN/golden-plan" --config configs/build-config.yaml --event local --rebuild all --offline --os debian \
  --format json >"$work/plan.json" || die "golden-plan failed"
id=$(jq -r --arg p "$platform" '.platforms.include[] | select(.platform == $p) | .id' "$work/plan.json" | head -n 1)
[ -n "$id" ] || die "no Debian entry for platform $platform"
for a in amd64 arm64; do
  s=$(now)
  GOLDEN_ARCH=$a "$BIN/golden-build" --plan "$work/plan.json" --id "$id" --no-cache --quiet \
    --record "$work/build-$a.json" >/dev/null 2>"$work/build-$a.log" ||
    { tail -n 20 "$work/build-$a.log" >&2; die "golden-build $id ($a) failed"; }
  t[build-$a]=$(secs "$s" "$(now)")
  s=$(now)
  "$BIN/golden-scan" "$(jq -r .image_id "$work/build-$a.json")" --trivy off --output "$work/scan-$a" \
    >/dev/null 2>"$work/scan-$a.log" || { tail -n 20 "$work/scan-$a.log" >&2; die "golden-scan ($a) failed"; }
  t[scan-$a]=$(secs "$s" "$(now)")
done

printf '\n%-32s %10s %10s %8s\n' "step" "amd64 s" "arm64 s" "ratio"
for step in base build scan; do
  case $step in
    base) name="base bootstrap + hardening" ;;
    build) name="$id build (no cache)" ;;
    scan) name="$id scan" ;;
  esac
  printf '%-32s %10s %10s %7sx\n' "$name" "${t[$step-amd64]}" "${t[$step-arm64]}" \
    "$(awk -v a="${t[$step-amd64]}" -v b="${t[$step-arm64]}" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }')"
done
printf '\narm64 runs under qemu-user-static on %s cores; GitHub builds arm64 on native runners.\n' "$(nproc)"
