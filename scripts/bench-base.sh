#!/usr/bin/env bash
# bench-base.sh: benchmark the hardened Debian base against its targets and its peer.
#   - bootstrap + hardening wall time (mmdebstrap + harden-debian.sh in the customize hook,
#     through the final tar), target < 60 s, measured twice: cold (every .deb downloaded)
#     and warm (.debs reused from the first run's cache: no download); the import time is
#     printed separately. The cold figure depends on the archive's download speed;
#   - uncompressed image size against the official debian:bookworm-slim, 74.8 MB as
#     published (measured instead when that image happens to be in the local engine);
#   - installed package count (slim's when it is available locally).
# Both runs must give the same layer diff id (reproducibility, printed).
# Not a test: it prints numbers and ratios, and exits 0 unless a build itself fails.
# Environment: GOLDEN_DEBIAN_CACHE_DIR (use this .deb cache instead of a fresh one: the
# "cold" run is then only as cold as the cache), GOLDEN_DEBIAN_* (mirror, snapshot; see
# bootstrap-debian.sh --help), SOURCE_DATE_EPOCH (default: HEAD commit time).
# Needs root and the Docker engine.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=bench-base.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

SLIM_PUBLISHED_BYTES=74800000 # debian:bookworm-slim, uncompressed, as published (74.8 MB)
SLIM_REF=debian:bookworm-slim
TARGET_SECONDS=60
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-bench-base.XXXXXX")
tag="golden-base-bench/base-debian:$$-$RANDOM"
cleanup() {
  docker image rm -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
if [ -n "${GOLDEN_DEBIAN_CACHE_DIR:-}" ]; then
  cache_note="given cache $GOLDEN_DEBIAN_CACHE_DIR"
else
  export GOLDEN_DEBIAN_CACHE_DIR=$work/debs
  cache_note="fresh cache"
fi

declare -A boot imp layer
for run in cold warm; do
  scripts/bootstrap-debian.sh --tag "$tag" >"$work/id" 2>"$work/$run.log" || {
    tail -n 30 "$work/$run.log" >&2
    die "bootstrap-debian.sh failed ($run run)"
  }
  boot[$run]=$(sed -n 's/.*bootstrap+hardening: \([0-9.]*\) s.*/\1/p' "$work/$run.log")
  imp[$run]=$(sed -n 's/.*imported in \([0-9.]*\) s.*/\1/p' "$work/$run.log")
  layer[$run]=$(docker image inspect --format '{{index .RootFS.Layers 0}}' "$tag")
  printf '%s run: bootstrap+hardening %s s, import %s s\n' "$run" "${boot[$run]}" "${imp[$run]}"
done

size=$(docker image inspect --format '{{.Size}}' "$tag")
packages=$(docker run --rm "$tag" dpkg-query -W -f='.\n' | wc -l)
if docker image inspect "$SLIM_REF" >/dev/null 2>&1; then
  peer_size=$(docker image inspect --format '{{.Size}}' "$SLIM_REF")
  peer_packages=$(docker run --rm "$SLIM_REF" dpkg-query -W -f='.\n' | wc -l)
  peer_note="measured here"
else
  peer_size=$SLIM_PUBLISHED_BYTES
  peer_packages="n/a"
  peer_note="published figure; the image cannot be pulled here"
fi

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
verdict() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; then echo "meets target"; else echo "MISSES target"; fi; }
echo
echo "hardened Debian base (bootstrap-debian.sh; SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH; $cache_note)"
for run in cold warm; do
  printf '  %-26s %8s s   target < %s s   ratio %.2f   %s\n' "bootstrap+hardening ($run)" "${boot[$run]}" "$TARGET_SECONDS" \
    "$(awk -v a="${boot[$run]}" -v b="$TARGET_SECONDS" 'BEGIN { print a / b }')" "$(verdict "${boot[$run]}" "$TARGET_SECONDS")"
done
printf '  %-26s %8s s\n' "import" "${imp[warm]}"
printf '  %-26s %10s   %s %s (%s)   ratio %.3f   %s\n' "size (uncompressed)" "$(mb "$size")" "$SLIM_REF" "$(mb "$peer_size")" \
  "$peer_note" "$(awk -v a="$size" -v b="$peer_size" 'BEGIN { print a / b }')" "$(verdict "$size" "$peer_size")"
printf '  %-26s %8s     %s: %s\n' "packages" "$packages" "$SLIM_REF" "$peer_packages"
if [ "${layer[cold]}" = "${layer[warm]}" ]; then same="identical in both runs"; else same="DIFFERS between runs: ${layer[cold]}"; fi
printf '  %-26s %s (%s)\n' "layer diff id" "${layer[warm]}" "$same"
