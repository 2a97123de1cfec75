#!/usr/bin/env bash
# The act stand-ins behave like the actions they replace (tests/act-standins), and every pinned
# remote action of the workflows and actions has one.
# shellcheck source=tests/workflows/lib.sh
. "$(dirname "$0")/lib.sh"
require_tools python3

# Every `uses: owner/repo[/sub]@sha` in .github/workflows and actions/ is mapped.
missing=0
while read -r ref; do
  grep -qE "^${ref%%@*}@${ref#*@} " "$ROOT/tests/act-standins/map.txt" || { echo "not mapped: $ref" >&2; missing=1; }
done < <(cd "$ROOT" && grep -rhoE 'uses: [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}' .github/workflows actions \
  | sed -E 's/^uses: //; s#^([^/]+/[^/@]+)(/[^@]*)?@#\1@#' | sort -u)
[ "$missing" = 0 ] || fail "pinned actions without a stand-in (add them to tests/act-standins/map.txt)"
ok "every pinned remote action has a stand-in"

rm -rf "$WORK"
mkdir -p "$WORK"
fixture_repo "$WORK/repo"
rc=0
GOLDEN_ACT_CACHE_DIR="$WORK/cache" act_run "$WORK/state" "$ROOT/tests/workflows/fixtures/standins.yml" workflow_dispatch --repo "$WORK/repo" || rc=$?
log="$WORK/state/act.log"
[ "$rc" != 0 ] || fail "the run passed although three jobs must fail"
for j in produce consume; do [ "$(job_result "$log" "standins/$j")" = succeeded ] || fail "job $j: $(job_result "$log" "standins/$j") (see $log)"; done
for j in bad-upload bad-checkout bad-sarif; do [ "$(job_result "$log" "standins/$j")" = failed ] || fail "job $j did not fail (see $log)"; done
grep -q "input \`submodules\` (\`recursive\`) is not supported" "$log" || fail "checkout did not name the unsupported input"
grep -q "no files were found with the provided path: /nonexistent/golden-act-standins" "$log" || fail "upload did not name the missing path"
grep -q "not valid SARIF 2.1.0 at /runs/0: 'tool' is a required property" "$log" || fail "upload-sarif did not reject the invalid SARIF"
ok "unsupported inputs, missing files and invalid SARIF fail loudly"

expected="cached/c.txt
merged/a/x/one.txt
merged/b/two.txt
merged/two.txt
merged/x/one.txt
named/two.txt
sep/golden-plan/two.txt
sep/golden-report-one/a/x/one.txt
sep/golden-report-one/b/two.txt
hit=false matched=standins-1-v1"
got="$(cat "$WORK/state/records/consumed.txt")"
[ "$got" = "$expected" ] || fail "artifact/cache layout differs:
$got"
ok "upload roots, hidden files, pattern with braces, merge-multiple, restore-keys"
[ -f "$WORK/state/records/sarif/001.sarif" ] && [ "$(jq -r .category "$WORK/state/records/sarif/001.json")" = standins ] \
  || fail "the valid SARIF was not stored with its category"
[ ! -e "$WORK/state/records/sarif/002.sarif" ] || fail "the invalid SARIF was stored"
ok "valid SARIF stored with its category"
