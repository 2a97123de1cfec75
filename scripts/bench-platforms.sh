#!/usr/bin/env bash
# bench-platforms.sh: each Debian platform image's size and package count beside the published
# size of the corresponding official image. Target: every golden image smaller.
#
# Usage: scripts/bench-platforms.sh [--build]
#   --build   build the images first (scripts/build-platforms.sh); without it the images already
#             in the engine are measured and only missing ones are built
#
# Nothing can be pulled here, so the official sizes are the published ones, hard-coded below
# with the tag and the date of the image they describe. Source: the docker-library/repo-info
# repository (`repos/<name>/local/<tag>.md`, "Virtual Size: ~ N Mb", the total on-disk size of
# the image's layers, as `docker image inspect` reports it), read at the commit noted.
# The published number is read as N x 10^6 bytes (the docker CLI's MB); if it were MiB the
# official images would be larger still, so this reading is the strict one.
# Environment: as scripts/build-platforms.sh. Exit codes: 0 measured (targets met or not: see
# the verdicts), 2 usage or runtime error.
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=bench-platforms.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

build=0
case ${1:-} in
  '') ;;
  --build) build=1 ;;
  -h | --help) sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) die "unknown argument \`$1\` (see --help)" ;;
esac

# platform | official image (tag: resolved version, base) | published size (MB) | repo-info file @ commit, image created
official=(
  "nginx|nginx:stable (1.30.5, Debian trixie)|169.48|repos/nginx/local/stable.md @ 8dcc4446, created 2026-09-15"
  "openjdk|eclipse-temurin:17-jre (17.0.20_8, Ubuntu resolute)|294.4|repos/eclipse-temurin/local/17-jre.md @ 28e979c7, created 2026-08-21"
  "tomcat|tomcat:10.1-jre17 (10.1.57, Temurin 17 JRE, Ubuntu noble)|284.73|repos/tomcat/local/10.1-jre17.md @ 49637ac0, created 2026-07-08"
  "python|python:3.11-slim (3.11.15, Debian trixie)|124.84|repos/python/local/3.11-slim.md @ 33cda30b, created 2026-08-05"
  # No official Spring Boot image exists: a Boot application is usually packaged on the JRE image.
  "springboot|eclipse-temurin:17-jre (17.0.20_8, Ubuntu resolute)|294.4|repos/eclipse-temurin/local/17-jre.md @ 28e979c7, created 2026-08-21"
)

command -v docker >/dev/null || die "docker CLI not found: run scripts/ensure-docker.sh"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"

mapfile -t entries < <(scripts/build-platforms.sh --list) || die "could not list the platform entries"
[ "${#entries[@]}" -gt 0 ] || die "no Debian platform entries in the plan"

if [ "$build" = 1 ]; then
  scripts/build-platforms.sh >/dev/null || die "build-platforms.sh failed"
fi

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }
pkgs() {
  # shellcheck disable=SC2016 # a dpkg-query format
  docker run --rm --network none --entrypoint dpkg-query "$1" -W -f '${db:Status-Abbrev}\n' 2>/dev/null | grep -c '^ii'
}

printf '%-11s %10s %6s  %10s %6s  %-8s %s\n' platform golden packages official ratio target "official image"
met=0
total=0
base_ref=
for line in "${entries[@]}"; do
  id=${line%%$'\t'*}
  tag=${line#*$'\t'}
  platform=${id%%-*}
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    printf '%s: %s is not in the engine: building it\n' "$PROG" "$tag" >&2
    scripts/build-platforms.sh --only "$id" >/dev/null || die "building $id failed"
  fi
  size=$(docker image inspect -f '{{.Size}}' "$tag")
  # The base every image is built on, as its label names it (the registry is configurable).
  [ -n "$base_ref" ] || base_ref=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.base.name"}}' "$tag" 2>/dev/null || true)
  count=$(pkgs "$tag")
  ref=
  for o in "${official[@]}"; do
    [ "${o%%|*}" = "$platform" ] && ref=$o
  done
  if [ -z "$ref" ]; then
    printf '%-11s %7s MB %6s  %10s %6s  %-8s %s\n' "$platform" "$(mb "$size")" "$count" - - - "no official counterpart"
    continue
  fi
  IFS='|' read -r _ oname omb osrc <<<"$ref"
  obytes=$(awk -v m="$omb" 'BEGIN { printf "%d", m * 1000000 }')
  ratio=$(awk -v a="$size" -v b="$obytes" 'BEGIN { printf "%.2f", a / b }')
  total=$((total + 1))
  if [ "$size" -lt "$obytes" ]; then verdict=met; met=$((met + 1)); else verdict=MISSED; fi
  printf '%-11s %7s MB %6s  %7s MB %6s  %-8s %s [%s]\n' "$platform" "$(mb "$size")" "$count" "$omb" "$ratio" "$verdict" "$oname" "$osrc"
done
base=$(docker image inspect -f '{{.Size}}' "${base_ref:-none}" 2>/dev/null || true)
[ -z "$base" ] || printf '(hardened Debian base %s: %s MB, the first %s MB of every golden image)\n' "$base_ref" "$(mb "$base")" "$(mb "$base")"
printf 'size target (smaller than the official image): %d of %d met\n' "$met" "$total"
