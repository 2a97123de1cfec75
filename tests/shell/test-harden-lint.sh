#!/usr/bin/env bash
# Lint the base-image files: the three Dockerfiles with hadolint (.hadolint.yaml), the
# in-image hardening scripts with shellcheck as POSIX sh (-s sh: they run under busybox ash
# and dash, which have no bash features), the host-side scripts and these tests as bash.
# Linters come from .venv (scripts/setup.sh) or PATH; missing linters fail the test.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
cd "$REPO"
PATH="$REPO/.venv/bin:$PATH"
for tool in shellcheck hadolint; do
  command -v "$tool" >/dev/null || { echo "FAIL - $tool not found: run scripts/setup.sh"; exit 1; }
done

for df in base-images/alpine/Dockerfile base-images/debian/Dockerfile base-images/redhat/Dockerfile; do
  check_empty "hadolint $df" "$(hadolint --config .hadolint.yaml "$df" 2>&1 || echo "hadolint exited non-zero")"
done

posix=(scripts/harden-common.sh scripts/harden-alpine.sh scripts/harden-debian.sh scripts/harden-redhat.sh
  tests/shell/fixtures/harden/make-tree.sh tests/shell/fixtures/harden/list-tree.sh
  tests/shell/fixtures/harden/check-debian-rootfs.sh)
for f in "${posix[@]}"; do
  check_empty "shellcheck -s sh $f" "$(shellcheck -x -s sh "$f" 2>&1 || echo "shellcheck exited non-zero")"
done
for f in scripts/harden-alpine.sh scripts/harden-debian.sh scripts/harden-redhat.sh; do
  check_eq "$f starts with #!/bin/sh (no bash on Alpine)" "$(head -n 1 "$f")" '#!/bin/sh'
done

bash_scripts=(scripts/bootstrap-debian.sh scripts/build-base.sh scripts/bench-base.sh
  tests/shell/fixtures/harden/lib.sh tests/shell/test-harden-*.sh tests/shell/test-base-*.sh)
for f in "${bash_scripts[@]}"; do
  check_empty "shellcheck $f" "$(shellcheck -x "$f" 2>&1 || echo "shellcheck exited non-zero")"
done
finish
