#!/usr/bin/env bash
# Step script of actions/push. Inputs arrive as environment variables: GOLDEN_* and AZURE_* go to
# golden-push as they are (empty ones are unset); IN_* are checked and mapped here.
#
#   push   golden-push push: the image by digest, every `attach` file as a referrer of that
#          digest, then the tags one by one; it writes the push record (`record`) and the step
#          outputs itself. With `signing-key` or `keyvault-key-id` the digest is signed and its
#          SLSA provenance attached before any tag moves (and checked with `verify-policy`).
#   index  golden-push index --records: one multi-arch index per image id from the
#          per-architecture push records under `records`, refused (nothing pushed, no tag moved)
#          unless every architecture in `expect-arch` has a successful push record.
#
# Nothing here reads golden-push's stdout: it is for people (and, inside Actions, the runner's
# command channel: `::add-mask::` lines for every credential). Machines read the record files.
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden push"
# shellcheck source=actions/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

golden_need golden-push

for pair in image:GOLDEN_IMAGE base:GOLDEN_BASE auth:GOLDEN_AUTH to:GOLDEN_TO id:GOLDEN_ID \
  arch-suffix:GOLDEN_ARCH_SUFFIX plan:GOLDEN_PLAN record:GOLDEN_RECORD expect-arch:GOLDEN_EXPECT_ARCH mode:IN_MODE \
  keyvault-key-id:AZURE_KEYVAULT_KEY_ID build-record:GOLDEN_BUILD_RECORD verify-policy:GOLDEN_VERIFY_POLICY; do
  golden_single_line "${pair%%:*}" "$(golden_env "${pair#*:}")"
done
for pair in tags:IN_TAGS annotations:IN_ANNOTATIONS attach:IN_ATTACH records:IN_RECORDS entry:GOLDEN_ENTRY; do
  golden_check_items "${pair%%:*}" "$(golden_env "${pair#*:}")"
done
golden_flag GOLDEN_INSECURE insecure "${IN_INSECURE:-false}"
golden_bool provenance "${IN_PROVENANCE:-true}"
export GOLDEN_PROVENANCE="$REPLY"

case "${IN_MODE:-push}" in
  push)
    [ -n "${GOLDEN_IMAGE:-}" ] || golden_die "input \`image\` is required (an engine image or docker-archive:PATH)"
    [ -n "${GOLDEN_TO:-}${GOLDEN_ENTRY:-}" ] || golden_die "give input \`to\` (REGISTRY/REPOSITORY:TAG) or \`entry\`"
    export GOLDEN_TAGS GOLDEN_ANNOTATIONS GOLDEN_ATTACH
    GOLDEN_TAGS="$(golden_lines "${IN_TAGS:-}")"
    GOLDEN_ANNOTATIONS="$(golden_nl_lines "${IN_ANNOTATIONS:-}")"
    GOLDEN_ATTACH="$(golden_nl_lines "${IN_ATTACH:-}")"
    unset GOLDEN_RECORDS GOLDEN_EXPECT_ARCH
    golden_unset_empty
    golden-push push
    ;;
  index)
    [ -n "${IN_RECORDS:-}" ] || golden_die "mode index needs input \`records\` (folders with push-record.json files)"
    [ -n "${GOLDEN_EXPECT_ARCH:-}" ] || golden_die "mode index needs input \`expect-arch\` (the architectures every image must have, e.g. amd64,arm64)"
    export GOLDEN_RECORDS
    GOLDEN_RECORDS="$(golden_nl_lines "$IN_RECORDS")"
    unset GOLDEN_IMAGE GOLDEN_ENTRY GOLDEN_PLAN GOLDEN_TO GOLDEN_ID GOLDEN_ARCH_SUFFIX GOLDEN_BASE GOLDEN_TAGS GOLDEN_ATTACH \
      GOLDEN_BUILD_RECORD GOLDEN_VERIFY_POLICY
    golden_unset_empty
    golden-push index
    ;;
  *) golden_die "input \`mode\` must be push or index, got \`${IN_MODE:-}\`" ;;
esac
