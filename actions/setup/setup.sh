#!/usr/bin/env bash
# Step scripts of actions/setup (one subcommand per step). Inputs arrive as environment variables.
#
#   resolve  decide source, version (tag), repository, target triple, paths and cache keys
#   release  download golden-<tag>-<target>.tar.gz + SHA256SUMS and verify them (see below)
#   build    cargo build --locked of the action's own checkout, copy the binaries
#   install  check every binary runs, add the directory to PATH
#
# Trust scheme for `release` (nothing downloaded is trusted before it is verified):
#   1. SHA256SUMS must hash to a value we already trust: the `sha256sums-sha256` input (pinned by
#      the caller, like an action SHA), else the line for the tag in release-checksums.txt
#      committed next to this script (at the ref the action was loaded from); then the archive
#      must match its line in that SHA256SUMS.
#   2. When neither knows the tag (for example the action is pinned to the very tag being
#      released), the archive's build-provenance attestation (written by release.yml with
#      actions/attest-build-provenance) is verified with `gh attestation verify`, bound to this
#      repository's release workflow; SHA256SUMS is then only a consistency check.
#   Otherwise the step fails: an unverified archive is never installed.
set -Eeuo pipefail
GOLDEN_ACTION_NAME="golden setup"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=actions/lib/common.sh
. "$here/../lib/common.sh"

golden_single_line version "${IN_VERSION:-}"
golden_single_line repository "${IN_REPOSITORY:-}"
golden_single_line artifact-name "${IN_ARTIFACT_NAME:-}"
golden_single_line install-dir "${IN_INSTALL_DIR:-}"
golden_single_line cargo-profile "${IN_CARGO_PROFILE:-}"
golden_single_line cache "${IN_CACHE:-}"
golden_single_line sha256sums-sha256 "${IN_SUMS_SHA256:-}"
golden_single_line release-url "${IN_RELEASE_URL:-}"
golden_single_line tools "${IN_TOOLS:-}"

BINARIES=(golden-plan golden-build golden-scan golden-push golden-report)

target_triple() {
  local m
  m="$(uname -m)"
  case "$m" in
    x86_64 | amd64) printf 'x86_64-unknown-linux-musl' ;;
    aarch64 | arm64) printf 'aarch64-unknown-linux-musl' ;;
    *) golden_die "no golden release is built for this machine ($m); use source: build" ;;
  esac
}

# The workspace version from the Cargo.toml of the checkout the action came from.
workspace_version() {
  local toml="$1/Cargo.toml"
  [ -f "$toml" ] || return 0
  awk '
    /^\[/ { in_pkg = ($0 == "[workspace.package]") }
    in_pkg && /^version[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; exit }
  ' "$toml"
}

# owner/repo and ref from an action path like .../_actions/<owner>/<repo>/<ref>/actions/setup.
from_action_path() {
  local p="$1" rest
  case "$p" in
    */_actions/*/*/*/actions/setup) ;;
    *) return 0 ;;
  esac
  rest="${p##*/_actions/}"
  rest="${rest%/actions/setup}"
  printf '%s\n' "${rest%/*}" "${rest##*/}"
}

# compiled_in_files SRC: the files (relative to SRC) that the non-test sources of SRC/crates
# name in include_str!/include_bytes!, one per line. Only string literals are understood: an
# include of anything else (concat!, env!) fails, so no compiled-in file escapes the cache key.
compiled_in_files() {
  local src="$1" f inc rel
  while IFS= read -r -d '' f; do
    while IFS= read -r inc; do
      case "$inc" in
        include_str!\(\"*\"\) | include_bytes!\(\"*\"\) ) ;;
        *) golden_die "$f: \`$inc\`: include_str!/include_bytes! of something other than a string literal; the binary cache key of actions/setup cannot follow it" ;;
      esac
      rel="${inc#*\(\"}"
      rel="${rel%\"\)}"
      case "$rel" in *\"*) golden_die "$f: \`$inc\`: include_str!/include_bytes! of something other than a string literal; the binary cache key of actions/setup cannot follow it" ;; esac
      rel="$(realpath -m --relative-to="$src" "$(dirname "$src/$f")/$rel")"
      case "$rel" in ../* | /*) golden_die "$f: include of \`$rel\` outside the checkout" ;; esac
      [ -f "$src/$rel" ] || golden_die "$f: includes \`$rel\`, which does not exist"
      printf '%s\n' "$rel"
    done < <(grep -oE 'include_(str|bytes)!\([^)]*\)' "$src/$f" || true)
  done < <(cd "$src" && find crates -type f -name '*.rs' -not -path '*/tests/*' -print0)
}

# The commands every golden job runs (the actions' scripts, the checkouts, change detection)
# and the ones this job asked for (input `tools`, e.g. docker): a self-hosted runner may lack
# any of them; name them all at once instead of failing on the first, deep in a later step.
check_tools() {
  local t missing=() extra=() tools="${IN_TOOLS:-}"
  read -r -a extra <<<"${tools//,/ }"
  for t in git jq curl tar gzip sha256sum awk "${extra[@]}"; do
    case "$t" in *[!A-Za-z0-9._+-]*) golden_die "input \`tools\`: \`$t\` is not a command name" ;; esac
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  golden_die "this runner lacks ${missing[*]}: install them on it (a self-hosted runner of the \`runners\` mapping needs git, jq, curl, tar, gzip, sha256sum, awk, and docker for the image jobs; see docs/workflows.md, Runners)"
}

cmd_resolve() {
  local source="${IN_SOURCE:-release}" src version repo target arch name bin_dir profile
  check_tools
  case "$source" in
    release | build | artifact) ;;
    *) golden_die "input \`source\` must be release, build or artifact, got \`$source\`" ;;
  esac
  src="$(cd "$here/../.." && pwd)"
  target="$(target_triple)"
  arch="$(uname -m)"

  version="${IN_VERSION:-}"
  repo="${IN_REPOSITORY:-}"
  if [ -z "$repo" ]; then repo="${ACTION_REPOSITORY:-}"; fi
  if [ -z "$repo" ]; then
    mapfile -t parsed < <(from_action_path "$here")
    if [ "${#parsed[@]}" -eq 2 ]; then repo="${parsed[0]}"; fi
  fi
  # A local `uses: ./actions/setup` runs from the workflow's own repository.
  if [ -z "$repo" ] && [ "$src" = "${GITHUB_WORKSPACE:-}" ]; then repo="${GITHUB_REPOSITORY:-}"; fi
  if [ -z "$version" ]; then
    version="$(workspace_version "$src")"
    if [ -n "$version" ]; then version="v$version"; fi
  fi
  if [ "$source" = release ]; then
    [ -n "$version" ] || golden_die "cannot tell which release to download: set input \`version\` (for example v1.2.3)"
    [ -n "$repo" ] || golden_die "cannot tell which repository's release to download: set input \`repository\` (owner/repo)"
    case "$version" in
      *[!A-Za-z0-9._+-]*) golden_die "input \`version\` has characters a tag cannot have: \`$version\`" ;;
    esac
    case "$repo" in
      */*/* | /* | */ | *[!A-Za-z0-9._/-]*) golden_die "input \`repository\` must be owner/repo, got \`$repo\`" ;;
      */*) ;;
      *) golden_die "input \`repository\` must be owner/repo, got \`$repo\`" ;;
    esac
  fi

  name="${IN_ARTIFACT_NAME:-}"
  if [ -z "$name" ]; then name="golden-binaries-${RUNNER_ARCH:-$arch}"; name="${name,,}"; fi
  bin_dir="${IN_INSTALL_DIR:-${RUNNER_TEMP:-/tmp}/golden-bin}"
  mkdir -p "$bin_dir"
  bin_dir="$(cd "$bin_dir" && pwd)"
  profile="${IN_CARGO_PROFILE:-release}"
  case "$profile" in
    *[!A-Za-z0-9_-]* | '') golden_die "input \`cargo-profile\` is not a profile name: \`$profile\`" ;;
  esac
  case "${IN_CACHE:-read-write}" in
    read-write | restore-only) ;;
    *) golden_die "input \`cache\` must be \`read-write\` or \`restore-only\`, got \`${IN_CACHE}\`" ;;
  esac

  golden_output source "$source"
  golden_output version "$version"
  golden_output repository "$repo"
  golden_output target "$target"
  golden_output asset "golden-$version-$target.tar.gz"
  golden_output bin-dir "$bin_dir"
  golden_output artifact-name "$name"
  golden_output src-dir "$src"
  golden_output cargo-profile "$profile"

  if [ "$source" = build ]; then
    local rustc_v lock_hash src_hash os
    command -v cargo >/dev/null 2>&1 || golden_die "cargo not found: install a Rust toolchain first, or use source: release"
    rustc_v="$(rustc -V | sha256sum | cut -c1-12)"
    lock_hash="$(sha256sum "$src/Cargo.lock" | cut -c1-16)"
    # Every file that goes into the binaries: the workspace manifest, the lock file, the crates,
    # and the files the sources compile in with include_str!/include_bytes! (found in the
    # sources, e.g. configs/policy.yaml: a change there changes the binaries too).
    src_hash="$( (cd "$src" && find Cargo.toml Cargo.lock crates -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name 'build.rs' \) -not -path '*/tests/*' -print0 \
      && compiled_in_files "$src" | tr '\n' '\0') | sort -zu | (cd "$src" && xargs -0 sha256sum) | sha256sum | cut -c1-16)"
    os="${RUNNER_OS:-linux}"
    golden_output cache-key "golden-bin-${os,,}-$arch-$profile-rustc$rustc_v-$lock_hash-$src_hash"
    golden_output cargo-cache-prefix "golden-cargo-${os,,}-$arch-$profile-rustc$rustc_v-"
    golden_output cargo-cache-key "golden-cargo-${os,,}-$arch-$profile-rustc$rustc_v-$lock_hash"
    golden_output target-dir "${CARGO_TARGET_DIR:-$src/target}"
  fi
  golden_log "source=$source version=${version:-?} repository=${repo:-?} target=$target bin-dir=$bin_dir"
}

# Reject archive members that would land outside the install dir.
check_members() {
  local m
  while IFS= read -r m; do
    case "$m" in
      /* | ../* | */../* | .. | */..) golden_die "archive member \`$m\` escapes the install directory" ;;
    esac
  done < <(tar -tzf "$1")
}

cmd_release() {
  local tag="$GOLDEN_TAG" repo="$GOLDEN_REPOSITORY" asset="$GOLDEN_ASSET" bin="$GOLDEN_BIN_DIR"
  local base dl expected="" verified_by="" line want got
  base="${IN_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}"
  base="${base%/}"
  dl="$(golden_tmp)/setup-download"
  rm -rf "$dl"
  mkdir -p "$dl"
  golden_fetch "$base/$tag/SHA256SUMS" "$dl/SHA256SUMS"
  golden_fetch "$base/$tag/$asset" "$dl/$asset"

  if [ -n "${IN_SUMS_SHA256:-}" ]; then
    expected="${IN_SUMS_SHA256,,}"
    golden_is_sha256 "$expected" || golden_die "input \`sha256sums-sha256\` must be 64 hex digits"
    verified_by=pinned-sha256sums
  elif [ -f "$here/release-checksums.txt" ]; then
    expected="$(awk -v t="$tag" '$1 == t { print $2; exit }' "$here/release-checksums.txt")"
    if [ -n "$expected" ]; then
      golden_is_sha256 "$expected" || golden_die "release-checksums.txt: the entry for $tag is not a sha256"
      verified_by=committed-checksums
    fi
  fi

  if [ -n "$expected" ]; then
    got="$(golden_sha256 "$dl/SHA256SUMS")"
    [ "$got" = "$expected" ] \
      || golden_die "SHA256SUMS of $repo $tag has sha256 $got, expected $expected ($verified_by): refusing to install"
  else
    golden_bool verify-attestation "${IN_VERIFY_ATTESTATION:-true}"
    [ "$REPLY" = true ] || golden_die "no trusted checksum for $repo $tag: pin input sha256sums-sha256, use a ref whose actions/setup/release-checksums.txt lists $tag, or enable verify-attestation"
    golden_need gh "to verify the build provenance of $asset, or pin sha256sums-sha256"
    # Bound to the tag: signed by release.yml of this repository, run for refs/tags/<tag> (a
    # branch of the same name, or any other ref, does not count), on a GitHub-hosted runner.
    gh attestation verify "$dl/$asset" --repo "$repo" \
      --signer-workflow "$repo/.github/workflows/release.yml" \
      --source-ref "refs/tags/$tag" \
      --deny-self-hosted-runners >&2 \
      || golden_die "the build provenance of $asset could not be verified for $repo at refs/tags/$tag: refusing to install"
    verified_by=attestation
  fi

  line="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$dl/SHA256SUMS")"
  [ -n "$line" ] || golden_die "SHA256SUMS of $tag has no line for $asset"
  want="${line,,}"
  got="$(golden_sha256 "$dl/$asset")"
  [ "$got" = "$want" ] || golden_die "$asset has sha256 $got but SHA256SUMS says $want: refusing to install"

  check_members "$dl/$asset"
  mkdir -p "$bin"
  tar -xzf "$dl/$asset" -C "$bin" --strip-components=1 --no-same-owner
  rm -rf "$dl"
  golden_output verified-by "$verified_by"
  golden_log "verified $asset ($verified_by) and unpacked it into $bin"
}

cmd_build() {
  local src="$GOLDEN_SRC_DIR" bin="$GOLDEN_BIN_DIR" profile="$GOLDEN_PROFILE" out b args=()
  # Local runs of the workflows (scripts/act.sh) reuse the binaries the checkout already built
  # instead of a second cold cargo build; GitHub runners never set this.
  if [ -n "${GOLDEN_SETUP_BINARIES:-}" ]; then
    golden_single_line GOLDEN_SETUP_BINARIES "$GOLDEN_SETUP_BINARIES"
    [ -d "$GOLDEN_SETUP_BINARIES" ] || golden_die "GOLDEN_SETUP_BINARIES=$GOLDEN_SETUP_BINARIES is not a directory"
    mkdir -p "$bin"
    for b in "${BINARIES[@]}"; do
      [ -x "$GOLDEN_SETUP_BINARIES/$b" ] || golden_die "GOLDEN_SETUP_BINARIES: $b is missing from $GOLDEN_SETUP_BINARIES"
      install -m 0755 "$GOLDEN_SETUP_BINARIES/$b" "$bin/$b"
    done
    golden_log "installed the prebuilt binaries from GOLDEN_SETUP_BINARIES=$GOLDEN_SETUP_BINARIES (no cargo build)"
    return 0
  fi
  for b in "${BINARIES[@]}"; do args+=(--bin "$b"); done
  golden_log "cargo build --locked --profile $profile in $src"
  (cd "$src" && cargo build --locked --profile "$profile" "${args[@]}")
  out="${CARGO_TARGET_DIR:-$src/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")"
  mkdir -p "$bin"
  for b in "${BINARIES[@]}"; do
    install -m 0755 "$out/$b" "$bin/$b"
  done
}

cmd_install() {
  local bin="$GOLDEN_BIN_DIR" b version=""
  [ -d "$bin" ] || golden_die "no binaries in $bin"
  for b in "${BINARIES[@]}"; do
    [ -f "$bin/$b" ] || golden_die "$b is missing from $bin"
    # Artifacts lose the executable bit; restore it.
    chmod 0755 "$bin/$b"
    "$bin/$b" --version >/dev/null 2>&1 || golden_die "$bin/$b does not run on this machine ($(uname -m))"
  done
  version="$("$bin/golden-plan" --version)"
  [ -n "${GITHUB_PATH:-}" ] && printf '%s\n' "$bin" >>"$GITHUB_PATH"
  golden_output bin-dir "$bin"
  golden_output version "$version"
  golden_log "$version in $bin"
}

case "${1:-}" in
  resolve) cmd_resolve ;;
  release) cmd_release ;;
  build) cmd_build ;;
  install) cmd_install ;;
  *) golden_die "unknown subcommand \`${1:-}\` (resolve, release, build, install)" ;;
esac
