#!/usr/bin/env bash
# Run the workflow scenarios (tests/workflows/test-*.sh) under act. Each exits non-zero on failure.
# Usage: tests/workflows/run.sh [PATTERN]   (PATTERN filters by file name, e.g. nightly)
# Needs act (scripts/setup.sh), a Docker engine and the binaries in target/debug: a missing one
# fails the run, it is never skipped.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
pattern="${1:-}"
failed=()
ran=0
for t in tests/workflows/test-*.sh; do
  case "$t" in *"$pattern"*) ;; *) continue ;; esac
  ran=$((ran + 1))
  printf '=== %s\n' "$t"
  start=$(date +%s)
  if bash "$t"; then
    printf '=== PASS %s (%ss)\n' "$t" "$(($(date +%s) - start))"
  else
    printf '=== FAIL %s (%ss)\n' "$t" "$(($(date +%s) - start))"
    failed+=("$t")
  fi
done
printf '\nworkflow scenarios: %d run, %d failed\n' "$ran" "${#failed[@]}"
[ "$ran" -gt 0 ] || { echo "no scenario matched \`$pattern\`" >&2; exit 1; }
if [ "${#failed[@]}" -gt 0 ]; then
  printf '  failed: %s\n' "${failed[@]}"
  exit 1
fi
