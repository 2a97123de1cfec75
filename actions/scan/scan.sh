#!/usr/bin/env bash
# Step scripts of actions/scan. Inputs arrive as environment variables.
#   resolve      Trivy mode and pinned asset (version + sha256), cache dir, DB cache key
#   install      download the Trivy archive over HTTPS, check its sha256, unpack the binary
#   download-db  trivy --download-db-only / --download-java-db-only into the cache dir
#   scan         golden-scan; exit 0/1 become the `passed` output, 2 fails the step
#   enforce      fail when the policy verdict is a failure (after the SARIF upload)
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden scan"
# shellcheck source=actions/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

golden_single_line image "${GOLDEN_IMAGE:-}"
golden_single_line plan "${GOLDEN_PLAN:-}"
golden_single_line output "${GOLDEN_OUTPUT:-}"
golden_single_line policy "${GOLDEN_POLICY:-}"
golden_single_line dockerfile "${GOLDEN_DOCKERFILE:-}"
golden_single_line trivy "${IN_TRIVY:-}"
golden_single_line trivy-version "${IN_TRIVY_VERSION:-}"
golden_single_line trivy-sha256 "${IN_TRIVY_SHA256:-}"
golden_single_line trivy-download-url "${IN_TRIVY_URL:-}"
golden_single_line trivy-cache-dir "${IN_CACHE_DIR:-}"
golden_single_line trivy-db-key "${IN_DB_KEY:-}"
golden_single_line sarif-category "${IN_SARIF_CATEGORY:-}"
golden_check_items trivy-db-repository "${IN_DB_REPOSITORY:-}"
golden_check_items trivy-java-db-repository "${IN_JAVA_DB_REPOSITORY:-}"
golden_check_items vex "${IN_VEX:-}"
# VEX paths are quoted in golden-scan's messages: no control character, no `::` (a workflow
# command), one path per line.
check_vex_paths() {
  local line
  while IFS= read -r line; do
    case "$line" in
      *::*) golden_die "input \`vex\`: \`$line\` holds \`::\` (one file path per line)" ;;
    esac
    if [[ "$line" =~ [[:cntrl:]] ]]; then
      golden_die "input \`vex\`: a path holds a control character (one file path per line)"
    fi
  done <<<"${IN_VEX:-}"
}
check_vex_paths
# GOLDEN_ENTRY is a plan entry (JSON) or an entry id.
case "${GOLDEN_ENTRY:-}" in
  '{'*) golden_check_entry "$GOLDEN_ENTRY" ;;
  *) golden_single_line entry "${GOLDEN_ENTRY:-}" ;;
esac

# Release archives whose sha256 the action knows (version, asset, sha256). A version not listed
# needs the `trivy-sha256` input: Trivy is never installed unchecked or from a floating tag.
KNOWN_TRIVY=(
  "0.69.3 trivy_0.69.3_Linux-64bit.tar.gz 1816b632dfe529869c740c0913e36bd1629cb7688bd5634f4a858c1d57c88b75"
  "0.69.3 trivy_0.69.3_Linux-ARM64.tar.gz 7e3924a974e912e57b4a99f65ece7931f8079584dae12eb7845024f97087bdfd"
)

trivy_asset() {
  local version="$1" m
  m="$(uname -m)"
  case "$m" in
    x86_64 | amd64) printf 'trivy_%s_Linux-64bit.tar.gz' "$version" ;;
    aarch64 | arm64) printf 'trivy_%s_Linux-ARM64.tar.gz' "$version" ;;
    *) golden_die "no Trivy release asset known for $m; pass trivy: <path> or trivy: off" ;;
  esac
}

cmd_resolve() {
  local mode="${IN_TRIVY:-install}" version="${IN_TRIVY_VERSION:-}" asset sha="" entry url path="" install=false
  local cache_dir db_key
  golden_bool download-db-only "${IN_DOWNLOAD_DB_ONLY:-false}"
  local db_only="$REPLY"
  case "$mode" in
    install)
      [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
        || golden_die "input \`trivy-version\` must be a release version like 0.69.3 (no tags like latest), got \`$version\`"
      asset="$(trivy_asset "$version")"
      for entry in "${KNOWN_TRIVY[@]}"; do
        read -r v a s <<<"$entry"
        if [ "$v" = "$version" ] && [ "$a" = "$asset" ]; then sha="$s"; fi
      done
      if [ -n "${IN_TRIVY_SHA256:-}" ]; then sha="${IN_TRIVY_SHA256,,}"; fi
      golden_is_sha256 "$sha" \
        || golden_die "no sha256 known for $asset: pass input \`trivy-sha256\` (64 hex digits) from the release's checksums file"
      url="${IN_TRIVY_URL%/}/v$version/$asset"
      case "$url" in
        https://* | file://*) ;;
        *) golden_die "input \`trivy-download-url\` must be an https:// URL, got \`${IN_TRIVY_URL:-}\`" ;;
      esac
      path="${RUNNER_TEMP:-/tmp}/golden-trivy-$version/trivy"
      install=true
      if [ -x "$path" ] && [ -f "$path.sha256" ] && [ "$(cat "$path.sha256")" = "$sha" ]; then install=false; fi
      golden_output trivy-url "$url"
      golden_output trivy-sha256 "$sha"
      golden_output trivy-mode "$path"
      ;;
    off | false | none)
      [ "$db_only" = false ] || golden_die "download-db-only needs Trivy (trivy: install, auto or a path), not \`$mode\`"
      golden_output trivy-mode off
      ;;
    auto)
      path="$(command -v trivy || true)"
      if [ -z "$path" ] && [ "$db_only" = true ]; then
        golden_warn "trivy: auto, but no trivy on PATH: no vulnerability DB downloaded"
      elif [ -z "$path" ]; then
        golden_warn "trivy: auto, but no trivy on PATH: vulnerabilities will not be scanned"
      fi
      golden_output trivy-mode "${path:-auto}"
      ;;
    *)
      [ -x "$mode" ] || golden_die "input \`trivy\`: \`$mode\` is not install, off, auto or an executable file"
      path="$mode"
      golden_output trivy-mode "$path"
      ;;
  esac
  cache_dir="${IN_CACHE_DIR:-${RUNNER_TEMP:-/tmp}/golden-trivy-cache}"
  db_key="${IN_DB_KEY:-golden-trivy-db-$(date -u +%Y-%m-%d)}"
  golden_output install "$install"
  golden_output trivy-path "$path"
  golden_output cache-dir "$cache_dir"
  golden_output db-key "$db_key"
}

cmd_install() {
  local url="$GOLDEN_TRIVY_URL" sha="$GOLDEN_TRIVY_SHA256" path="$GOLDEN_TRIVY_PATH" dir tmp got
  dir="$(dirname "$path")"
  tmp="$(golden_tmp)/trivy-download"
  rm -rf "$tmp"
  mkdir -p "$tmp" "$dir"
  golden_log "downloading $url"
  golden_fetch "$url" "$tmp/trivy.tar.gz"
  got="$(golden_sha256 "$tmp/trivy.tar.gz")"
  [ "$got" = "$sha" ] || golden_die "Trivy archive $url has sha256 $got, expected $sha: refusing to install"
  tar -xzf "$tmp/trivy.tar.gz" -C "$tmp" --no-same-owner trivy || golden_die "the Trivy archive has no \`trivy\` binary"
  install -m 0755 "$tmp/trivy" "$path"
  printf '%s' "$sha" >"$path.sha256"
  rm -rf "$tmp"
  "$path" --version >&2 || golden_die "the installed Trivy does not run"
}

trivy_repository_env() {
  local db java
  db="$(golden_csv "${IN_DB_REPOSITORY:-}")"
  java="$(golden_csv "${IN_JAVA_DB_REPOSITORY:-}")"
  if [ -n "$db" ]; then export TRIVY_DB_REPOSITORY="$db"; fi
  if [ -n "$java" ]; then export TRIVY_JAVA_DB_REPOSITORY="$java"; fi
}

cmd_download_db() {
  local trivy="$GOLDEN_TRIVY_PATH" dir="$GOLDEN_TRIVY_CACHE_DIR"
  [ -x "$trivy" ] || golden_die "no Trivy binary at $trivy"
  trivy_repository_env
  mkdir -p "$dir"
  golden_log "downloading the vulnerability DB into $dir"
  "$trivy" image --download-db-only --no-progress --cache-dir "$dir"
  golden_log "downloading the Java DB into $dir"
  "$trivy" image --download-java-db-only --no-progress --cache-dir "$dir"
}

cmd_scan() {
  local code=0 out category id
  golden_need golden-scan
  trivy_repository_env
  case "${IN_SKIP_DB_UPDATE:-}" in
    '') if [ "${IN_DB_RESTORED:-}" = true ]; then skip=true; else skip=false; fi ;;
    *) golden_bool skip-db-update "$IN_SKIP_DB_UPDATE"; skip="$REPLY" ;;
  esac
  if [ "$skip" = true ]; then
    export GOLDEN_TRIVY_SKIP_DB_UPDATE=true TRIVY_SKIP_JAVA_DB_UPDATE=true
  else
    unset GOLDEN_TRIVY_SKIP_DB_UPDATE
  fi
  if [ "${GOLDEN_TRIVY:-}" = off ]; then unset GOLDEN_TRIVY_CACHE_DIR GOLDEN_TRIVY_SKIP_DB_UPDATE; fi
  export GOLDEN_OUTPUT="${GOLDEN_OUTPUT:-$(golden_tmp)/scan}"
  export GOLDEN_VEX
  GOLDEN_VEX="$(golden_nl_lines "${IN_VEX:-}")"
  export GOLDEN_FORMAT=text
  golden_unset_empty
  golden-scan || code=$?
  case "$code" in
    0 | 1) ;;
    *) exit "$code" ;;
  esac
  out="$(cd "$GOLDEN_OUTPUT" && pwd)"
  golden_output exit-code "$code"
  golden_output output-dir "$out"
  golden_output sarif "$out/report.sarif"
  golden_output markdown "$out/report.md"
  golden_output sbom "$out/sbom.cdx.json"
  golden_output sbom-spdx "$out/sbom.spdx.json"
  category="${IN_SARIF_CATEGORY:-}"
  if [ -z "$category" ]; then
    id="$(jq -r '.entry_id // empty' "$out/report.json" 2>/dev/null || true)"
    category="golden-${id:-scan}"
  fi
  golden_output sarif-category "$category"
  if [ -f "$out/report.md" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$out/report.md" >>"$GITHUB_STEP_SUMMARY"
  fi
}

cmd_enforce() {
  printf '::error title=golden scan::%s\n' \
    "$(golden_escape "the image failed policy (see ${IN_REPORT:-report.json}); set fail-on-policy: false to continue")"
  exit 1
}

case "${1:-}" in
  resolve) cmd_resolve ;;
  install) cmd_install ;;
  download-db) cmd_download_db ;;
  scan) cmd_scan ;;
  enforce) cmd_enforce ;;
  *) golden_die "unknown subcommand \`${1:-}\` (resolve, install, download-db, scan, enforce)" ;;
esac
