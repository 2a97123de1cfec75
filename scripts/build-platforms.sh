#!/usr/bin/env bash
# build-platforms.sh: build every platform image buildable here (on the hardened Debian base,
# no vendor repository) into the local Docker engine, in plan order, through golden-build.
# What `make platforms` runs.
#
# Usage: scripts/build-platforms.sh [--only ID|PLATFORM]... [--list]
#   --only X   build only the plan entry with id X (e.g. nginx-1.22-debian) or every entry of
#              platform X (e.g. tomcat); repeatable
#   --list     print the entries that would be built (id and primary tag) and exit
#
# The plan comes from golden-plan (`--event local --offline --os debian`): the Debian variants
# whose packages come from the Debian archive. aspnet/dotnet (Microsoft's repository) and every
# Alpine/UBI variant are built by the GitHub workflow (docs/platform-images.md).
# The hardened base (`make base-debian`) must be in the engine.
#
# Environment:
#   GOLDEN_CONFIG        catalog (default configs/build-config.yaml)
#   GOLDEN_PLAN_BIN      golden-plan binary (default target/debug/golden-plan; built when missing)
#   GOLDEN_BUILD_BIN     golden-build binary (default target/debug/golden-build; built when missing)
#   GOLDEN_PLAN_FILE     use this plan JSON instead of running golden-plan
#   GOLDEN_RECORDS_DIR   where golden-build writes one build record per image
#                        (default out/build-records)
#   GOLDEN_VERBOSE=1     stream the build output (default: shown only when a build fails)
#   GOLDEN_ARCH          architecture to build (amd64, arm64; default this machine's): a
#                        foreign one is built by golden-build under emulation on that
#                        architecture's base (`<base tag>-<arch>`, make base-debian ARCHS=...)
#                        and tagged `<tag>-<arch>`
#   GOLDEN_PLATFORM_BUILDER=docker
#                        debugging aid: build with `docker build` (same Dockerfile, build
#                        args, labels and tags; context = the files git knows) instead of
#                        golden-build
# Prints the primary tag of every image built on stdout.
# Exit codes: 0 all built, 2 usage or runtime error (including a failed build).
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=build-platforms.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
# shellcheck source=scripts/lib/arch.sh
. scripts/lib/arch.sh
usage() { sed -n '2,33s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

only=()
list=0
while [ "$#" -gt 0 ]; do
  case $1 in
    --only)
      [ "$#" -ge 2 ] || die "--only needs an entry id or a platform name"
      only+=("$2")
      shift 2
      ;;
    --only=*) only+=("${1#*=}"); shift ;;
    --list) list=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument \`$1\`" ;;
  esac
done

command -v jq >/dev/null || die "jq not found: run scripts/setup.sh"
command -v docker >/dev/null || die "docker CLI not found: run scripts/ensure-docker.sh"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "no Docker engine answers: run scripts/ensure-docker.sh"

config=${GOLDEN_CONFIG:-configs/build-config.yaml}
builder=${GOLDEN_PLATFORM_BUILDER:-golden-build}
case $builder in golden-build | docker) ;; *) die "GOLDEN_PLATFORM_BUILDER must be golden-build or docker (got \`$builder\`)" ;; esac
records=${GOLDEN_RECORDS_DIR:-out/build-records}
host_arch=$(golden_host_arch)
arch=$(golden_arch "${GOLDEN_ARCH:-$host_arch}" GOLDEN_ARCH) || exit 2
# A foreign architecture's images (and its base) carry -<arch> in the engine (golden-build --arch).
sfx=
here() { if [ -n "$sfx" ]; then golden_arch_tag "$1" "$arch"; else echo "$1"; fi; } # REF as built here
if [ "$arch" != "$host_arch" ]; then
  sfx=-$arch
  [ "$builder" = golden-build ] || die "GOLDEN_PLATFORM_BUILDER=docker builds this machine's architecture only ($host_arch, not $arch)"
  export GOLDEN_ARCH=$arch
fi

# A workspace binary: the given path, else build it with cargo.
ensure_bin() { # ensure_bin VAR_VALUE CRATE
  local bin=$1 crate=$2
  if [ ! -x "$bin" ]; then
    log "building $crate"
    cargo build -q -p "$crate" >&2 || die "cargo build -p $crate failed"
  fi
  [ -x "$bin" ] || die "$crate not found at $bin"
  printf '%s' "$bin"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plan_file=$work/plan.json

# ---- the plan -----------------------------------------------------------------------------
if [ -n "${GOLDEN_PLAN_FILE:-}" ]; then
  [ -f "$GOLDEN_PLAN_FILE" ] || die "GOLDEN_PLAN_FILE \`$GOLDEN_PLAN_FILE\` does not exist"
  cp "$GOLDEN_PLAN_FILE" "$plan_file"
else
  plan_bin=$(ensure_bin "${GOLDEN_PLAN_BIN:-${CARGO_TARGET_DIR:-target}/debug/golden-plan}" golden-plan)
  "$plan_bin" --config "$config" --event local --rebuild all --offline --os debian \
    --format json >"$plan_file" || die "golden-plan failed for $config (see its message above)"
fi
jq -e '.platforms.include | type == "array"' "$plan_file" >/dev/null 2>&1 ||
  die "the plan has no platforms stage (.platforms.include)"

# Entries to build, in plan order: Debian, buildable offline, filtered by --only.
only_json=$(printf '%s\n' "${only[@]+"${only[@]}"}" | jq -R . | jq -sc 'map(select(. != ""))')
mapfile -t ids < <(jq -r --argjson only "$only_json" '
  .platforms.include[]
  | select(.os == "debian" and .offline != false and .vendor_repo == null)
  | select(($only | length) == 0 or (.id as $i | .platform as $p | $only | any(.[]; . == $i or . == $p)))
  | .id' "$plan_file")
for o in "${only[@]+"${only[@]}"}"; do
  jq -e --arg o "$o" '.platforms.include[] | select(.id == $o or .platform == $o)' "$plan_file" >/dev/null ||
    die "--only \`$o\`: no such entry or platform in the plan (see --list)"
done
[ "${#ids[@]}" -gt 0 ] || die "nothing to build: the plan has no offline Debian platform entry${only[*]:+ matching ${only[*]}}"

entry() { jq -c --arg id "$1" '.platforms.include[] | select(.id == $id)' "$plan_file"; }

if [ "$list" = 1 ]; then
  for id in "${ids[@]}"; do printf '%s\t%s\n' "$id" "$(entry "$id" | jq -r '.tags[0]')"; done
  exit 0
fi

# ---- the base -----------------------------------------------------------------------------
mapfile -t bases < <(for id in "${ids[@]}"; do entry "$id" | jq -r '.base_image // empty'; done | sort -u)
for b in "${bases[@]}"; do
  docker image inspect "$(here "$b")" >/dev/null 2>&1 ||
    die "base image $(here "$b") is not in the engine: build it first with \`make base-debian${sfx:+ ARCHS=$arch}\`"
done

# ---- build --------------------------------------------------------------------------------
docker_build() { # docker_build ENTRY_JSON LOGFILE
  local e=$1 logf=$2 args=()
  while IFS= read -r kv; do args+=(--build-arg "$kv"); done < <(jq -r '.build_args // {} | to_entries[] | "\(.key)=\(.value)"' <<<"$e")
  args+=(--build-arg "BASE_IMAGE=$(jq -r '.base_image' <<<"$e")")
  while IFS= read -r kv; do args+=(--label "$kv"); done < <(jq -r '.labels // {} | to_entries[] | "\(.key)=\(.value)"' <<<"$e")
  while IFS= read -r t; do args+=(--tag "$t"); done < <(jq -r '.tags[]' <<<"$e")
  [ "$(jq -r '.context' <<<"$e")" = . ] || die "docker builder: only the repository root context is supported"
  git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -cf - -T - 2>/dev/null |
    docker build --force-rm -f "$(jq -r '.dockerfile' <<<"$e")" "${args[@]}" - >"$logf" 2>&1
}

mkdir -p "$records"
records=$(cd "$records" && pwd)
gb_extra=()
if [ "$builder" = golden-build ]; then
  build_bin=$(ensure_bin "${GOLDEN_BUILD_BIN:-${CARGO_TARGET_DIR:-target}/debug/golden-build}" golden-build)
  if [ ! -f .dockerignore ]; then
    # Without a .dockerignore the context (the repository root) would carry target/ and .venv/
    # (gigabytes). Build from a copy of the files git knows instead, and keep the labels the
    # checkout would have given.
    log "no .dockerignore at the repository root: building from a copy of the files git tracks"
    stage=$work/context
    mkdir -p "$stage"
    git ls-files -z --cached --others --exclude-standard |
      tar --null --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C "$stage"
    gb_extra+=(--repo-root "$stage")
    rev=$(git rev-parse HEAD 2>/dev/null || true)
    [ -z "$rev" ] || gb_extra+=(--label "org.opencontainers.image.revision=$rev")
  fi
fi
summary=()
for id in "${ids[@]}"; do
  e=$(entry "$id")
  tag=$(here "$(jq -r '.tags[0]' <<<"$e")")
  log "building $id ($arch) -> $tag ($builder)"
  logf=$work/$id.log
  start=$(date +%s)
  if [ "$builder" = golden-build ]; then
    gb=("$build_bin" --plan "$plan_file" --id "$id" --record "$records/$id.json" "${gb_extra[@]+"${gb_extra[@]}"}")
    # golden-build prints the build output on stdout (with -q only the image id; on a failure
    # its error carries the output's last lines). This script's stdout is for the tags.
    if [ "${GOLDEN_VERBOSE:-0}" = 1 ]; then "${gb[@]}" >&2; else "${gb[@]}" -q >"$logf"; fi ||
      die "golden-build failed for $id (build record: $records/$id.json)"
  else
    if ! docker_build "$e" "$logf"; then
      tail -n 40 "$logf" >&2
      die "docker build failed for $id"
    fi
    [ "${GOLDEN_VERBOSE:-0}" = 1 ] && cat "$logf" >&2
  fi
  docker image inspect "$tag" >/dev/null 2>&1 || die "$id built, but $tag is not in the engine"
  size=$(docker image inspect -f '{{.Size}}' "$tag")
  secs=$(($(date +%s) - start))
  summary+=("$(printf '%-24s %8.1f MB %5ss  %s' "$id" "$(awk -v s="$size" 'BEGIN { print s / 1000000 }')" "$secs" "$tag")")
  printf '%s\n' "$tag"
done

log "built ${#ids[@]} platform image(s):"
printf '  %s\n' "${summary[@]}" >&2
