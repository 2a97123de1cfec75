#!/usr/bin/env bash
# build-base.sh OS: build the hardened base image for OS (debian, alpine, redhat) into the
# local Docker engine with the tags and labels the plan gives it. What `make base-<os>` runs.
#
#   debian          bootstrapped from the Debian archive (scripts/bootstrap-debian.sh), with
#                   the plan entry's `bootstrap` settings: needs no registry.
#   alpine, redhat  base-images/<os>/Dockerfile FROM the pinned upstream image, pulled when
#                   it is not in the local engine. No registry is reachable on the team's
#                   machine, so there this exits 2: these bases are built by the GitHub
#                   workflow.
#
# Environment:
#   GOLDEN_CONFIG         catalog (default configs/build-config.yaml)
#   GOLDEN_PLAN_BIN       golden-plan binary (default target/debug/golden-plan, built with
#                         `cargo build -p golden-plan` when missing)
#   GOLDEN_PLAN_FILE      read the plan from this JSON file instead of running golden-plan
#   GOLDEN_UPSTREAM_IMAGE use this local image as the upstream instead of the pinned one
#                         (alpine/redhat: e.g. an image loaded with `docker load`)
#   SOURCE_DATE_EPOCH     reproducibility date (default: the HEAD commit time, so building
#                         the same commit twice gives the same Debian image id)
#   GOLDEN_DEBIAN_*       mirror/snapshot/cache settings, see bootstrap-debian.sh --help
#   GOLDEN_ARCH           architecture to build (amd64, arm64; default this machine's). A
#                         foreign one is bootstrapped under emulation (GOLDEN_ARCHS=arm64
#                         scripts/setup.sh enables it) and tagged `<tag>-<arch>`, as
#                         golden-build --arch tags it, beside the native image
# Prints the image id on stdout. Exit codes: 0 built, 2 usage or runtime error (including
# "upstream image not available here").
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROG=build-base.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
# shellcheck source=scripts/lib/arch.sh
. scripts/lib/arch.sh

usage() { sed -n '2,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

[ "$#" -eq 1 ] || { usage >&2; die "expected exactly one OS argument (debian, alpine, redhat)"; }
case $1 in
  -h | --help) usage; exit 0 ;;
  debian | alpine | redhat) os=$1 ;;
  *) die "unknown OS \`$1\` (known: debian, alpine, redhat)" ;;
esac
command -v jq >/dev/null || die "jq not found: run scripts/setup.sh"
command -v docker >/dev/null || die "docker CLI not found: run scripts/ensure-docker.sh"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: run scripts/ensure-docker.sh"

config=${GOLDEN_CONFIG:-configs/build-config.yaml}

# ---- the plan entry ---------------------------------------------------------------------
if [ -n "${GOLDEN_PLAN_FILE:-}" ]; then
  [ -f "$GOLDEN_PLAN_FILE" ] || die "GOLDEN_PLAN_FILE \`$GOLDEN_PLAN_FILE\` does not exist"
  plan=$(cat "$GOLDEN_PLAN_FILE")
else
  plan_bin=${GOLDEN_PLAN_BIN:-${CARGO_TARGET_DIR:-target}/debug/golden-plan}
  if [ ! -x "$plan_bin" ]; then
    log "building golden-plan"
    cargo build -q -p golden-plan >&2 || die "cargo build -p golden-plan failed"
  fi
  [ -x "$plan_bin" ] || die "golden-plan not found at $plan_bin (set GOLDEN_PLAN_BIN)"
  plan=$("$plan_bin" --config "$config" --event local --os "$os" --format json) ||
    die "golden-plan failed for $config (see its message above)"
fi
entry=$(jq -ce --arg id "base-$os" '.bases.include[] | select(.id == $id)' <<<"$plan") ||
  die "the plan has no base entry \`base-$os\` (is $os in the bases of $config?)"

mapfile -t tags < <(jq -r '.tags[]' <<<"$entry")
[ "${#tags[@]}" -gt 0 ] || die "plan entry base-$os has no tags"
host_arch=$(golden_host_arch)
arch=$(golden_arch "${GOLDEN_ARCH:-$host_arch}" GOLDEN_ARCH) || exit 2
if [ "$arch" != "$host_arch" ]; then
  # A foreign architecture's image lives beside the native one: `<tag>-<arch>`.
  for i in "${!tags[@]}"; do tags[i]=$(golden_arch_tag "${tags[$i]}" "$arch"); done
fi
mapfile -t labels < <(jq -r '.labels // {} | to_entries[] | "\(.key)=\(.value)"' <<<"$entry")

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  # The bootstrap runs as root (sudo make base-debian) in a checkout that may belong to
  # another user: git would refuse it ("dubious ownership") and the date would silently
  # become "now". This repository's own scripts run as root anyway, so trust it for this read.
  if SOURCE_DATE_EPOCH=$(git -c "safe.directory=$(pwd -P)" log -1 --format=%ct 2>/dev/null) &&
    [ -n "$SOURCE_DATE_EPOCH" ]; then
    log "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH (HEAD commit time)"
  else
    SOURCE_DATE_EPOCH=$(date +%s)
    log "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH (now: no git commit here; the image id will not be reproducible)"
  fi
fi
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
has_label() { local k; for k in "${labels[@]}"; do [ "${k%%=*}" != "$1" ] || return 0; done; return 1; }
has_label org.opencontainers.image.created || labels+=("org.opencontainers.image.created=$created")

# ---- debian: from the archive -----------------------------------------------------------
if jq -e '.bootstrap != null' >/dev/null <<<"$entry"; then
  args=(
    --arch "$arch"
    --suite "$(jq -r '.bootstrap.suite' <<<"$entry")"
    --variant "$(jq -r '.bootstrap.variant' <<<"$entry")"
    --components "$(jq -r '.bootstrap.components | join(",")' <<<"$entry")"
  )
  mirror=$(jq -r '.bootstrap.mirror // empty' <<<"$entry")
  snapshot=$(jq -r '.bootstrap.snapshot // empty' <<<"$entry")
  [ -z "$mirror" ] || args+=(--mirror "$mirror")
  [ -z "$snapshot" ] || args+=(--snapshot "$snapshot")
  for t in "${tags[@]}"; do args+=(--tag "$t"); done
  # Bootstrapped from the archive, not FROM the upstream the plan names: no base.name or
  # base.digest label (as golden-build does for bootstrapped images).
  for l in "${labels[@]}"; do
    case ${l%%=*} in org.opencontainers.image.base.name | org.opencontainers.image.base.digest) continue ;; esac
    args+=(--label "$l")
  done
  log "bootstrapping base-$os ($arch) from the Debian archive -> ${tags[0]}"
  exec scripts/bootstrap-debian.sh "${args[@]}"
fi

# ---- alpine, redhat (and debian without bootstrap): the Dockerfile ----------------------
[ "$arch" = "$host_arch" ] || die "base-$os for $arch: only the Debian bootstrap builds a foreign architecture here (the $os base is built on native $arch runners by the workflow)"
upstream=${GOLDEN_UPSTREAM_IMAGE:-$(jq -r '.build_args.UPSTREAM // .upstream // empty' <<<"$entry")}
[ -n "$upstream" ] || die "plan entry base-$os names no upstream image"
if ! docker image inspect "$upstream" >/dev/null 2>&1; then
  log "upstream $upstream is not in the local engine: trying to pull it"
  if ! pull_err=$(timeout 300 docker pull -q "$upstream" 2>&1 >/dev/null); then
    die "cannot build base-$os here: its upstream image $upstream is not in the local engine and cannot be pulled (${pull_err##*$'\n'}). Where no container registry is reachable, as on the team's build machine, the $os base is built by the GitHub workflow on runners that can pull it. To build it here, load the upstream image (docker load) and set GOLDEN_UPSTREAM_IMAGE to its local name."
  fi
fi
dockerfile=$(jq -r '.dockerfile' <<<"$entry")
context=$(jq -r '.context // "."' <<<"$entry")
[ -f "$dockerfile" ] || die "Dockerfile $dockerfile (plan entry base-$os) does not exist"
args=(-f "$dockerfile" --build-arg "UPSTREAM=$upstream" --build-arg "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH")
while IFS= read -r kv; do
  [ "${kv%%=*}" = UPSTREAM ] || args+=(--build-arg "$kv")
done < <(jq -r '.build_args // {} | to_entries[] | "\(.key)=\(.value)"' <<<"$entry")
for l in "${labels[@]}"; do args+=(--label "$l"); done
for t in "${tags[@]}"; do args+=(-t "$t"); done
log "building base-$os from $upstream with $dockerfile -> ${tags[0]}"
DOCKER_BUILDKIT=0 docker build "${args[@]}" "$context" >&2 || die "docker build of base-$os failed"
docker image inspect --format '{{.Id}}' "${tags[0]}"
