#!/usr/bin/env bash
# Run every shell test (tests/shell/test-*.sh). Each test script exits non-zero on failure.
# Usage: tests/run-shell.sh [PATTERN]   (PATTERN filters by file name, e.g. harden)
set -Eeuo pipefail
cd "$(dirname "$0")/.."

pattern="${1:-}"
failed=()
ran=0
for t in tests/shell/test-*.sh; do
  [ -e "$t" ] || continue
  case "$t" in *"$pattern"*) ;; *) continue ;; esac
  ran=$((ran + 1))
  printf '=== %s\n' "$t"
  start=$(date +%s)
  if bash "$t"; then
    printf '=== PASS %s (%ss)\n' "$t" "$(( $(date +%s) - start ))"
  else
    printf '=== FAIL %s (%ss)\n' "$t" "$(( $(date +%s) - start ))"
    failed+=("$t")
  fi
done
printf '\nshell tests: %d run, %d failed\n' "$ran" "${#failed[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf '  failed: %s\n' "${failed[@]}"
  exit 1
fi
