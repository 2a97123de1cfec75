#!/usr/bin/env bash
# Step script of actions/push. Inputs arrive as environment variables: GOLDEN_* and AZURE_* go to
# golden-push as they are (empty ones are unset); IN_* are resolved here first.
#
#   push   golden-push IMAGE --to <first tag> --tag <other tags>, then golden-push attach for
#          every file in `attach` (subject: the pushed digest); writes the push record
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
command -v jq >/dev/null 2>&1 || golden_die "jq not found (needed to read the plan entry and golden-push's report)"

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
# Empty credentials mean "not given" (the auth detection looks at presence).
for v in AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_CLIENT_SECRET; do
  if [ -z "${!v:-}" ]; then unset "$v"; fi
done
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

artifact_type() {
  case "$1" in
    *=*) printf '%s' "${1#*=}" ;;
    *build-record.json) printf 'application/vnd.golden.build-record.v1+json' ;;
    *report.json) printf 'application/vnd.golden.scan-report.v1+json' ;;
    *.cdx.json) printf 'application/vnd.cyclonedx+json' ;;
    *.sarif | *.sarif.json) printf 'application/sarif+json' ;;
    *) golden_die "input \`attach\`: cannot tell the artifact type of \`$1\`; write it as FILE=TYPE" ;;
  esac
}

# record_digest REPORT DIGEST: the scan ran before the push, so its report knows the image id
# only; `image.digest` is the report's field for the registry manifest digest of a pushed image.
# Filled in before the report is attached and uploaded, so the run summary shows the digest.
record_digest() {
  jq --arg d "$2" '.image.digest = $d' "$1" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

arch_name() {
  case "$(uname -m)" in
    x86_64 | amd64) printf 'amd64' ;;
    aarch64 | arm64) printf 'arm64' ;;
    *) uname -m ;;
  esac
}

cmd_push() {
  local entry="${IN_ENTRY:-}" id="" image="" to tags=() index_to="" index_tags=() report digest reference
  local uploaded f file type attached=() a
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
    # Full references in the same repository as the first: keep the tag part.
    mapfile -t tags < <(jq -r '(.tags[0] | sub(":[^:/]+$"; "")) as $repo | .tags[1:][] | select(startswith($repo + ":")) | ltrimstr($repo + ":")' <<<"$entry")
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

  report="$WORK/push-report.json"
  golden-push push >"$report"
  digest="$(jq -r '.digest' "$report")"
  reference="$(jq -r '.reference' "$report")"
  uploaded="$(jq '[.config, .layers[]] | map(select(.action != "exists")) | length' "$report")"
  golden_log "pushed $reference ($uploaded of $(jq '.layers | length + 1' "$report") blobs sent, the rest already in the registry)"

  while IFS= read -r f; do
    file="${f%%=*}"
    type="$(artifact_type "$f")"
    [ -f "$file" ] || golden_die "input \`attach\`: no file at $file"
    if [ "$type" = application/vnd.golden.scan-report.v1+json ]; then record_digest "$file" "$digest"; fi
    a="$(GOLDEN_SUBJECT="$reference" GOLDEN_FILE="$file" GOLDEN_ARTIFACT_TYPE="$type" golden-push attach | jq -r '.digest')"
    attached+=("$a")
    golden_log "attached $file ($type) as $a"
  done < <(golden_nl_lines "${IN_ATTACH:-}")

  out digest "$digest"
  out reference "$reference"
  out tags "$(jq -r '.tags[]' "$report")"
  out uploaded "$uploaded"
  out attached "$(printf '%s\n' "${attached[@]}" | grep -v '^$' || true)"
  if [ -n "${IN_RECORD:-}" ]; then
    jq -n --arg id "$id" --arg arch "${IN_ARCH_SUFFIX:-$(arch_name)}" --arg image "$image" \
      --arg index_to "$index_to" --slurpfile report "$report" --argjson uploaded "$uploaded" \
      --argjson attached "$(printf '%s\n' "${attached[@]}" | jq -R . | jq -s 'map(select(. != ""))')" \
      --args '{kind: "golden-push-record", id: $id, arch: $arch, image: $image,
        digest: $report[0].digest, reference: $report[0].reference, tags: $report[0].tags,
        uploaded: $uploaded, attached: $attached, index_to: $index_to,
        index_tags: $ARGS.positional}' \
      "${index_tags[@]}" | write_record "$IN_RECORD"
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
