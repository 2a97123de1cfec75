# shellcheck shell=bash
# Helpers shared by the golden composite actions' scripts (sourced, never executed).
#
# The actions are thin: every input reaches a script through the step's `env:` and reaches a
# golden binary as a `GOLDEN_*` environment variable; nothing from `${{ }}` is ever pasted into
# a script. These helpers normalise those variables (booleans, lists, empty values) and write
# step outputs in the heredoc form with a random delimiter.

# Escape text for the data part of a workflow command (so a value cannot end the command).
golden_escape() {
  local s="${1//'%'/'%25'}"
  s="${s//$'\r'/'%0D'}"
  printf '%s' "${s//$'\n'/'%0A'}"
}

golden_log() { printf '%s: %s\n' "${GOLDEN_ACTION_NAME:-golden}" "$*" >&2; }

# Print an error annotation and exit 2 (usage or runtime error, like the binaries). Annotations
# go to stderr (the runner reads workflow commands on both streams): a helper that dies inside
# `$( )` still shows its message instead of having it captured as its value.
golden_die() {
  printf '::error title=%s::%s\n' "$(golden_escape "${GOLDEN_ACTION_NAME:-golden}")" "$(golden_escape "$*")" >&2
  exit 2
}

golden_warn() {
  printf '::warning title=%s::%s\n' "$(golden_escape "${GOLDEN_ACTION_NAME:-golden}")" "$(golden_escape "$*")" >&2
}

# golden_bool NAME VALUE: set REPLY to `true` or `false`; anything else is an error naming the
# input. Runs in the current shell (never inside `$( )`, where the error could not stop the step).
golden_bool() {
  case "${2,,}" in
    true | yes | 1 | on) REPLY=true ;;
    false | no | 0 | off | '') REPLY=false ;;
    *) golden_die "input \`$1\` must be true or false, got \`$2\`" ;;
  esac
}

# golden_flag VAR NAME VALUE: export VAR=true when the boolean input is true, else unset VAR
# (the binaries' boolean flags read presence, not `false`).
golden_flag() {
  golden_bool "$2" "$3"
  if [ "$REPLY" = true ]; then
    export "$1=true"
  else
    unset "$1"
  fi
}

# golden_no_flag VAR NAME VALUE: the reverse, for an input that is on by default and maps to a
# binary's `--no-...` flag: export VAR=true when the boolean input is false, else unset VAR.
golden_no_flag() {
  golden_bool "$2" "$3"
  if [ "$REPLY" = false ]; then
    export "$1=true"
  else
    unset "$1"
  fi
}

# Newline- (or comma-) separated list to a comma list without blanks.
golden_csv() {
  printf '%s' "$1" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' | paste -sd, - || true
}

# Newline- (or comma-) separated list to one item per line without blanks.
golden_lines() {
  printf '%s' "$1" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' || true
}

# Newline-separated list (commas are part of values, e.g. build args) to lines without blanks.
golden_nl_lines() {
  printf '%s\n' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' || true
}

# Unset every empty GOLDEN_* variable: an empty input means "the binary's default", and clap
# refuses an empty value for a flag that takes one.
golden_unset_empty() {
  local v
  while IFS= read -r v; do
    case "$v" in
      GOLDEN_*) if [ -z "${!v}" ]; then unset "$v"; fi ;;
    esac
  done < <(compgen -e)
}

golden_random() {
  if [ -r /proc/sys/kernel/random/uuid ]; then
    tr -d '-' </proc/sys/kernel/random/uuid
  else
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
  fi
}

# golden_output NAME VALUE: append a step output (multi-line safe).
golden_output() {
  local delim
  [ -n "${GITHUB_OUTPUT:-}" ] || return 0
  delim="ghadelimiter_$(golden_random)"
  while [[ "$2" == *"$delim"* ]]; do delim="ghadelimiter_$(golden_random)"; done
  printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"$GITHUB_OUTPUT"
}

# golden_need BIN [WHY]: BIN must be on PATH. Without WHY it is a golden binary (the setup
# action puts it there); with WHY a tool of the runner (jq), named with what it is needed for.
golden_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ -z "${2:-}" ] || golden_die "$1 not found on PATH (needed $2)"
  golden_die "$1 not found on PATH: run the setup action first (uses: <owner>/<repo>/actions/setup@<ref>)"
}

# golden_fetch URL FILE: download over HTTPS (or file:// for mirrors and tests) with retries,
# TLS 1.2 or newer and no redirect away from HTTPS; any failure stops the step.
golden_fetch() {
  local url="$1" out="$2" retry=(--retry 5 --retry-delay 2 --retry-all-errors)
  case "$url" in
    https://*) ;;
    file://*) retry=() ;;
    *) golden_die "refusing to download over a non-HTTPS URL: $url" ;;
  esac
  curl --fail --silent --show-error --location --proto '=https,file' --proto-redir '=https' --tlsv1.2 \
    "${retry[@]}" --connect-timeout 20 --max-time 600 \
    --output "$out" "$url" || golden_die "download failed: $url"
}

# golden_sha256 FILE: the file's sha256 (64 lowercase hex digits).
golden_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# golden_is_sha256 VALUE: true when VALUE is 64 lowercase hex digits.
golden_is_sha256() { [[ "$1" =~ ^[0-9a-f]{64}$ ]]; }

# The per-job scratch directory of the golden actions.
golden_tmp() {
  local d="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/golden"
  mkdir -p "$d"
  printf '%s' "$d"
}

# golden_single_line NAME VALUE...: refuse a line break in an input that is one value. The
# binaries quote bad values in their error messages; a line break there would let the value
# start a line of its own on the log, where the runner reads workflow commands (`::set-output`).
golden_single_line() {
  local name="$1"
  shift
  local v
  for v in "$@"; do
    case "$v" in
      *$'\n'* | *$'\r'*) golden_die "input \`$name\` must be a single line (it holds a line break)" ;;
    esac
  done
}

# golden_check_entry VALUE: a plan entry must be a JSON object whose strings hold no line break
# or other control character (the binaries quote its values in messages, see above).
golden_check_entry() {
  [ -n "$1" ] || return 0
  golden_need jq "to check the plan entry"
  jq -e 'type == "object"' >/dev/null 2>&1 <<<"$1" || golden_die "input \`entry\` is not a JSON object (pass toJSON(matrix.entry))"
  jq -e '[.. | strings | test("[[:cntrl:]]")] | any | not' >/dev/null <<<"$1" \
    || golden_die "input \`entry\` has a string with a line break or control character"
}

# golden_check_items NAME VALUE: every item of a list input must be free of carriage returns
# (line feeds separate the items).
golden_check_items() {
  case "$2" in
    *$'\r'*) golden_die "input \`$1\` holds a carriage return" ;;
  esac
}

# golden_env VAR: the value of the environment variable named VAR (empty when unset).
golden_env() { printf '%s' "${!1:-}"; }
