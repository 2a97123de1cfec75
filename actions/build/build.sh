#!/usr/bin/env bash
# Step scripts of actions/build. Inputs arrive as environment variables: GOLDEN_* go to
# golden-build as they are; IN_* are lists and booleans normalised here first.
#   build  load the given archives, then golden-build (it writes the record and the outputs
#          result, image-id, size, tags, duration, record to $GITHUB_OUTPUT itself)
#   save   golden-build save every tag of the built image (from the record) to GOLDEN_ARCHIVE
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden build"
# shellcheck source=actions/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

golden_need golden-build

golden_single_line plan "${GOLDEN_PLAN:-}"
golden_single_line id "${GOLDEN_ID:-}"
golden_single_line dockerfile "${GOLDEN_DOCKERFILE:-}"
golden_single_line context "${GOLDEN_CONTEXT:-}"
golden_single_line target "${GOLDEN_TARGET:-}"
golden_single_line base-image "${GOLDEN_BASE_IMAGE:-}"
golden_single_line mode "${GOLDEN_BUILD_MODE:-}"
golden_single_line arch "${GOLDEN_ARCH:-}"
golden_single_line repo-root "${GOLDEN_REPO_ROOT:-}"
golden_single_line record "${GOLDEN_RECORD:-}"
golden_single_line base-handoff "${IN_BASE_HANDOFF:-}"
golden_single_line save "${GOLDEN_ARCHIVE:-}"
golden_check_entry "${GOLDEN_ENTRY:-}"
for pair in tags:IN_TAGS build-args:IN_BUILD_ARGS labels:IN_LABELS cache-from:IN_CACHE_FROM load:IN_LOAD; do
  golden_check_items "${pair%%:*}" "$(golden_env "${pair#*:}")"
done

cmd_build() {
  local archive handoff record labels="${IN_LABELS:-}"
  # Empty inputs arrive as empty GOLDEN_* variables, which golden-build's `load` rejects
  # (`--plan` needs a value): drop them before the first golden-build call.
  golden_unset_empty
  handoff="${IN_BASE_HANDOFF:-}"
  if [ -n "$handoff" ]; then
    [ -d "$handoff" ] || golden_die "input \`base-handoff\`: no folder at $handoff (was the base artifact downloaded?)"
    archive="$(find "$handoff" -type f \( -name '*.tar.gz' -o -name '*.tar' -o -name '*.tar.zst' \) | sort | head -n 1)"
    [ -n "$archive" ] || golden_die "input \`base-handoff\`: no image archive in $handoff"
    golden_log "loading the handed-over base $archive"
    GOLDEN_ARCHIVE="$archive" golden-build load
    # golden-build reads the base's push record itself (its digest becomes the base.digest label).
    record="$(find "$handoff" -type f -name '*push-record.json' | sort | head -n 1)"
    if [ -n "$record" ]; then export GOLDEN_BASE_RECORD="$record"; fi
  fi
  while IFS= read -r archive; do
    [ -f "$archive" ] || golden_die "input \`load\`: no archive at $archive"
    golden_log "loading $archive"
    GOLDEN_ARCHIVE="$archive" golden-build load
  done < <(golden_nl_lines "${IN_LOAD:-}")

  # Reproducible by default: the `created` label and the Debian bootstrap's timestamps come from
  # the commit time, so rebuilding an unchanged commit gives the same image id (and pushes
  # nothing new). A SOURCE_DATE_EPOCH set by the caller wins.
  if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH="$(git -C "${GOLDEN_REPO_ROOT:-.}" log -1 --format=%ct 2>/dev/null || true)"
    if [ -n "$SOURCE_DATE_EPOCH" ]; then export SOURCE_DATE_EPOCH; else unset SOURCE_DATE_EPOCH; fi
  fi

  export GOLDEN_TAGS GOLDEN_BUILD_ARGS GOLDEN_LABELS GOLDEN_CACHE_FROM
  GOLDEN_TAGS="$(golden_nl_lines "${IN_TAGS:-}")"
  GOLDEN_BUILD_ARGS="$(golden_nl_lines "${IN_BUILD_ARGS:-}")"
  GOLDEN_LABELS="$(golden_nl_lines "$labels")"
  # Image references hold no blanks: spaces separate items like line feeds do.
  GOLDEN_CACHE_FROM="$(golden_nl_lines "$(printf '%s' "${IN_CACHE_FROM:-}" | tr -s '[:blank:]' '\n')")"
  golden_flag GOLDEN_NO_CACHE no-cache "${IN_NO_CACHE:-false}"
  golden_flag GOLDEN_PULL pull "${IN_PULL:-false}"
  golden_no_flag GOLDEN_NO_PULL_BASE pull-base "${IN_PULL_BASE:-true}"
  export GOLDEN_RECORD="${GOLDEN_RECORD:-$(golden_tmp)/build-record.json}"
  mkdir -p "$(dirname "$GOLDEN_RECORD")"
  golden_unset_empty
  golden-build
}

cmd_save() {
  local images
  [ -s "${IN_RECORD:-}" ] || golden_die "no build record to save from (the build step wrote none)"
  golden_need jq "to read the build record"
  images="$(jq -r 'if (.tags | length) > 0 then .tags[] else .image_id // empty end' "$IN_RECORD")"
  [ -n "$images" ] || golden_die "the build record $IN_RECORD names no image"
  mkdir -p "$(dirname "$GOLDEN_ARCHIVE")"
  GOLDEN_IMAGES="$images" golden-build save
  golden_output archive "$(cd "$(dirname "$GOLDEN_ARCHIVE")" && pwd)/$(basename "$GOLDEN_ARCHIVE")"
}

case "${1:-}" in
  build) cmd_build ;;
  save) cmd_save ;;
  *) golden_die "unknown subcommand \`${1:-}\` (build, save)" ;;
esac
