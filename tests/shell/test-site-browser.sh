#!/usr/bin/env bash
# The image catalog (`golden-report site`, issue 19) in a real browser: Debian's chromium,
# headless, driven over the DevTools protocol by tests/browser/test_site.py (Python standard
# library only, the protocol over --remote-debugging-pipe: no port, no browser download).
# The real golden-report renders two sites: the committed green fixtures plus an Alpine arm64
# image (tests/browser/catalog_input.py) and the hostile fixtures; the browser checks listing,
# search, filters, sorting, the CVE table, package search, no request leaving any page, no
# console error, and that the hostile site executes nothing. Screenshots (PNG) go to
# target/test-artifacts/site/. Fails loudly when chromium is missing (scripts/setup.sh
# installs it).
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

fail() { printf 'FAIL - %s\n' "$*" >&2; exit 1; }
log() { printf 'test-site-browser: %s\n' "$*" >&2; }

command -v python3 >/dev/null 2>&1 || fail "python3 required: run scripts/setup.sh"
if [ -n "${GOLDEN_CHROMIUM:-}" ]; then
  [ -x "$GOLDEN_CHROMIUM" ] || fail "GOLDEN_CHROMIUM=$GOLDEN_CHROMIUM is not executable"
else
  command -v chromium >/dev/null 2>&1 || fail "chromium required: run scripts/setup.sh (Debian package chromium)"
fi

bin="${GOLDEN_REPORT_BIN:-target/debug/golden-report}"
if [ ! -x "$bin" ]; then
  log "building golden-report"
  cargo build -q -p golden-report || fail "cargo build -p golden-report failed"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
artifacts="${GOLDEN_TEST_ARTIFACTS:-target/test-artifacts}/site"
mkdir -p "$artifacts"

python3 tests/browser/catalog_input.py browser "$work/input" || fail "catalog_input.py failed"
"$bin" site --input "$work/input" --output "$work/site" || fail "golden-report site (browser set) failed"
"$bin" site --input tests/fixtures/report/hostile --output "$work/hostile" \
  || fail "golden-report site (hostile set) failed"

# Nothing is loaded by reference at all: no src attribute, no <link> element (links to
# advisories are navigations a reader chooses, not loads).
for d in "$work/site" "$work/hostile"; do
  if grep -rlE '<[a-z]+ [^>]*src=|<link ' "$d" --include='*.html' | grep -q .; then
    fail "a page under $d loads a resource by reference (src= or <link>)"
  fi
done
printf 'ok   - no page loads a resource by reference\n'

python3 tests/browser/test_site.py --site "$work/site" --hostile "$work/hostile" \
  --input "$work/input" --artifacts "$artifacts"
