#!/usr/bin/env bash
# The README's test command (and what CI runs): install what the tests need, then run the gate.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec scripts/gate.sh "$@"
