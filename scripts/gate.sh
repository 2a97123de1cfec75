#!/usr/bin/env bash
# The step_* functions and their helpers are called indirectly through "$fn".
# shellcheck disable=SC2329
# The quality gate: the same checks locally and in CI. Every step runs; the gate fails if any
# step failed, and prints a table of results at the end.
#   scripts/gate.sh            all steps
#   scripts/gate.sh fmt clippy only the named steps
# Expects the tools that scripts/setup.sh installs (.venv linters, cargo-nextest, Docker engine).
set -Eeuo pipefail
cd "$(dirname "$0")/.."

VENV_BIN="$PWD/.venv/bin"
# .cache/tools/bin: the pinned cargo-deny scripts/setup.sh installs.
export PATH="$VENV_BIN:$PWD/.cache/tools/bin:$PATH"

ALL_STEPS=(fmt clippy tests deny shell-tests hadolint shellcheck zizmor schemas action-docs workflows)
if [ "$#" -gt 0 ]; then STEPS=("$@"); else STEPS=("${ALL_STEPS[@]}"); fi

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "gate: $1 not found: run scripts/setup.sh" >&2; return 2; }
}

dockerfiles() { git ls-files --cached --others --exclude-standard -- '*Dockerfile*' | grep -v '^tests/fixtures/' || true; }
shell_scripts() {
  git ls-files --cached --others --exclude-standard | while read -r f; do
    [ -f "$f" ] || continue
    case "$f" in
      tests/fixtures/*|*.snap|*.md|*.yml|*.yaml|*.json|*.rs|*.toml) continue ;;
      *.sh) echo "$f" ;;
      *) head -c 64 "$f" 2>/dev/null | head -n 1 | grep -qE '^#!.*\b(ba)?sh\b' && echo "$f" ;;
    esac
  done
}
workflow_files() { git ls-files --cached --others --exclude-standard -- '.github/workflows/*.yml' '.github/workflows/*.yaml'; }
action_files() { git ls-files --cached --others --exclude-standard -- 'actions/*/action.yml' 'action.yml'; }

step_fmt() { cargo fmt --all -- --check; }
step_clippy() { cargo clippy --workspace --all-targets --locked -- -D warnings; }
step_tests() { need cargo-nextest && cargo nextest run --workspace --locked --profile ci; }
# Licenses, banned crates and sources against deny.toml. Not `advisories`: the RustSec
# database is fetched from the network, so that check runs only in .github/workflows/ci.yml.
step_deny() {
  need cargo-deny || return 2
  cargo deny --locked check --hide-inclusion-graph licenses bans sources
}
step_shell_tests() { tests/run-shell.sh; }
step_hadolint() {
  need hadolint || return 2
  mapfile -t files < <(dockerfiles)
  [ "${#files[@]}" -gt 0 ] || { echo "no Dockerfiles"; return 0; }
  hadolint "${files[@]}"
}
step_shellcheck() {
  need shellcheck || return 2
  mapfile -t files < <(shell_scripts)
  [ "${#files[@]}" -gt 0 ] || { echo "no shell scripts"; return 0; }
  shellcheck -x "${files[@]}"
}
step_zizmor() {
  need zizmor || return 2
  mapfile -t wf < <(workflow_files)
  mapfile -t ac < <(action_files)
  if [ "${#wf[@]}" -eq 0 ] && [ "${#ac[@]}" -eq 0 ]; then echo "no workflows or actions yet"; return 0; fi
  zizmor --offline --persona pedantic --no-progress "${wf[@]}" "${ac[@]}"
}
step_schemas() {
  need check-jsonschema || return 2
  local rc=0
  mapfile -t wf < <(workflow_files)
  mapfile -t ac < <(action_files)
  if [ "${#wf[@]}" -gt 0 ]; then check-jsonschema --builtin-schema vendor.github-workflows "${wf[@]}" || rc=1; fi
  if [ "${#ac[@]}" -gt 0 ]; then check-jsonschema --builtin-schema vendor.github-actions "${ac[@]}" || rc=1; fi
  return "$rc"
}
# The workflows under act (tests/workflows): act, the engine and the built binaries must be there.
step_workflows() {
  if [ ! -x .venv/bin/act ]; then need act || return 2; fi
  need docker || return 2
  docker info >/dev/null 2>&1 || { echo "gate: no Docker engine: run scripts/ensure-docker.sh" >&2; return 2; }
  cargo build --workspace --bins --locked && tests/workflows/run.sh
}
step_action_docs() {
  if [ -x scripts/gen-action-docs.sh ]; then scripts/gen-action-docs.sh --check; else echo "no actions yet"; fi
}

declare -A result
overall=0
for s in "${STEPS[@]}"; do
  fn="step_${s//-/_}"
  if ! declare -F "$fn" >/dev/null; then echo "gate: unknown step $s (known: ${ALL_STEPS[*]})" >&2; exit 2; fi
  printf '\n===== gate: %s =====\n' "$s"
  start=$(date +%s)
  if "$fn"; then result[$s]="ok ($(( $(date +%s) - start ))s)"; else result[$s]="FAILED ($(( $(date +%s) - start ))s)"; overall=1; fi
done

printf '\n===== gate summary =====\n'
for s in "${STEPS[@]}"; do printf '  %-14s %s\n' "$s" "${result[$s]}"; done
exit "$overall"
