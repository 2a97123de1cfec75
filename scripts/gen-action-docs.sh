#!/usr/bin/env bash
# Generate the input/output table of every actions/<name>/README.md from its action.yml
# (golden-xtask action-docs), and docs/environment.md and the flag table of each
# crates/<binary>/README.md from the binaries' clap definitions (golden-xtask env-docs), or with
# --check fail when a README or docs/environment.md is out of date or an action breaks the rules
# every golden action follows. The gate runs
# `scripts/gen-action-docs.sh --check`. Both run; the exit code is the worse of the two.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
rc=0
for task in action-docs env-docs; do
  r=0
  cargo run -q -p golden-xtask -- "$task" "$@" || r=$?
  if [ "$r" -gt "$rc" ]; then rc=$r; fi
done
exit "$rc"
