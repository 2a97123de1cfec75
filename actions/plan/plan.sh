#!/usr/bin/env bash
# Step script of actions/plan: inputs arrive as environment variables (GOLDEN_* for the binary,
# IN_* for values this script normalises first). golden-plan writes bases, platforms, has-bases,
# has-platforms and count to $GITHUB_OUTPUT itself; this adds plan-file.
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden plan"
# shellcheck source=actions/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

golden_need golden-plan

golden_single_line config "${GOLDEN_CONFIG:-}"
golden_single_line repo-root "${GOLDEN_REPO_ROOT:-}"
golden_single_line acr-config "${GOLDEN_ACR_CONFIG:-}"
golden_single_line event "${GOLDEN_EVENT:-}"
golden_single_line rebuild "${GOLDEN_REBUILD:-}"
golden_single_line base-ref "${GOLDEN_BASE_REF:-}"
golden_single_line head-ref "${GOLDEN_HEAD_REF:-}"
golden_single_line registry "${GOLDEN_REGISTRY:-}"
golden_single_line namespace "${GOLDEN_NAMESPACE:-}"
golden_single_line staging-namespace "${GOLDEN_STAGING_NAMESPACE:-}"
golden_single_line output "${GOLDEN_PLAN_OUTPUT:-}"
golden_single_line architectures "${GOLDEN_ARCHITECTURES:-}"
golden_check_items os "${IN_OS:-}"
golden_check_items platforms "${IN_PLATFORMS:-}"
golden_check_items changed-files "${IN_CHANGED_FILES:-}"

export GOLDEN_OS GOLDEN_PLATFORMS
GOLDEN_OS="$(golden_csv "${IN_OS:-}")"
GOLDEN_PLATFORMS="$(golden_csv "${IN_PLATFORMS:-}")"
golden_flag GOLDEN_OFFLINE offline "${IN_OFFLINE:-false}"

if [ -n "${IN_CHANGED_FILES:-}" ]; then
  export GOLDEN_CHANGED_FILES
  GOLDEN_CHANGED_FILES="$(golden_tmp)/changed-files.txt"
  golden_nl_lines "$IN_CHANGED_FILES" >"$GOLDEN_CHANGED_FILES"
fi

export GOLDEN_PLAN_OUTPUT="${GOLDEN_PLAN_OUTPUT:-$(golden_tmp)/plan.json}"
export GOLDEN_FORMAT=json
golden_unset_empty

# The plan JSON goes to the file (and GITHUB_OUTPUT); stdout would only repeat it in the log.
golden-plan >/dev/null
[ -s "$GOLDEN_PLAN_OUTPUT" ] || golden_die "golden-plan wrote no plan to $GOLDEN_PLAN_OUTPUT"
golden_output plan-file "$GOLDEN_PLAN_OUTPUT"
