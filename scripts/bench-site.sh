#!/usr/bin/env bash
# bench-site.sh: the image catalog (`golden-report site`, issue 19) at the size of a big
# catalog: 60 images with full package lists (tests/browser/catalog_input.py sixty), rendered
# by the release golden-report, then
#   1. size: the pages (HTML + summaries) against the budget of 5 MB, the whole site with the
#      downloads (the run's documents, copied as they are), and the ratio of the site to its
#      input documents (the peer: what the run produced anyway);
#   2. render time of golden-report site (best of GOLDEN_BENCH_RUNS);
#   3. load time of every page in headless chromium (tests/browser/bench_site.py), against the
#      same page with JavaScript disabled (the peer), and against the budget of 1 s per page.
# Two sizes are measured: the issue's case (GOLDEN_BENCH_PACKAGES packages, default 400, and
# GOLDEN_BENCH_VULNS vulnerabilities, default 30, per image) and a stress case with 120
# vulnerabilities per image. Not a test: it prints numbers and exits 0 unless a step fails (2).
#
# Environment:
#   GOLDEN_REPORT_BIN      golden-report binary (default: target/release/golden-report, built here)
#   GOLDEN_BENCH_RUNS      runs of the render timing (default 3)
#   GOLDEN_BENCH_PACKAGES  packages per image (default 400)
#   GOLDEN_BENCH_VULNS     vulnerabilities per image in the first case (default 30)
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=bench-site.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

command -v chromium >/dev/null 2>&1 || [ -n "${GOLDEN_CHROMIUM:-}" ] \
  || die "chromium required: run scripts/setup.sh (Debian package chromium)"
runs="${GOLDEN_BENCH_RUNS:-3}"
packages="${GOLDEN_BENCH_PACKAGES:-400}"
vulns="${GOLDEN_BENCH_VULNS:-30}"
bin="${GOLDEN_REPORT_BIN:-target/release/golden-report}"
if [ -z "${GOLDEN_REPORT_BIN:-}" ]; then
  log "building golden-report (release)"
  cargo build -q --release -p golden-report || die "cargo build --release -p golden-report failed"
fi
[ -x "$bin" ] || die "$bin is not executable"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

bytes() { du -sb --apparent-size "$@" | awk '{s += $1} END {print s + 0}'; }
mb() { awk -v b="$1" 'BEGIN {printf "%.2f MB", b / 1000000}'; }

bench_case() { # bench_case NAME VULNS
  local name=$1 v=$2 input="$work/$1-input" site="$work/$1-site" best="" t0 t1 ms i
  python3 tests/browser/catalog_input.py sixty "$input" --packages "$packages" --vulns "$v" \
    || die "catalog_input.py failed"
  for i in $(seq 1 "$runs"); do
    rm -rf "$site"
    t0=$(date +%s%N)
    "$bin" site --input "$input" --output "$site" 2>/dev/null || die "golden-report site failed"
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    : "$i"
  done
  local pages total input_b
  pages=$(bytes "$site/index.html" "$site/images" "$site/summary.json" "$site/history")
  total=$(bytes "$site")
  input_b=$(bytes "$input")
  printf '\n== %s: 60 images, %s packages and %s vulnerabilities each\n' "$name" "$packages" "$v"
  printf 'render: %s ms (best of %s)\n' "$best" "$runs"
  printf 'size: pages %s (budget 5 MB: %s); with downloads %s; input documents %s; site/input %.2fx\n' \
    "$(mb "$pages")" "$([ "$pages" -lt 5000000 ] && echo within || echo OVER)" "$(mb "$total")" \
    "$(mb "$input_b")" "$(awk -v a="$total" -v b="$input_b" 'BEGIN {print a / b}')"
  python3 tests/browser/bench_site.py "$site" | tail -n 2 || die "bench_site.py failed"
}

bench_case "issue case" "$vulns"
bench_case "stress case" 120
