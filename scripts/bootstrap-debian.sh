#!/usr/bin/env bash
# bootstrap-debian.sh: build the hardened Debian base straight from the Debian archive
# (no registry), reproducibly, and load it into the Docker engine.
#
# mmdebstrap bootstraps the suite; a customize hook copies the hardening scripts to
# /usr/share/golden/scripts and runs harden-debian.sh against the chroot (--root DIR
# --chroot: package steps inside the chroot, file steps from here); the rootfs tar
# (device nodes dropped) is bit-for-bit reproducible for the same SOURCE_DATE_EPOCH and
# archive state. The image is not `docker import`ed (the engine would stamp the import time
# into the config): the script writes the image config itself, canonical JSON dated
# SOURCE_DATE_EPOCH, and `docker load`s a docker-save archive. Same inputs = same layer diff
# id AND same image id (the config's sha256).
#
# Called by `scripts/build-base.sh debian` (make base-debian) and by golden-build for plan
# entries that carry `bootstrap`: keep this CLI stable. Run with --help for the interface.
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=bootstrap-debian.sh

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
# shellcheck source=scripts/lib/arch.sh
. "$SCRIPT_DIR/lib/arch.sh"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
# elapsed START END: seconds between two `date +%s.%N` stamps, one decimal.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  cat <<'EOF'
Usage: scripts/bootstrap-debian.sh [options]

Bootstrap Debian with mmdebstrap, harden it inside the bootstrap (harden-debian.sh), write a
reproducible rootfs tar and load it into the Docker engine as a single-layer image whose
config the script writes itself (`docker load` of a docker-save archive, no `docker import`).
Prints the image id (sha256:...) on stdout; everything else goes to stderr.

Options (each also read from the environment variable in brackets):
  --suite NAME          Debian suite [GOLDEN_DEBIAN_SUITE, default bookworm]
  --variant NAME        mmdebstrap variant [GOLDEN_DEBIAN_VARIANT, default minbase]
  --arch ARCH           architecture to bootstrap, dpkg or OCI name (amd64, arm64)
                        [GOLDEN_DEBIAN_ARCH, default: this machine's]; a foreign one runs
                        its maintainer scripts under qemu-user-static through binfmt_misc
                        (GOLDEN_ARCHS=arm64 scripts/setup.sh installs and enables it)
  --components LIST     archive components, comma- or space-separated
                        [GOLDEN_DEBIAN_COMPONENTS, default main]
  --mirror URL          archive mirror; adds SUITE and SUITE-updates from it
                        [GOLDEN_DEBIAN_MIRROR; default: mmdebstrap's default mirrors,
                        which include the updates and security suites]
  --security-mirror URL security archive used with --mirror (SUITE-security)
                        [GOLDEN_DEBIAN_SECURITY_MIRROR]
  --snapshot STAMP      pin the archive state: a snapshot timestamp like 20250520T000000Z
                        [GOLDEN_DEBIAN_SNAPSHOT]; needs --snapshot-url
  --snapshot-url URL    base URL of a snapshot service; the archive is read from
                        URL/debian/STAMP and URL/debian-security/STAMP
                        [GOLDEN_DEBIAN_SNAPSHOT_URL]
  --cache-dir DIR       keep downloaded .deb files in DIR and reuse them next time (apt
                        checks each against the archive's hashes, so the result is the
                        same; the directory only grows: delete it to reset)
                        [GOLDEN_DEBIAN_CACHE_DIR]
  --tag REF             tag the image, NAME[:TAG] (repeatable; the first is the primary;
                        no TAG means :latest) [GOLDEN_BOOTSTRAP_TAGS, whitespace-separated]
  --label KEY=VALUE     image label, e.g. org.opencontainers.image.revision=abc (repeatable)
                        [GOLDEN_BOOTSTRAP_LABELS, one KEY=VALUE per line]
  --output FILE         keep the rootfs tar at FILE [GOLDEN_BOOTSTRAP_OUTPUT]
  --no-import           do not load the image into the engine (needs --output)
                        [GOLDEN_BOOTSTRAP_NO_IMPORT=1]
  --no-harden           plain bootstrap, no hardening and no runtime user: an offline
                        stand-in for the upstream image of base-images/debian/Dockerfile
                        [GOLDEN_BOOTSTRAP_NO_HARDEN=1]
  --dry-run             validate, print the mmdebstrap command line on stdout, and exit
                        (needs neither root nor the engine) [GOLDEN_BOOTSTRAP_DRY_RUN=1]
  -h, --help            this help

Environment:
  SOURCE_DATE_EPOCH     clamps file times, dates the hardening manifest and the image config
                        (`created`): same value + same archive state + same labels = same tar
                        sha256 = same layer diff id = same image id. When unset, the current
                        time (`date +%s` at start) is used for all of them (the result is then
                        not reproducible).

Image config (canonical JSON: sorted keys, compact): architecture from --arch (OCI name,
with `variant` v8 for arm64 as the engine and registries name it), os linux, created = SOURCE_DATE_EPOCH, USER 10001,
WORKDIR /home/app (both not with --no-harden), ENV PATH=..., CMD ["/bin/bash"], the labels
given with --label (the last wins for a repeated key), one history entry naming suite,
variant and components.
Exit codes: 0 success, 2 usage or runtime error. Needs root (mmdebstrap root mode).
EOF
}

suite=${GOLDEN_DEBIAN_SUITE:-bookworm}
variant=${GOLDEN_DEBIAN_VARIANT:-minbase}
arch=${GOLDEN_DEBIAN_ARCH:-}
components=${GOLDEN_DEBIAN_COMPONENTS:-main}
mirror=${GOLDEN_DEBIAN_MIRROR:-}
security_mirror=${GOLDEN_DEBIAN_SECURITY_MIRROR:-}
snapshot=${GOLDEN_DEBIAN_SNAPSHOT:-}
snapshot_url=${GOLDEN_DEBIAN_SNAPSHOT_URL:-}
output=${GOLDEN_BOOTSTRAP_OUTPUT:-}
cache_dir=${GOLDEN_DEBIAN_CACHE_DIR:-}
no_import=${GOLDEN_BOOTSTRAP_NO_IMPORT:-0}
no_harden=${GOLDEN_BOOTSTRAP_NO_HARDEN:-0}
dry_run=${GOLDEN_BOOTSTRAP_DRY_RUN:-0}
tags=()
labels=()
if [ -n "${GOLDEN_BOOTSTRAP_TAGS:-}" ]; then read -r -a tags <<<"$GOLDEN_BOOTSTRAP_TAGS"; fi
if [ -n "${GOLDEN_BOOTSTRAP_LABELS:-}" ]; then
  while IFS= read -r l; do [ -z "$l" ] || labels+=("$l"); done <<<"$GOLDEN_BOOTSTRAP_LABELS"
fi

need_arg() { [ "$#" -ge 2 ] || die "$1 needs a value (see --help)"; }
while [ "$#" -gt 0 ]; do
  case $1 in
    --suite) need_arg "$@"; suite=$2; shift ;;
    --variant) need_arg "$@"; variant=$2; shift ;;
    --arch) need_arg "$@"; arch=$2; shift ;;
    --components) need_arg "$@"; components=$2; shift ;;
    --mirror) need_arg "$@"; mirror=$2; shift ;;
    --security-mirror) need_arg "$@"; security_mirror=$2; shift ;;
    --snapshot) need_arg "$@"; snapshot=$2; shift ;;
    --snapshot-url) need_arg "$@"; snapshot_url=$2; shift ;;
    --cache-dir) need_arg "$@"; cache_dir=$2; shift ;;
    --tag) need_arg "$@"; tags+=("$2"); shift ;;
    --label) need_arg "$@"; labels+=("$2"); shift ;;
    --output) need_arg "$@"; output=$2; shift ;;
    --no-import) no_import=1 ;;
    --no-harden) no_harden=1 ;;
    --dry-run) dry_run=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument \`$1\` (see --help)" ;;
  esac
  shift
done

bool() {
  case $2 in
    1 | true | yes) echo 1 ;;
    0 | false | no | '') echo 0 ;;
    *) die "$1 must be 0 or 1, got \`$2\`" ;;
  esac
}
no_import=$(bool GOLDEN_BOOTSTRAP_NO_IMPORT "$no_import")
no_harden=$(bool GOLDEN_BOOTSTRAP_NO_HARDEN "$no_harden")
dry_run=$(bool GOLDEN_BOOTSTRAP_DRY_RUN "$dry_run")

# ---- validate ---------------------------------------------------------------------------
[[ $suite =~ ^[a-z][a-z0-9.-]*$ ]] || die "suite \`$suite\` is not a Debian suite name (e.g. bookworm)"
case $variant in
  extract | custom | essential | apt | required | minbase | buildd | important | debootstrap | standard) ;;
  *) die "unknown mmdebstrap variant \`$variant\` (minbase, apt, essential, required, buildd, important, standard)" ;;
esac
host_arch=$(golden_host_arch)
deb_arch=$(golden_arch "${arch:-$host_arch}" "--arch/GOLDEN_DEBIAN_ARCH") || exit 2
read -r -a comp_list <<<"${components//,/ }"
[ "${#comp_list[@]}" -gt 0 ] || die "no archive component given (e.g. --components main)"
for c in "${comp_list[@]}"; do
  [[ $c =~ ^[a-z][a-z0-9-]*$ ]] || die "component \`$c\` is not an archive component name (main, contrib, non-free-firmware)"
done
comps_csv=$(IFS=,; echo "${comp_list[*]}")
comps_sp=${comps_csv//,/ }
if [ -n "$snapshot" ]; then
  [[ $snapshot =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || die "snapshot \`$snapshot\` is not a timestamp like 20250520T000000Z"
  [ -n "$snapshot_url" ] || die "--snapshot needs the snapshot service's base URL: set GOLDEN_DEBIAN_SNAPSHOT_URL (or --snapshot-url)"
  [ -z "$mirror" ] || die "--mirror and --snapshot exclude each other (the snapshot is the mirror)"
fi
for u in "$mirror" "$security_mirror" "$snapshot_url"; do
  [ -z "$u" ] || [[ $u =~ ^(https?|file)://[^[:space:]]+$ ]] || die "\`$u\` is not an http(s):// or file:// URL"
done
[ -z "$security_mirror" ] || [ -n "$mirror" ] || die "--security-mirror only applies with --mirror"
for l in "${labels[@]}"; do
  [[ $l =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*=.*$ ]] || die "label \`$l\` is not KEY=VALUE"
  [[ $l != *$'\n'* ]] || die "label \`${l%%=*}\` has a newline in its value"
done
for t in "${tags[@]}"; do
  [[ $t =~ ^[a-z0-9][A-Za-z0-9._/:@-]*$ ]] || die "tag \`$t\` is not an image reference"
  [[ $t != *@* ]] || die "tag \`$t\` is a digest reference: an image is tagged NAME[:TAG]"
done
if [ "$no_import" = 1 ] && [ -z "$output" ]; then
  die "--no-import without --output would throw the result away"
fi
if [ -n "$output" ]; then
  out_dir=$(dirname -- "$output")
  [ -d "$out_dir" ] || die "output directory \`$out_dir\` does not exist"
fi
if [ -n "$cache_dir" ]; then
  [[ $cache_dir != *[[:space:]]* ]] || die "the cache directory must not contain whitespace: \`$cache_dir\`"
  if [ "$dry_run" = 0 ]; then
    mkdir -p -- "$cache_dir" || die "cannot create the cache directory \`$cache_dir\`"
    cache_dir=$(cd -- "$cache_dir" && pwd)
  fi
fi
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  [[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be seconds since 1970, got \`$SOURCE_DATE_EPOCH\`"
else
  SOURCE_DATE_EPOCH=$(date +%s)
  [ "$dry_run" = 1 ] || log "SOURCE_DATE_EPOCH not set: using now ($SOURCE_DATE_EPOCH); the tar will not be reproducible"
fi
export SOURCE_DATE_EPOCH

# ---- mirrors ----------------------------------------------------------------------------
mirrors=()
has_updates=1
case $suite in sid | unstable | experimental | rc-buggy) has_updates=0 ;; esac
if [ -n "$snapshot" ]; then
  base=${snapshot_url%/}
  mirrors+=("deb [check-valid-until=no] $base/debian/$snapshot $suite $comps_sp")
  if [ "$has_updates" = 1 ]; then
    mirrors+=("deb [check-valid-until=no] $base/debian/$snapshot $suite-updates $comps_sp")
    mirrors+=("deb [check-valid-until=no] $base/debian-security/$snapshot $suite-security $comps_sp")
  fi
elif [ -n "$mirror" ]; then
  mirrors+=("deb $mirror $suite $comps_sp")
  if [ "$has_updates" = 1 ]; then
    mirrors+=("deb $mirror $suite-updates $comps_sp")
    [ -z "$security_mirror" ] || mirrors+=("deb $security_mirror $suite-security $comps_sp")
  fi
fi

# ---- hooks ------------------------------------------------------------------------------
export GOLDEN_BOOTSTRAP_SCRIPTS="$SCRIPT_DIR"
# Hooks are shell snippets mmdebstrap runs with the chroot as $1: single quotes on purpose.
hooks=()
if [ -n "$cache_dir" ]; then
  export GOLDEN_DEBIAN_CACHE_DIR="$cache_dir"
  # mmdebstrap's documented cache recipe: keep the essential debs (--skip=essential/unlink),
  # copy the cache in before the download, copy the archives out before the hardening
  # step empties them.
  # shellcheck disable=SC2016
  hooks+=(--skip=essential/unlink
    --setup-hook='mkdir -p "$1/var/cache/apt/archives"'
    --setup-hook="sync-in $cache_dir /var/cache/apt/archives/"
    --customize-hook="sync-out /var/cache/apt/archives $cache_dir")
fi
if [ "$no_harden" = 0 ]; then
  # The scripts stay in the image: platform images re-run them after installing packages.
  # The marker usr/share/golden/image-build tells them `/` is an image (harden-common.sh's
  # guard), also under builders that leave no /.dockerenv (BuildKit).
  # shellcheck disable=SC2016
  hooks+=(--customize-hook='install -d -m 0755 "$1/usr/share/golden/scripts" && install -m 0644 "$GOLDEN_BOOTSTRAP_SCRIPTS/harden-common.sh" "$1/usr/share/golden/scripts/" && install -m 0755 "$GOLDEN_BOOTSTRAP_SCRIPTS/harden-debian.sh" "$1/usr/share/golden/scripts/" && printf "%s\n" "golden image root: harden-*.sh may harden / here (see harden-common.sh)" >"$1/usr/share/golden/image-build"')
  # shellcheck disable=SC2016
  hooks+=(--customize-hook='sh "$GOLDEN_BOOTSTRAP_SCRIPTS/harden-debian.sh" --root "$1" --chroot')
fi
# The host's resolv.conf and hostname would make the tar host-dependent; the engine
# provides both at run time.
# shellcheck disable=SC2016
hooks+=(--customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"')

mm=(mmdebstrap --quiet --mode=root --format=tar --variant="$variant" --architectures="$deb_arch"
  --components="$comps_csv"
  --hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr "${hooks[@]}" "$suite")
if [ "$dry_run" = 1 ]; then
  printf 'GOLDEN_BOOTSTRAP_SCRIPTS=%q SOURCE_DATE_EPOCH=%q' "$GOLDEN_BOOTSTRAP_SCRIPTS" "$SOURCE_DATE_EPOCH"
  printf ' %q' "${mm[@]}" ROOTFS.tar "${mirrors[@]}"
  printf '\n'
  exit 0
fi

command -v mmdebstrap >/dev/null || die "mmdebstrap not found: apt-get install mmdebstrap (scripts/setup.sh does)"
command -v mmtarfilter >/dev/null || die "mmtarfilter not found (it ships with mmdebstrap)"
if [ "$no_import" = 0 ]; then
  command -v docker >/dev/null || die "docker CLI not found: run scripts/ensure-docker.sh"
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    die "no Docker engine answers: run scripts/ensure-docker.sh (or pass --no-import --output FILE)"
  command -v jq >/dev/null || die "jq not found (it writes the image config): apt-get install jq (scripts/setup.sh does)"
fi
[ "$(id -u)" -eq 0 ] || die "run as root: the hardening hook chroots into the bootstrap (mmdebstrap root mode)"
# A foreign architecture runs its maintainer scripts (and the hardening hook's chroot) under
# qemu-user-static: fail now, not with an exec format error minutes into the bootstrap.
if [ "$deb_arch" != "$host_arch" ]; then
  # One rule with golden-build and setup: an enabled handler with the F flag, and arch-test.
  "$SCRIPT_DIR/ensure-emulation.sh" --check "$deb_arch" || exit 2
fi
# The image config names the architecture the OCI way (arm64 with variant v8, as the engine
# and the registries do).
oci_variant=
case $deb_arch in
  amd64) oci_arch=amd64 ;;
  arm64) oci_arch=arm64 oci_variant=v8 ;;
esac

# ---- bootstrap --------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/golden-bootstrap.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
raw=$work/rootfs.raw.tar
tarball=$work/rootfs.tar
log "bootstrapping $suite for $deb_arch ($variant; $comps_csv)${snapshot:+ at snapshot $snapshot}${mirror:+ from $mirror}; SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
start=$(date +%s.%N)
"${mm[@]}" "$raw" "${mirrors[@]}" >&2 ||
  die "mmdebstrap failed (see the messages above)"
# Device nodes belong to the engine, not to an image layer.
mmtarfilter --path-exclude='/dev/*' <"$raw" >"$tarball" || die "mmtarfilter failed"
rm -f "$raw"
end=$(date +%s.%N)
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
size=$(stat -c %s "$tarball")
log "bootstrap+hardening: $(elapsed "$start" "$end") s; rootfs tar $size bytes, sha256:$sha"

if [ -n "$output" ]; then
  cp -- "$tarball" "$output.tmp.$$"
  mv -f -- "$output.tmp.$$" "$output"
  log "wrote $output"
fi
[ "$no_import" = 0 ] || exit 0

# ---- image: config, docker-save archive, docker load ----------------------------------
# `docker import` would write the config itself and date it with the import time: a new image
# id on every run. The config below depends only on the inputs, so the image id (the sha256
# of the config bytes, which `docker load` keeps as they are) is reproducible like the layer.
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
hardened=true
[ "$no_harden" = 0 ] || hardened=false
created_by="bootstrap-debian.sh: mmdebstrap --variant=$variant --architectures=$deb_arch --components=$comps_csv $suite"
if [ "$hardened" = true ]; then created_by+=" + harden-debian.sh"; else created_by+=" (not hardened)"; fi
# Labels as named arguments k<i>/v<i> (jq 1.6 would parse a value starting with `-` after
# --args as an option); from_entries keeps the last of a repeated key, like LABEL.
label_args=()
for i in "${!labels[@]}"; do
  label_args+=(--arg "k$i" "${labels[$i]%%=*}" --arg "v$i" "${labels[$i]#*=}")
done
config=$(jq -n -S -c "${label_args[@]}" --argjson n "${#labels[@]}" --arg arch "$oci_arch" \
  --arg arch_variant "$oci_variant" --arg created "$created" --arg created_by "$created_by" \
  --arg diff_id "sha256:$sha" --argjson hardened "$hardened" '
  ([range(0; $n) as $i | {key: $ARGS.named["k\($i)"], value: $ARGS.named["v\($i)"]}] | from_entries) as $labels
  | {
      architecture: $arch,
      os: "linux",
      created: $created,
      config: ({
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: ["/bin/bash"]
      }
      + (if $hardened then {User: "10001", WorkingDir: "/home/app"} else {} end)
      + (if ($labels | length) > 0 then {Labels: $labels} else {} end)),
      rootfs: {type: "layers", diff_ids: [$diff_id]},
      history: [{created: $created, created_by: $created_by}]
    }
  + (if $arch_variant != "" then {variant: $arch_variant} else {} end)') ||
  die "could not write the image config (jq failed)"
image=$work/image
mkdir -p "$image/$sha"
printf '%s' "$config" >"$image/config.json"
config_sha=$(sha256sum "$image/config.json" | cut -d' ' -f1)
mv -- "$image/config.json" "$image/$config_sha.json"
# docker load tags only NAME:TAG references: give the implicit :latest explicitly, as
# `docker tag` would.
repo_tags=()
for t in "${tags[@]}"; do
  if [[ ${t##*/} == *:* ]]; then repo_tags+=("$t"); else repo_tags+=("$t:latest"); fi
done
jq -n -c --arg config "$config_sha.json" --arg layer "$sha/layer.tar" \
  '[{Config: $config, RepoTags: $ARGS.positional, Layers: [$layer]}]' --args "${repo_tags[@]}" \
  >"$image/manifest.json" || die "could not write manifest.json (jq failed)"
ln -- "$tarball" "$image/$sha/layer.tar" 2>/dev/null || cp -- "$tarball" "$image/$sha/layer.tar"

istart=$(date +%s.%N)
tar -C "$image" --owner=0 --group=0 --numeric-owner -cf - manifest.json "$config_sha.json" "$sha/layer.tar" |
  docker load >&2 || die "docker load failed (see the messages above)"
iend=$(date +%s.%N)
id=sha256:$config_sha
# The engine keeps the config bytes: its image id must be their sha256.
got=$(docker image inspect --format '{{.Id}}' "$id" 2>/dev/null) ||
  die "docker load reported success but the engine has no image $id"
[ "$got" = "$id" ] || die "the engine stored the image as $got, expected $id (the config's sha256)"
for t in "${repo_tags[@]}"; do
  got=$(docker image inspect --format '{{.Id}}' "$t" 2>/dev/null) || got=none
  [ "$got" = "$id" ] || die "tag $t points at $got after docker load, expected $id"
done
diff_id=$(docker image inspect --format '{{index .RootFS.Layers 0}}' "$id")
[ "$diff_id" = "sha256:$sha" ] || die "the engine's layer diff id $diff_id is not the tar's sha256:$sha"
log "imported in $(elapsed "$istart" "$iend") s (docker load): $id (layer $diff_id; $oci_arch${oci_variant:+/$oci_variant}; created $created)${tags[*]:+; tags: ${repo_tags[*]}}"
printf '%s\n' "$id"
