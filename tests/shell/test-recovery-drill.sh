#!/usr/bin/env bash
# The disaster-recovery drill (scripts/dr-drill.sh, `make dr-drill`) passes on the images the
# platform tests built: promote with referrers, replicate, wipe the primary, fail over to the
# secondary (same digests, same referrers, the engine pulls), restore, second sync a no-op.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

nginx=$(GOLDEN_TEST_REUSE_IMAGES=1 pt_image nginx)
# pt_image builds the nginx image (and fails if the hardened base is missing); the base is
# drilled too.
images="goldenimages.azurecr.io/golden/base-debian:12 $nginx"
out="$PT_TMP/drill.log"
if GOLDEN_DRILL_IMAGES="$images" "$PT_ROOT/scripts/dr-drill.sh" --no-setup >"$out" 2>&1; then
  ok "dr-drill passed ($(grep -c '^   ok' "$out") checks)"
  grep -E 'RTO|replication \(' "$out" | sed 's/^ */  /'
else
  cat "$out" >&2
  pt_die "dr-drill failed"
fi
check "the second replication copied nothing" grep -q 'in sync: .* nothing copied' "$out"
check "the engine pulled from the secondary" grep -q 'the engine pulled' "$out"
pt_done
