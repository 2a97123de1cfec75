#!/usr/bin/env bash
# Reproducibility of the Debian bootstrap: two independent runs of bootstrap-debian.sh (in
# parallel, separate temp dirs, each downloading on its own unless GOLDEN_DEBIAN_CACHE_DIR
# is set) with the same SOURCE_DATE_EPOCH must give the same rootfs tar sha256 and, after
# `docker import`, the same layer diff id (RootFS.Layers), equal to that sha256.
# Same epoch + same archive state = same digest; an archive update between the two runs (a
# few seconds apart) would be the only legitimate difference.
# Needs root (mmdebstrap) and the Docker engine; fails, never skips, without them.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"
require_docker
cd "$REPO"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-repro.XXXXXX")
tag_a=$(unique_tag repro-a)
tag_b=$(unique_tag repro-b)
cleanup() {
  docker image rm -f "$tag_a" "$tag_b" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/a" "$work/b"

run() { # run NAME TAG
  TMPDIR=$work/$1 SOURCE_DATE_EPOCH=$TEST_EPOCH scripts/bootstrap-debian.sh \
    --output "$work/$1/rootfs.tar" --tag "$2" --label org.opencontainers.image.title=repro-test \
    >"$work/$1/id" 2>"$work/$1/log"
}
start=$(date +%s)
rc_a=0
rc_b=0
run a "$tag_a" &
pid_a=$!
run b "$tag_b" &
pid_b=$!
wait "$pid_a" || rc_a=$?
wait "$pid_b" || rc_b=$?
check_eq "two parallel bootstraps succeed ($(($(date +%s) - start)) s)" "$rc_a $rc_b" "0 0"
if [ "$rc_a" -ne 0 ] || [ "$rc_b" -ne 0 ]; then
  tail -n 20 "$work/a/log" "$work/b/log" | sed 's/^/       /'
  finish
fi

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
check_eq "identical layer diff id after import" "$layer_b" "$layer_a"
check_eq "the diff id is the tar's sha256" "$layer_a" "[\"sha256:$sha_a\"]"
check_eq "bootstrap-debian.sh printed the imported image id" "$(cat "$work/a/id")" \
  "$(docker image inspect --format '{{.Id}}' "$tag_a")"
grep -h 'bootstrap+hardening:' "$work/a/log" "$work/b/log" | sed 's/^/# /'
finish
