#!/usr/bin/env bash
# Generate the input/output table of every actions/<name>/README.md from its action.yml
# (golden-xtask action-docs), or with --check fail when a README is out of date or an action
# breaks the rules every golden action follows. The gate runs `scripts/gen-action-docs.sh --check`.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
exec cargo run -q -p golden-xtask -- action-docs "$@"
