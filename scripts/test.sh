#!/usr/bin/env bash
# The README's test command (and what CI runs): install what the tests need, then run the gate.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
# The gate builds, scans and pushes one arm64 image set under emulation (tests/shell/
# test-multiarch.sh): setup enables it. Only setup is asked (not exported: the tests choose
# their own architectures).
GOLDEN_ARCHS="${GOLDEN_ARCHS:-amd64 arm64}" scripts/setup.sh
exec scripts/gate.sh "$@"
