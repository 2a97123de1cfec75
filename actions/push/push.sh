#!/usr/bin/env bash
# Step script of actions/push. Inputs arrive as environment variables: GOLDEN_* and AZURE_* go to
# golden-push as they are (empty ones are unset); IN_* are resolved here first.
#
#   push   golden-push IMAGE --to <first tag> --tag <other tags>, then golden-push attach for
#          every file in `attach` (subject: the pushed digest; a scan report first gets that
#          digest as image.digest); writes the push record (golden_push_record, lib/common.sh)
#   index  for every image id with per-architecture push records under `records`, golden-push
#          index --to <real first tag> <digests...> --tag <real other tags>
#
# golden-push writes digest/reference/tags to $GITHUB_OUTPUT itself, but this step runs it
# several times (push, then attach): its own writes are switched off and the outputs are written
# once, here, from its --format json report.
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden push"
# shellcheck source=actions/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

golden_need golden-push
golden_need jq "to read the plan entry and golden-push's report"

golden_single_line image "${GOLDEN_IMAGE:-}"
golden_single_line base "${GOLDEN_BASE:-}"
golden_single_line auth "${GOLDEN_AUTH:-}"
golden_single_line to "${IN_TO:-}"
golden_single_line id "${IN_ID:-}"
golden_single_line arch-suffix "${IN_ARCH_SUFFIX:-}"
golden_check_entry "${IN_ENTRY:-}"
for pair in tags:IN_TAGS annotations:IN_ANNOTATIONS attach:IN_ATTACH record:IN_RECORD records:IN_RECORDS; do
  golden_check_items "${pair%%:*}" "$(golden_env "${pair#*:}")"
done

STEP_OUTPUT="${GITHUB_OUTPUT:-}"
unset GITHUB_OUTPUT
export GOLDEN_FORMAT=json
golden_flag GOLDEN_INSECURE insecure "${IN_INSECURE:-false}"
WORK="$(golden_tmp)/push"
mkdir -p "$WORK"

out() { GITHUB_OUTPUT="$STEP_OUTPUT" golden_output "$1" "$2"; }

# Write JSON (stdin) to every path in $1 (newline-separated), atomically.
write_record() {
  local paths="$1" json p
  json="$(cat)"
  while IFS= read -r p; do
    mkdir -p "$(dirname "$p")"
    printf '%s\n' "$json" >"$p.tmp"
    mv -f "$p.tmp" "$p"
  done < <(golden_nl_lines "$paths")
}

cmd_push() {
  local entry="${IN_ENTRY:-}" id="" image="" to tags=() index_to="" index_tags=() report digest reference
  local uploaded f files=() types=() i attached=() a
  [ -n "${GOLDEN_IMAGE:-}" ] || golden_die "input \`image\` is required (an engine image or docker-archive:PATH)"
  if [ -n "$entry" ]; then
    jq -e 'type == "object" and (.tags | type) == "array" and (.tags | length) > 0' >/dev/null 2>&1 <<<"$entry" \
      || golden_die "input \`entry\` is not a plan entry with tags (JSON object with a non-empty \`tags\` list)"
    id="$(jq -r '.id // ""' <<<"$entry")"
    image="$(jq -r '.image // ""' <<<"$entry")"
  fi
  if [ -n "${IN_ID:-}" ]; then id="$IN_ID"; fi
  to="${IN_TO:-}"
  if [ -z "$to" ]; then
    [ -n "$entry" ] || golden_die "give input \`to\` (REGISTRY/REPOSITORY:TAG) or \`entry\`"
    to="$(jq -r '.tags[0]' <<<"$entry")"
  fi
  if [ -n "${IN_TAGS:-}" ]; then
    mapfile -t tags < <(golden_lines "$IN_TAGS")
  elif [ -n "$entry" ]; then
    mapfile -t tags < <(golden_entry_tags "$entry")
  fi
  if [ -z "$image" ]; then image="${to%:*}"; fi
  if [ -n "${IN_ARCH_SUFFIX:-}" ]; then
    [[ "$IN_ARCH_SUFFIX" =~ ^[A-Za-z0-9_.-]+$ ]] || golden_die "input \`arch-suffix\` must be a tag suffix, got \`$IN_ARCH_SUFFIX\`"
    index_to="$to"
    index_tags=("${tags[@]}")
    to="$to-$IN_ARCH_SUFFIX"
    tags=()
  fi
  export GOLDEN_TO="$to"
  GOLDEN_TAGS="$(printf '%s\n' "${tags[@]}")"
  export GOLDEN_TAGS
  GOLDEN_ANNOTATIONS="$(golden_nl_lines "${IN_ANNOTATIONS:-}")"
  export GOLDEN_ANNOTATIONS
  golden_unset_empty
  # Every attachment is checked before anything is pushed.
  while IFS= read -r f; do
    files+=("${f%%=*}")
    types+=("$(golden_artifact_type "$f")")
    [ -f "${files[-1]}" ] || golden_die "input \`attach\`: no file at ${files[-1]}"
  done < <(golden_nl_lines "${IN_ATTACH:-}")

  report="$WORK/push-report.json"
  golden-push push >"$report"
  digest="$(jq -r '.digest' "$report")"
  reference="$(jq -r '.reference' "$report")"
  uploaded="$(golden_uploaded "$report")"
  golden_log "pushed $reference ($uploaded of $(jq '.layers | length + 1' "$report") blobs sent, the rest already in the registry)"

  for i in "${!files[@]}"; do
    if [ "${types[i]}" = application/vnd.golden.scan-report.v1+json ]; then
      golden_report_digest "${files[i]}" "$digest" \
        || golden_die "input \`attach\`: ${files[i]} is not JSON (a scan report gets the pushed digest as image.digest)"
    fi
    a="$(GOLDEN_SUBJECT="$reference" GOLDEN_FILE="${files[i]}" GOLDEN_ARTIFACT_TYPE="${types[i]}" golden-push attach | jq -r '.digest')"
    attached+=("$a")
    golden_log "attached ${files[i]} (${types[i]}) as $a"
  done

  out digest "$digest"
  out reference "$reference"
  out tags "$(jq -r '.tags[]' "$report")"
  out uploaded "$uploaded"
  out attached "$(printf '%s\n' "${attached[@]}" | grep -v '^$' || true)"
  if [ -n "${IN_RECORD:-}" ]; then
    golden_push_record "$id" "${IN_ARCH_SUFFIX:-$(golden_arch)}" "$image" "$report" "$uploaded" \
      "$(printf '%s\n' "${attached[@]}")" "$index_to" "${index_tags[@]}" | write_record "$IN_RECORD"
    out record "$(golden_nl_lines "$IN_RECORD" | head -n 1)"
  fi
}

cmd_index() {
  local dirs=() d files=() all ids id to manifests tags result records=()
  mapfile -t dirs < <(golden_nl_lines "${IN_RECORDS:-}")
  [ "${#dirs[@]}" -gt 0 ] || golden_die "mode index needs input \`records\` (folders with push-record.json files)"
  for d in "${dirs[@]}"; do
    [ -d "$d" ] || golden_die "input \`records\`: no folder at $d"
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -name 'push-record.json' -type f -print0)
  done
  [ "${#files[@]}" -gt 0 ] || golden_die "no push-record.json under ${dirs[*]}: nothing was pushed"
  all="$(jq -s '[.[] | select(.kind == "golden-push-record" and .index_to != "")]' "${files[@]}")"
  mapfile -t ids < <(jq -r '[.[].id] | unique[]' <<<"$all")
  [ "${#ids[@]}" -gt 0 ] || golden_die "the push records have no per-architecture pushes (arch-suffix) to merge"
  golden_unset_empty
  for id in "${ids[@]}"; do
    to="$(jq -r --arg id "$id" '[.[] | select(.id == $id)][0].index_to' <<<"$all")"
    manifests="$(jq -r --arg id "$id" '.[] | select(.id == $id) | .reference' <<<"$all")"
    tags="$(jq -r --arg id "$id" '[.[] | select(.id == $id)][0].index_tags[]' <<<"$all")"
    golden_log "index $to <- $(tr '\n' ' ' <<<"$manifests")"
    result="$(GOLDEN_TO="$to" GOLDEN_MANIFESTS="$manifests" GOLDEN_TAGS="$tags" golden-push index)"
    records+=("$(jq -c --arg id "$id" --arg manifests "$manifests" \
      '{kind: "golden-index-record", id: $id, digest: .digest, reference: .reference, tags: .tags,
        manifests: ($manifests | split("\n"))}' <<<"$result")")
  done
  result="$(printf '%s\n' "${records[@]}" | jq -s '.')"
  out digest "$(jq -r 'map(.digest) | join("\n")' <<<"$result")"
  out reference "$(jq -r 'map(.reference) | join("\n")' <<<"$result")"
  out tags "$(jq -r 'map(.tags[]) | join("\n")' <<<"$result")"
  if [ -n "${IN_RECORD:-}" ]; then
    write_record "$IN_RECORD" <<<"$result"
    out record "$(golden_nl_lines "$IN_RECORD" | head -n 1)"
  fi
}

case "${IN_MODE:-push}" in
  push) cmd_push ;;
  index) cmd_index ;;
  *) golden_die "input \`mode\` must be push or index, got \`${IN_MODE:-}\`" ;;
esac
