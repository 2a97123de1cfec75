#!/usr/bin/env bash
# Reproducibility of the Debian bootstrap: two independent runs of bootstrap-debian.sh (in
# parallel, separate temp dirs) with the same SOURCE_DATE_EPOCH and labels, but different
# tags, must give the same rootfs tar sha256, the same layer diff id (RootFS.Layers, equal to
# that sha256) AND the same image id (the sha256 of the config the script writes and
# `docker load`s: no import time in it). Both runs' tags point at that one image; its config
# is dated SOURCE_DATE_EPOCH and carries the labels, the numeric user and the architecture.
# Same epoch + same archive state = same digests; an archive update between the two runs (a
# few seconds apart) would be the only legitimate difference.
# Each run downloads its .debs, or, with GOLDEN_DEBIAN_CACHE_DIR set, starts from its own
# copy of that cache (the runs never write to one directory at the same time).
# Needs root (mmdebstrap) and the Docker engine; fails, never skips, without them.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"
require_docker
command -v jq >/dev/null || { echo "FAIL - jq required: run scripts/setup.sh"; exit 1; }
cd "$REPO"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-repro.XXXXXX")
tag_a=$(unique_tag repro-a)
tag_b=$(unique_tag repro-b)
# A second tag per run without an explicit tag: the script tags it :latest, as `docker tag` does.
name_a2=golden-base-test/repro-a2-$$-$RANDOM
name_b2=golden-base-test/repro-b2-$$-$RANDOM
cleanup() {
  docker image rm -f "$tag_a" "$tag_b" "$name_a2:latest" "$name_b2:latest" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/a" "$work/b"
cache_note="each run downloads its .debs"
if [ -n "${GOLDEN_DEBIAN_CACHE_DIR:-}" ] && [ -d "$GOLDEN_DEBIAN_CACHE_DIR" ]; then
  cp -a -- "$GOLDEN_DEBIAN_CACHE_DIR" "$work/a/debs"
  cp -a -- "$GOLDEN_DEBIAN_CACHE_DIR" "$work/b/debs"
  cache_note="each run from its own copy of $GOLDEN_DEBIAN_CACHE_DIR"
fi

# Labels as golden-build/build-base.sh pass them, plus awkward values: spaces and quotes, a
# leading dash, non-ASCII, a repeated key (the last wins).
labels=(
  --label org.opencontainers.image.title=repro-test
  --label "org.opencontainers.image.created=$TEST_DATE"
  --label 'org.opencontainers.image.description=say "hi" = ok'
  --label 'org.example.dash=-x'
  --label 'org.example.utf8=déjà vu'
  --label org.example.repeated=first
  --label org.example.repeated=last
)
want_labels=$(jq -cS -n --arg d "$TEST_DATE" '{
  "org.opencontainers.image.title": "repro-test",
  "org.opencontainers.image.created": $d,
  "org.opencontainers.image.description": "say \"hi\" = ok",
  "org.example.dash": "-x",
  "org.example.utf8": "déjà vu",
  "org.example.repeated": "last"}')

run() { # run NAME TAG NAME2
  local cache=()
  [ ! -d "$work/$1/debs" ] || cache=(--cache-dir "$work/$1/debs")
  env -u GOLDEN_DEBIAN_CACHE_DIR TMPDIR="$work/$1" SOURCE_DATE_EPOCH="$TEST_EPOCH" scripts/bootstrap-debian.sh \
    "${cache[@]}" --output "$work/$1/rootfs.tar" --tag "$2" --tag "$3" "${labels[@]}" \
    >"$work/$1/id" 2>"$work/$1/log"
}
start=$(date +%s)
rc_a=0
rc_b=0
run a "$tag_a" "$name_a2" &
pid_a=$!
run b "$tag_b" "$name_b2" &
pid_b=$!
wait "$pid_a" || rc_a=$?
wait "$pid_b" || rc_b=$?
check_eq "two parallel bootstraps succeed ($(($(date +%s) - start)) s; $cache_note)" "$rc_a $rc_b" "0 0"
if [ "$rc_a" -ne 0 ] || [ "$rc_b" -ne 0 ]; then
  tail -n 20 "$work/a/log" "$work/b/log" | sed 's/^/       /'
  finish
fi

# the layer
sha_a=$(sha256sum "$work/a/rootfs.tar" | cut -d' ' -f1)
sha_b=$(sha256sum "$work/b/rootfs.tar" | cut -d' ' -f1)
echo "# rootfs tar sha256: $sha_a / $sha_b"
check_eq "identical rootfs tar sha256" "$sha_b" "$sha_a"
if [ "$sha_a" != "$sha_b" ]; then
  # show what differs to make the failure actionable
  diff <(tar -tvf "$work/a/rootfs.tar") <(tar -tvf "$work/b/rootfs.tar") | head -n 20 | sed 's/^/       /' || true
fi
layer_a=$(docker image inspect --format '{{json .RootFS.Layers}}' "$tag_a")
layer_b=$(docker image inspect --format '{{json .RootFS.Layers}}' "$tag_b")
echo "# layer diff ids: $layer_a / $layer_b"
check_eq "identical layer diff id" "$layer_b" "$layer_a"
check_eq "the diff id is the tar's sha256" "$layer_a" "[\"sha256:$sha_a\"]"

# the image
id_a=$(cat "$work/a/id")
id_b=$(cat "$work/b/id")
echo "# image ids: $id_a / $id_b"
check "bootstrap-debian.sh prints an image id" grep -Eq '^sha256:[0-9a-f]{64}$' "$work/a/id"
check_eq "identical image id (config digest) from both runs" "$id_b" "$id_a"
check_eq "every tag of both runs points at that image (a bare name is tagged :latest)" \
  "$(for t in "$tag_a" "$name_a2:latest" "$tag_b" "$name_b2:latest"; do docker image inspect --format '{{.Id}}' "$t"; done | sort -u)" \
  "$id_a"
docker image inspect "$tag_a" >"$work/inspect.json"
check_eq "the image config is dated SOURCE_DATE_EPOCH (Created)" "$(jq -r '.[0].Created' "$work/inspect.json")" "$TEST_DATE"
check_eq "the labels are in the config (values verbatim, the last of a repeated key wins)" \
  "$(jq -cS '.[0].Config.Labels' "$work/inspect.json")" "$want_labels"
check_eq "user, workdir, env, cmd" \
  "$(jq -c '.[0].Config | [.User, .WorkingDir, .Env, .Cmd]' "$work/inspect.json")" \
  '["10001","/home/app",["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],["/bin/bash"]]'
want_arch=$(dpkg --print-architecture)
case $want_arch in i386) want_arch=386 ;; armhf | armel) want_arch=arm ;; ppc64el) want_arch=ppc64le ;; mips64el) want_arch=mips64le ;; esac
check_eq "os/architecture (OCI name of dpkg's architecture)" \
  "$(jq -r '.[0].Os + "/" + .[0].Architecture' "$work/inspect.json")" "linux/$want_arch"
# The history has one entry, dated SOURCE_DATE_EPOCH, naming the bootstrap without host paths.
docker history --no-trunc --format '{{.CreatedAt}}|{{.CreatedBy}}' "$tag_a" >"$work/history"
check_eq "one history entry naming suite, variant, architecture, components; no host path" "$(cut -d'|' -f2 "$work/history")" \
  "bootstrap-debian.sh: mmdebstrap --variant=minbase --architectures=$(dpkg --print-architecture) --components=main bookworm + harden-debian.sh"
check_eq "the history entry is dated SOURCE_DATE_EPOCH" \
  "$(date -u -d "$(cut -d'|' -f1 "$work/history")" +%s)" "$TEST_EPOCH"
check_empty "no run-specific text (temp dir, tar path) in the config" \
  "$(docker image inspect --format '{{json .}}' "$tag_a" | grep -o "${work}[^\"]*\|golden-bootstrap\.[A-Za-z0-9]*" || true)"
grep -h 'bootstrap+hardening:\|imported in' "$work/a/log" "$work/b/log" | sed 's/^/# /'
finish
