#!/usr/bin/env bash
# Step script of actions/report. Inputs arrive as environment variables: GOLDEN_* go to
# golden-report as they are; IN_* (mode, booleans) are mapped to its flags here. golden-report
# writes status, images, failed, summary, digests, summary-json, metrics, comment-url and
# comment-file to $GITHUB_OUTPUT itself (digests from the push and index records it reads);
# this adds output-dir and summary-markdown. Nothing here parses a binary's output.
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden report"
# shellcheck source=actions/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

golden_need golden-report

for pair in input:GOLDEN_INPUT output:GOLDEN_OUTPUT plan:GOLDEN_PLAN baseline:GOLDEN_BASELINE config:GOLDEN_CONFIG \
  pr:GOLDEN_PR comment-key:GOLDEN_COMMENT_KEY comment-file:GOLDEN_COMMENT_FILE comment-author:GOLDEN_COMMENT_AUTHOR \
  head-sha:GOLDEN_HEAD_SHA alert-label:GOLDEN_ALERT_LABEL repository:GOLDEN_REPOSITORY mode:IN_MODE comment:IN_COMMENT \
  regression-size-percent:GOLDEN_REGRESSION_SIZE_PERCENT regression-build-time-percent:GOLDEN_REGRESSION_BUILD_TIME_PERCENT \
  history:GOLDEN_HISTORY pushgateway:GOLDEN_PUSHGATEWAY pushgateway-job:GOLDEN_PUSHGATEWAY_JOB \
  otlp-endpoint:GOLDEN_OTLP_ENDPOINT webhook-kind:GOLDEN_WEBHOOK_KIND catalog-url:GOLDEN_CATALOG_URL \
  alert-state:GOLDEN_ALERT_STATE; do
  golden_single_line "${pair%%:*}" "$(golden_env "${pair#*:}")"
done
golden_check_items push-records "${IN_PUSH_RECORDS:-}"
golden_check_items webhook-urls "${IN_WEBHOOK_URLS:-}"

case "${IN_MODE:-report}" in
  report)
    unset GOLDEN_HEAD_SHA
    export GOLDEN_OUTPUT="${GOLDEN_OUTPUT:-$(golden_tmp)/report}"
    [ -d "${GOLDEN_INPUT:-}" ] || golden_die "input \`input\`: no folder at \`${GOLDEN_INPUT:-}\` (download the report artifacts there first)"
    case "${IN_COMMENT:-auto}" in
      auto | true) unset GOLDEN_NO_COMMENT ;;
      # No token: golden-report writes the comment file instead of calling the API.
      file) unset GOLDEN_NO_COMMENT GITHUB_TOKEN ;;
      false) export GOLDEN_NO_COMMENT=true ;;
      *) golden_die "input \`comment\` must be auto, file or false, got \`${IN_COMMENT:-}\`" ;;
    esac
    case "${IN_ALERT:-auto}" in
      auto) unset GOLDEN_ALERT GOLDEN_NO_ALERT ;;
      *)
        golden_bool alert "$IN_ALERT"
        if [ "$REPLY" = true ]; then export GOLDEN_ALERT=true; unset GOLDEN_NO_ALERT
        else export GOLDEN_NO_ALERT=true; unset GOLDEN_ALERT; fi
        ;;
    esac
    golden_no_flag GOLDEN_NO_JOB_SUMMARY job-summary "${IN_JOB_SUMMARY:-true}"
    golden_flag GOLDEN_FAIL_ON_FAILURE fail-on-failure "${IN_FAIL_ON_FAILURE:-false}"
    golden_flag GOLDEN_BASELINE_REGISTRY baseline-registry "${IN_BASELINE_REGISTRY:-false}"
    golden_flag GOLDEN_FAIL_ON_REGRESSION fail-on-regression "${IN_FAIL_ON_REGRESSION:-false}"
    export GOLDEN_WEBHOOK_URL
    GOLDEN_WEBHOOK_URL="$(golden_nl_lines "${IN_WEBHOOK_URLS:-}")"
    export GOLDEN_PUSH_RECORDS
    GOLDEN_PUSH_RECORDS="$(golden_nl_lines "${IN_PUSH_RECORDS:-}")"
    mkdir -p "$GOLDEN_OUTPUT"
    golden_unset_empty
    code=0
    golden-report || code=$?
    out="$(cd "$GOLDEN_OUTPUT" && pwd)"
    golden_output output-dir "$out"
    if [ -f "$out/summary.md" ]; then golden_output summary-markdown "$out/summary.md"; fi
    exit "$code"
    ;;
  post-comment)
    # Nothing of a report run: no shipping, no webhook, no history in a comment poster.
    for v in GOLDEN_INPUT GOLDEN_PUSH_RECORDS GOLDEN_OUTPUT GOLDEN_PLAN GOLDEN_BASELINE GOLDEN_REGISTRY_USERNAME GOLDEN_REGISTRY_PASSWORD GOLDEN_CONFIG GOLDEN_PR GOLDEN_COMMENT_KEY GOLDEN_ALERT_LABEL \
      GOLDEN_REGRESSION_SIZE_PERCENT GOLDEN_REGRESSION_BUILD_TIME_PERCENT GOLDEN_HISTORY GOLDEN_PUSHGATEWAY GOLDEN_PUSHGATEWAY_JOB \
      GOLDEN_PUSHGATEWAY_USERNAME GOLDEN_PUSHGATEWAY_PASSWORD GOLDEN_PUSHGATEWAY_TOKEN GOLDEN_OTLP_ENDPOINT GOLDEN_OTLP_HEADERS \
      GOLDEN_WEBHOOK_KIND GOLDEN_WEBHOOK_SECRET GOLDEN_CATALOG_URL GOLDEN_ALERT_STATE; do
      unset "$v"
    done
    [ -n "${GOLDEN_COMMENT_FILE:-}" ] || golden_die "mode post-comment needs input \`comment-file\`"
    [ -f "$GOLDEN_COMMENT_FILE" ] || golden_die "no comment file at \`$GOLDEN_COMMENT_FILE\`"
    golden_unset_empty
    golden-report post-comment
    ;;
  *) golden_die "input \`mode\` must be report or post-comment, got \`${IN_MODE:-}\`" ;;
esac
