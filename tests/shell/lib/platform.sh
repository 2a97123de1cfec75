# shellcheck shell=bash
# Helpers for tests/shell/test-platform-*.sh (sourced, not run). Real engine only: every helper
# fails loudly when the engine, the hardened base or a tool is missing.
#
#   pt_image PLATFORM           build the platform's Debian image through
#                               scripts/build-platforms.sh (golden-build) and print its tag;
#                               GOLDEN_TEST_REUSE_IMAGES=1 reuses an image already in the engine
#   pt_run NAME IMAGE [OPTS] [-- CMD...]
#                               docker run -d OPTS IMAGE CMD with a unique name; removed at exit
#   pt_build_derived NAME DIR   build a test image from DIR (removed at exit), print its tag
#   pt_port CONTAINER PORT      host address (127.0.0.1:N) of a published port
#   pt_wait_http URL [SECONDS]  wait until URL answers (any HTTP status)
#   pt_wait_healthy CONTAINER [SECONDS]
#   pt_assert_image_compliance IMAGE
#                               config (numeric user 10001, healthcheck, labels) and the
#                               filesystem (no setuid/setgid, no world-writable paths, no package
#                               caches), from `docker export` of the image: no tool of the image
#                               is trusted for it; plus golden-scan when it is built
#   pt_check_self_signature KEYFILE FINGERPRINT
#                               the OpenPGP key in KEYFILE carries a valid self-signature (gpg;
#                               GOLDEN_TEST_GPG names the binary): a missing gpg FAILS, never skips
#   ok MSG / fail MSG / pt_done  counting assertions; pt_done exits 1 if any failed

PT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PT_PREFIX="golden-platform-test-$$"
PT_FAILED=0
PT_TMP=$(mktemp -d)
# Containers started (a file, not a variable: pt_run runs in command substitutions).
PT_CONTAINERS=$PT_TMP/containers
PT_IMAGES=$PT_TMP/images
: >"$PT_CONTAINERS"
: >"$PT_IMAGES"

pt_cleanup() {
  local c
  while IFS= read -r c; do
    docker rm -f "$c" >/dev/null 2>&1 || true
  done <"$PT_CONTAINERS"
  while IFS= read -r c; do
    docker rmi -f "$c" >/dev/null 2>&1 || true
  done <"$PT_IMAGES"
  rm -rf "$PT_TMP"
}
trap pt_cleanup EXIT

ok() { printf '  ok   %s\n' "$*"; }
fail() {
  printf '  FAIL %s\n' "$*"
  PT_FAILED=$((PT_FAILED + 1))
}
# check MSG CMD...: ok when CMD succeeds; CMD's output is shown only when it fails.
check() {
  local msg=$1 out
  shift
  if out=$("$@" 2>&1); then
    ok "$msg"
  else
    fail "$msg"
    [ -z "$out" ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/    | /'
  fi
}
# not CMD...: succeeds when CMD fails.  matches TEXT REGEX: bash regex match.
not() { ! "$@"; }
matches() { [[ $1 =~ $2 ]]; }
pt_check_self_signature() {
  local gpg_bin=${GOLDEN_TEST_GPG:-gpg} home sigs
  if ! command -v "$gpg_bin" >/dev/null 2>&1; then
    fail "gpg ($gpg_bin) not found: the self-signature of $1 cannot be checked (run scripts/setup.sh, which installs gnupg)"
    return 0
  fi
  home=$(mktemp -d "$PT_TMP/gnupg.XXXXXX")
  GNUPGHOME=$home "$gpg_bin" --batch --quiet --import "$1" 2>/dev/null || true
  sigs=$(GNUPGHOME=$home "$gpg_bin" --batch --check-sigs "$2" 2>&1 || true)
  check "$(basename "$1") carries a valid self-signature (gpg)" grep -q '^sig!' <<<"$sigs"
}
pt_die() {
  printf 'FATAL: %s\n' "$*" >&2
  exit 1
}
pt_done() {
  if [ "$PT_FAILED" -gt 0 ]; then
    printf '%d assertion(s) failed\n' "$PT_FAILED"
    exit 1
  fi
  printf 'all assertions passed\n'
}

pt_require_engine() {
  command -v docker >/dev/null 2>&1 || pt_die "docker CLI required: run scripts/setup.sh"
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    pt_die "docker engine required: run scripts/ensure-docker.sh"
  command -v jq >/dev/null 2>&1 || pt_die "jq required: run scripts/setup.sh"
  command -v curl >/dev/null 2>&1 || pt_die "curl required: run scripts/setup.sh"
}

# The Debian entry of PLATFORM in the plan (id and primary tag), via build-platforms.sh --list.
pt_entry() {
  local line
  line=$("$PT_ROOT/scripts/build-platforms.sh" --list --only "$1" | head -n 1) ||
    pt_die "no Debian plan entry for platform $1"
  printf '%s' "$line"
}

pt_image() {
  local platform=$1 line id tag
  pt_require_engine
  line=$(pt_entry "$platform")
  id=${line%%$'\t'*}
  tag=${line#*$'\t'}
  if [ "${GOLDEN_TEST_REUSE_IMAGES:-0}" = 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    printf 'reusing %s\n' "$tag" >&2
  else
    printf 'building %s (%s)\n' "$id" "$tag" >&2
    "$PT_ROOT/scripts/build-platforms.sh" --only "$id" >/dev/null ||
      pt_die "building $id failed (the hardened base must exist: make base-debian)"
  fi
  printf '%s' "$tag"
}

pt_run() {
  local name="$PT_PREFIX-$1" image=$2 opts=()
  shift 2
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  [ "${1:-}" = -- ] && shift
  printf '%s\n' "$name" >>"$PT_CONTAINERS"
  docker run -d --name "$name" "${opts[@]}" "$image" "$@" >/dev/null || pt_die "docker run $name failed"
  printf '%s' "$name"
}

# pt_build_derived NAME DIR: docker build DIR (a test image FROM a platform image); the image
# is removed at exit. Prints its tag.
pt_build_derived() {
  local tag="$PT_PREFIX-$1:test"
  printf '%s\n' "$tag" >>"$PT_IMAGES"
  docker build -q --force-rm -t "$tag" "$2" >"$PT_TMP/build-$1.log" 2>&1 || {
    sed 's/^/    | /' "$PT_TMP/build-$1.log" | tail -n 30
    return 1
  }
  printf '%s' "$tag"
}

pt_port() {
  local addr
  addr=$(docker port "$1" "$2/tcp" | grep -m1 '^127\.0\.0\.1:') || pt_die "$1: port $2 is not published"
  printf '%s' "$addr"
}

pt_logs() { docker logs "$1" 2>&1 | tail -n "${2:-30}" | sed 's/^/    | /'; }

pt_wait_http() {
  local url=$1 secs=${2:-60} i
  for ((i = 0; i < secs * 4; i++)); do
    if curl -s -o /dev/null --max-time 2 "$url"; then return 0; fi
    sleep 0.25
  done
  return 1
}

pt_wait_healthy() {
  local c=$1 secs=${2:-90} i st
  for ((i = 0; i < secs * 2; i++)); do
    st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c" 2>/dev/null || echo gone)
    case $st in
      healthy) return 0 ;;
      unhealthy | none | gone) break ;;
    esac
    sleep 0.5
  done
  printf '    health: %s\n' "$(docker inspect -f '{{json .State.Health}}' "$c" 2>/dev/null | head -c 800)"
  return 1
}

# Run a command in a throw-away container of IMAGE with the hardening flags every platform
# image must accept.
pt_exec_hardened() {
  local image=$1
  shift
  docker run --rm --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
    --entrypoint "$1" "$image" "${@:2}"
}

# Listing of the image's filesystem (mode, owner, size, path), from `docker export`.
pt_fs_listing() {
  local image=$1 out=$2 cid
  cid=$(docker create "$image" 2>/dev/null) || pt_die "docker create $image failed"
  docker export "$cid" | tar -tvf - >"$out"
  docker rm "$cid" >/dev/null
}

# pt_oneline TEXT: the lines of TEXT on one line, at most 300 characters.
pt_oneline() { tr '\n' ' ' <<<"$1" | head -c 300; }

# json_ok FILTER TEXT: jq -e FILTER on TEXT, quietly.
json_ok() { jq -e "$1" <<<"$2" >/dev/null 2>&1; }

# pt_jq_cfg FILTER: jq -e FILTER on the image config in $cfg (of the calling function).
pt_jq_cfg() { jq -e "$1" <<<"$cfg" >/dev/null; }

pt_assert_image_compliance() {
  local image=$1 cfg user listing suid ww caches
  cfg=$(docker image inspect -f '{{json .Config}}' "$image") || pt_die "no image $image"
  user=$(jq -r '.User' <<<"$cfg")
  check "image config user is numeric 10001 (got '$user')" [ "$user" = 10001 ]
  check "image has a HEALTHCHECK" pt_jq_cfg '.Healthcheck.Test | length > 0'
  check "image has OCI title/version/base labels" pt_jq_cfg '.Labels["org.opencontainers.image.title"] and .Labels["org.opencontainers.image.version"] and .Labels["org.opencontainers.image.base.name"]'
  check "CMD/ENTRYPOINT are exec (JSON) form" pt_jq_cfg '[(.Entrypoint // [])[0], (.Cmd // [])[0]] | map(select(. != null)) | all(. != "/bin/sh" and . != "sh")'

  listing=$PT_TMP/fs.$RANDOM
  pt_fs_listing "$image" "$listing"
  suid=$(awk '$1 ~ /^-/ && $1 ~ /[sS]/ { print $NF }' "$listing")
  check "no setuid/setgid files${suid:+ (found: $(pt_oneline "$suid"))}" [ -z "$suid" ]
  # The scanner's rule (configs/policy.yaml world_writable_allow): only /tmp and /var/tmp, sticky.
  ww=$(awk '$1 !~ /^l/ && substr($1, 9, 1) == "w" && !($1 ~ /^d/ && substr($1, 10, 1) ~ /[tT]/ && ($NF == "tmp/" || $NF == "var/tmp/")) { print $NF }' "$listing")
  check "no world-writable paths but the sticky /tmp and /var/tmp${ww:+ (found: $(pt_oneline "$ww"))}" [ -z "$ww" ]
  caches=$(awk '{ p = $NF } p ~ /^var\/lib\/apt\/lists\/.+/ && p !~ /lists\/(partial\/?|lock)$/ || p ~ /^var\/cache\/apt\/.+\.(deb|bin)$/ || p ~ /^var\/cache\/apk\/.+/ || p ~ /^var\/cache\/(dnf|yum)\/.+/ || p ~ /^root\/\.cache\/.+/ { print p }' "$listing")
  check "no package caches or indexes${caches:+ (found: $(pt_oneline "$caches"))}" [ -z "$caches" ]

  # The scanner is part of this check, never replaced by a weaker one: build it when missing.
  local scan_bin="${CARGO_TARGET_DIR:-$PT_ROOT/target}/debug/golden-scan"
  if [ ! -x "$scan_bin" ]; then
    (cd "$PT_ROOT" && cargo build -q -p golden-scan) || { fail "golden-scan could not be built"; return; }
  fi
  local dir=$PT_TMP/scan.$RANDOM
  if "$scan_bin" "$image" --trivy off --output "$dir" >"$dir.log" 2>&1; then
    ok "golden-scan: policy passes (no compliance failure)"
  else
    fail "golden-scan $image exited $? (log below)"
    sed 's/^/    | /' "$dir.log" | tail -n 30
  fi
}
