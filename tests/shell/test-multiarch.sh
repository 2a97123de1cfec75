#!/usr/bin/env bash
# Multi-architecture for real on this machine, under emulation: `scripts/local.sh --only nginx`
# with GOLDEN_ARCHS="amd64 arm64" (what `make local ARCHS="amd64 arm64"` runs, kept to the
# Debian base and one small platform: emulated builds are slow), then:
#   - every image is built, scanned and pushed per architecture (build/push records and the
#     scan report name it; the arm64 SBOM's packages are arch=arm64 or arch=all, none amd64);
#   - one OCI index per image under the real tags, with linux/amd64 and linux/arm64
#     (skopeo inspect --raw, an independent client), each manifest's config of its
#     architecture; `docker pull --platform linux/arm64` of the index gives the arm64 image,
#     and it runs (uname -m = aarch64, under emulation);
#   - `golden-push index` refuses a set missing arm64: non-zero exit, nothing moved;
#   - the arm64 base is reproducible: a second, independent arm64 bootstrap (in parallel with
#     the chain, from its own copy of the .deb cache) with the same SOURCE_DATE_EPOCH gives the
#     same rootfs tar sha256 as the layer diff id of the image the chain pushed.
# The emulated steps' wall times are printed (`#` lines); benchmarks compare them
# (scripts/bench-multiarch.sh), not this test.
# Needs root, the Docker engine and arm64 emulation (GOLDEN_ARCHS=arm64 scripts/setup.sh, which
# scripts/test.sh runs); fails loudly without them. Uses the local registry 127.0.0.1:5000 and
# reports/ like test-local-pipeline.sh; stops the registry afterwards when it was not running.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"
require_docker
cd "$REPO"
for t in jq curl skopeo; do command -v "$t" >/dev/null 2>&1 || { echo "FAIL - $t required: run scripts/setup.sh"; exit 1; }; done
scripts/ensure-emulation.sh arm64 >/dev/null 2>&1 ||
  { echo "FAIL - arm64 emulation required: GOLDEN_ARCHS=arm64 scripts/setup.sh ($(scripts/ensure-emulation.sh arm64 2>&1 | tail -n 1))"; exit 1; }
[ "$(dpkg --print-architecture)" = amd64 ] || { echo "FAIL - this test emulates arm64 on an amd64 machine"; exit 1; }

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
export GOLDEN_SHA="${GOLDEN_SHA:-$(git rev-parse HEAD)}"
export GOLDEN_DEBIAN_CACHE_DIR="${GOLDEN_DEBIAN_CACHE_DIR:-$REPO/.cache/debian-debs}"
PUSH="${CARGO_TARGET_DIR:-target}/debug/golden-push"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-multiarch.XXXXXX")
was_running=0
if scripts/registry.sh status --dir .cache/registry >/dev/null 2>&1; then was_running=1; fi
pulled=()
cleanup() {
  [ -z "${repro_pid:-}" ] || kill "$repro_pid" 2>/dev/null || true
  if [ "${#pulled[@]}" -gt 0 ]; then docker image rm -f "${pulled[@]}" >/dev/null 2>&1 || true; fi
  if [ "$was_running" = 0 ]; then scripts/registry.sh stop --dir .cache/registry >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Without an arm64 handler a foreign bootstrap stops at once, with the hint, writing nothing
# (the same rule as golden-build's check: scripts/ensure-emulation.sh --check).
mkdir -p "$work/no-binfmt"
: >"$work/no-binfmt/status"
rc=0
GOLDEN_BINFMT_MISC="$work/no-binfmt" scripts/bootstrap-debian.sh --arch arm64 --no-import \
  --output "$work/no-binfmt/rootfs.tar" >/dev/null 2>"$work/no-binfmt/err" || rc=$?
check_eq "no arm64 handler: the bootstrap exits 2 before mmdebstrap" "$rc" 2
check "the refusal names the handler and the setup hint" \
  grep -q 'qemu-aarch64.*GOLDEN_ARCHS=arm64 scripts/setup.sh' "$work/no-binfmt/err"
check "nothing was written" test ! -e "$work/no-binfmt/rootfs.tar"

# One architecture rule for every script (scripts/lib/arch.sh): an unknown name is refused up
# front naming where it came from, before anything is built or pushed.
rc=0
GOLDEN_ARCHS="amd64 s390x" scripts/local.sh --no-setup --only nginx >/dev/null 2>"$work/bad-archs.err" || rc=$?
check_eq "local.sh with GOLDEN_ARCHS naming s390x exits 2" "$rc" 2
check "the refusal names GOLDEN_ARCHS and the supported names" \
  grep -q 'GOLDEN_ARCHS: architecture .s390x. is not supported (amd64, arm64' "$work/bad-archs.err"
rc=0
GOLDEN_ARCH=riscv64 scripts/build-platforms.sh --only nginx-1.22-debian >/dev/null 2>"$work/bad-arch.err" || rc=$?
check_eq "build-platforms.sh with GOLDEN_ARCH=riscv64 exits 2" "$rc" 2
check "the refusal names GOLDEN_ARCH" grep -q 'GOLDEN_ARCH: architecture .riscv64. is not supported' "$work/bad-arch.err"

# The independent arm64 bootstrap, started first: it runs beside the chain (2 cores, each
# emulated step mostly single-threaded).
mkdir -p "$work/repro" "$GOLDEN_DEBIAN_CACHE_DIR"
cp -a -- "$GOLDEN_DEBIAN_CACHE_DIR" "$work/repro/debs"
repro_start=$(date +%s)
env -u GOLDEN_DEBIAN_CACHE_DIR TMPDIR="$work/repro" scripts/bootstrap-debian.sh --arch arm64 \
  --cache-dir "$work/repro/debs" --no-import --output "$work/repro/rootfs.tar" \
  >"$work/repro/out" 2>"$work/repro/log" &
repro_pid=$!

start=$(date +%s)
rc=0
env -u GOLDEN_ONLY GOLDEN_ARCHS="amd64 arm64" scripts/local.sh --no-setup --only nginx >"$work/local.out" 2>"$work/local.log" || rc=$?
chain_secs=$(($(date +%s) - start))
check_eq "make local ARCHS=\"amd64 arm64\" --only nginx succeeds (${chain_secs} s)" "$rc" 0
if [ "$rc" -ne 0 ]; then
  tail -n 40 "$work/local.log" | sed 's/^/       /'
  finish
fi
grep -E 'under emulation|built ' "$work/local.log" | sed 's/^/# /'

ids=(base-debian nginx-1.22-debian)
for id in "${ids[@]}"; do
  for arch in amd64 arm64; do
    d=reports/$id/$arch
    check_eq "$id $arch: build record, scan report and push record name $arch" \
      "$(jq -r .arch "$d/build-record.json") $(jq -r '.image.architecture // .architecture' "$d/report.json") $(jq -r .arch "$d/push-record.json")" \
      "$arch $arch $arch"
  done
done
check_empty "the arm64 SBOM has no amd64 package" \
  "$(jq -r '.components[]?.purl // empty | select(test("arch=amd64"))' reports/nginx-1.22-debian/arm64/sbom.cdx.json)"
check "the arm64 SBOM's packages are arch=arm64" \
  test "$(jq '[.components[]?.purl // empty | select(test("arch=arm64"))] | length' reports/nginx-1.22-debian/arm64/sbom.cdx.json)" -gt 50

# ---- the indexes, read by skopeo ---------------------------------------------------------
check_eq "one successful index per image in reports/index-record.json" \
  "$(jq -r '[.indexes[] | select(.result == "success") | "\(.id):\(.manifests | map(.arch) | sort | join(","))"] | sort | join(" ")' reports/index-record.json)" \
  "base-debian:amd64,arm64 nginx-1.22-debian:amd64,arm64"
for id in "${ids[@]}"; do
  ref=$(jq -r --arg id "$id" '.indexes[] | select(.id == $id) | .tags[0]' reports/index-record.json)
  skopeo inspect --raw --tls-verify=false "docker://$ref" >"$work/$id.index.json"
  check_eq "$ref is an OCI index (skopeo)" "$(jq -r .mediaType "$work/$id.index.json")" \
    "application/vnd.oci.image.index.v1+json"
  check_eq "$ref lists linux/amd64 and linux/arm64 (skopeo)" \
    "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")' "$work/$id.index.json")" \
    "linux/amd64 linux/arm64"
  for arch in amd64 arm64; do
    got=$(skopeo inspect --tls-verify=false --override-os linux --override-arch "$arch" "docker://$ref" | jq -r .Architecture)
    check_eq "$ref: the $arch manifest's config says $arch" "$got" "$arch"
  done
done

# ---- docker pull --platform of the index: the arm64 image, and it runs ------------------------
nginx_ref=$(jq -r '.indexes[] | select(.id == "nginx-1.22-debian") | .tags[0]' reports/index-record.json)
pull_ref=$nginx_ref
if docker image inspect "$nginx_ref" >/dev/null 2>&1; then
  # Do not replace the engine's own tag: pull by digest instead.
  pull_ref="${nginx_ref%:*}@$(jq -r '.indexes[] | select(.id == "nginx-1.22-debian") | .digest' reports/index-record.json)"
fi
pulled+=("$pull_ref")
if docker pull -q --platform linux/arm64 "$pull_ref" >"$work/pull.log" 2>&1; then
  check_eq "docker pull --platform linux/arm64 of the index gives an arm64 image" \
    "$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$pull_ref")" "linux/arm64"
  check_eq "it runs (emulated): uname -m" \
    "$(docker run --rm --platform linux/arm64 --entrypoint uname "$pull_ref" -m 2>/dev/null)" "aarch64"
else
  fail "docker pull --platform linux/arm64 $pull_ref failed: $(tail -n 2 "$work/pull.log")"
fi

# ---- the merge refuses a set without arm64 -------------------------------------------------
before=$(skopeo inspect --raw --tls-verify=false "docker://$nginx_ref" | sha256sum | cut -d' ' -f1)
rc=0
"$PUSH" index --records reports/nginx-1.22-debian/amd64 --expect-arch amd64,arm64 \
  --record "$work/refused.json" >"$work/refused.out" 2>"$work/refused.err" || rc=$?
check "golden-push index without the arm64 push exits non-zero (got $rc)" test "$rc" -ne 0
check "the refusal names the missing architecture" grep -q arm64 "$work/refused.err" "$work/refused.out"
after=$(skopeo inspect --raw --tls-verify=false "docker://$nginx_ref" | sha256sum | cut -d' ' -f1)
check_eq "the moving tag still points at the two-architecture index" "$after" "$before"

# ---- the arm64 base, bootstrapped twice ----------------------------------------------------------
repro_rc=0
wait "$repro_pid" || repro_rc=$?
repro_pid=
check_eq "the independent arm64 bootstrap succeeds ($(($(date +%s) - repro_start)) s)" "$repro_rc" 0
if [ "$repro_rc" -eq 0 ]; then
  base_id=$(jq -r .image_id reports/base-debian/arm64/build-record.json)
  diff_id=$(docker image inspect --format '{{index .RootFS.Layers 0}}' "$base_id")
  check_eq "same SOURCE_DATE_EPOCH, same arm64 layer: the second bootstrap's tar sha256 is the pushed base's diff id" \
    "sha256:$(sha256sum "$work/repro/rootfs.tar" | cut -d' ' -f1)" "$diff_id"
else
  tail -n 20 "$work/repro/log" | sed 's/^/       /'
fi
grep -h 'bootstrap+hardening:' "$work/repro/log" | sed 's/^/# arm64 (independent): /'
finish
