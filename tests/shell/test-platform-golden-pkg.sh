#!/usr/bin/env bash
# golden-pkg (platform-images/common/golden-pkg), the working-tree copy mounted over the one in a
# real Debian platform image (nginx), as root the way a platform Dockerfile's RUN runs it:
#   - `finalize` re-applies the base's setuid and world-writable hardening: a setuid file and a
#     setgid directory a package left are stripped (an allowlisted file keeps its bit), a
#     world-writable file and a sticky world-writable directory outside /tmp lose the write bit
#     (the scanner allows only /tmp and /var/tmp), /tmp stays 1777; package indexes and
#     temporary files are gone;
#   - one world-writable rule: the paths golden-scan flags (GOLDEN-PERM-001) in a layer with a
#     sticky 1777 directory, an open directory, a world-writable file and a non-sticky /tmp are
#     exactly those finalize repairs, with the default allow list and with an extra allowed
#     directory (the policy's world_writable_allow, GOLDEN_WORLD_WRITABLE_ALLOW); after finalize
#     the scanner flags nothing;
#   - it fails loudly, with a hint, on an image without the golden base's hardening scripts, as
#     a non-root user, and on an unknown command.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

image=$(pt_image nginx)
echo "image: $image"
gp=$PT_ROOT/platform-images/common/golden-pkg

# in_image [DOCKER-RUN-OPTS...] -- SCRIPT: SCRIPT under sh in a throw-away container of the image,
# with the working-tree golden-pkg; stdout and stderr together (joined inside the container: docker
# carries the two streams apart, so their order would be lost outside).
in_image() {
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  docker run --rm --network none -v "$gp:/usr/local/bin/golden-pkg:ro" "${opts[@]}" \
    --entrypoint sh "$image" -c "exec 2>&1; $2" 2>&1
}

check "golden-pkg os: debian" [ "$(in_image -- 'golden-pkg os')" = debian ]

# What a package step might leave behind, then finalize, then the modes.
out=$(in_image --user 0 -- '
set -e
mkdir -p /usr/local/lib/t /srv/sgid /var/lib/drop /var/lib/apt/lists
printf x >/usr/local/lib/t/suid && chmod 4755 /usr/local/lib/t/suid
printf x >/usr/local/lib/t/keep && chmod 4755 /usr/local/lib/t/keep
printf x >/usr/local/lib/t/ww && chmod 0666 /usr/local/lib/t/ww
chmod 2775 /srv/sgid
chmod 1777 /var/lib/drop
printf x >/var/lib/apt/lists/example_dists_bookworm_main_binary-amd64_Packages
printf x >/tmp/left-by-the-build
GOLDEN_SETUID_ALLOWLIST=/usr/local/lib/t/keep golden-pkg finalize
echo "=== modes"
stat -c "%a %n" /usr/local/lib/t/suid /usr/local/lib/t/keep /usr/local/lib/t/ww /srv/sgid /var/lib/drop /tmp
echo "=== left"
ls -A /var/lib/apt/lists /tmp
') || { printf '%s\n' "$out" | sed 's/^/    | /'; pt_die "golden-pkg finalize failed"; }
modes=$(sed -n '/^=== modes$/,/^=== left$/p' <<<"$out" | sed '1d;$d')
mode_of() { awk -v p="$1" '$2 == p { print $1 }' <<<"$modes"; }
check "finalize strips a setuid file ($(mode_of /usr/local/lib/t/suid))" [ "$(mode_of /usr/local/lib/t/suid)" = 755 ]
check "finalize keeps an allowlisted setuid file ($(mode_of /usr/local/lib/t/keep))" [ "$(mode_of /usr/local/lib/t/keep)" = 4755 ]
check "finalize strips a setgid directory ($(mode_of /srv/sgid))" [ "$(mode_of /srv/sgid)" = 775 ]
check "finalize removes world write from a file ($(mode_of /usr/local/lib/t/ww))" [ "$(mode_of /usr/local/lib/t/ww)" = 664 ]
check "finalize removes world write from a sticky directory outside /tmp ($(mode_of /var/lib/drop))" [ "$(mode_of /var/lib/drop)" = 1775 ]
check "/tmp stays 1777 ($(mode_of /tmp))" [ "$(mode_of /tmp)" = 1777 ]
left=$(sed -n '/^=== left$/,$p' <<<"$out" | sed '1d' | grep -v -e '^/' -e '^$' || true)
check "finalize empties the package indexes and /tmp${left:+ (left: $(pt_oneline "$left"))}" [ -z "$left" ]
check "the hardening script logged what it stripped" grep -q 'stripped setuid/setgid: /usr/local/lib/t/suid' <<<"$out"

# One world-writable rule, the scanner's: the paths golden-scan flags in a layer a package step
# left (GOLDEN-PERM-001) are exactly the paths `golden-pkg finalize` repairs, and after finalize
# the scanner flags none. A sticky 1777 directory outside the allow list is flagged and repaired;
# one on the allow list (the scan policy's world_writable_allow, GOLDEN_WORLD_WRITABLE_ALLOW for
# finalize) is accepted by both.
scan_bin="${CARGO_TARGET_DIR:-$PT_ROOT/target}/debug/golden-scan"
(cd "$PT_ROOT" && cargo build -q -p golden-scan) || pt_die "golden-scan could not be built"
policy=$PT_TMP/policy.yaml
sed 's|^  - /var/tmp$|  - /var/tmp\n  - /srv/shared|' "$PT_ROOT/configs/policy.yaml" >"$policy"
grep -q '^  - /srv/shared$' "$policy" || pt_die "could not add /srv/shared to the policy's world_writable_allow"
# commit_after NAME IMAGE ENV SCRIPT: run SCRIPT as root in a container of IMAGE (ENV: VAR=VALUE
# or empty), with the working tree's golden-pkg and hardening scripts (an image reused from an
# earlier build may ship older ones), commit it as a test image, print the image name; its output goes to $PT_TMP/NAME.log.
commit_after() {
  local name="$PT_PREFIX-$1" env=()
  [ -z "$3" ] || env=(-e "$3")
  printf '%s\n' "$name" >>"$PT_CONTAINERS"
  docker run --name "$name" --network none --user 0 "${env[@]}" -v "$gp:/usr/local/bin/golden-pkg:ro" \
    -v "$PT_ROOT/scripts/harden-common.sh:/usr/share/golden/scripts/harden-common.sh:ro" \
    -v "$PT_ROOT/scripts/harden-debian.sh:/usr/share/golden/scripts/harden-debian.sh:ro" \
    --entrypoint sh "$2" -c "$4" >"$PT_TMP/$1.log" 2>&1 ||
    { sed 's/^/    | /' "$PT_TMP/$1.log"; pt_die "$1: the script failed in the container"; }
  printf '%s\n' "$name:test" >>"$PT_IMAGES"
  docker commit "$name" "$name:test" >/dev/null || pt_die "docker commit $name failed"
  printf '%s' "$name:test"
}
# flagged IMAGE POLICY: the paths golden-scan's GOLDEN-PERM-001 names, sorted, one per line.
flagged() {
  local out=$PT_TMP/scan.$RANDOM rc=0
  "$scan_bin" "$1" --trivy off --policy "$2" --format json --output "$out" >"$out.log" 2>&1 || rc=$?
  [ "$rc" -le 1 ] || { sed 's/^/    | /' "$out.log" | tail -n 20; pt_die "golden-scan $1 exited $rc"; }
  jq -r '.compliance[] | select(.id == "GOLDEN-PERM-001" and .status == "fail") | .evidence[] | sub(" \\(mode .*$"; "")' "$out/report.json" | sort
}
# repaired LOG: the paths the hardening step logged as repaired, sorted.
repaired() {
  sed -n -e 's/^.*removed world write: //p' -e 's/^.*made sticky (1777): //p' "$1" | sort
}
planted=$(commit_after planted "$image" "" '
set -e
mkdir -p /srv/shared /srv/drop /srv/open /usr/local/lib/t
chmod 1777 /srv/shared /srv/drop
chmod 0777 /srv/open /tmp
printf x >/usr/local/lib/t/ww && chmod 0666 /usr/local/lib/t/ww')
want=$(printf '%s\n' /srv/drop /srv/open /tmp /usr/local/lib/t/ww | sort)
got=$(flagged "$planted" "$policy")
check "golden-scan flags the planted paths, not the allowed sticky /srv/shared ($(pt_oneline "$got"))" [ "$got" = "$want" ]
finalized=$(commit_after finalized "$planted" GOLDEN_WORLD_WRITABLE_ALLOW=/tmp,/var/tmp,/srv/shared 'golden-pkg finalize')
fixed=$(repaired "$PT_TMP/finalized.log")
check "finalize repairs exactly the paths the scanner flags ($(pt_oneline "$fixed"))" [ "$fixed" = "$got" ]
after=$(flagged "$finalized" "$policy")
check "after finalize the scanner flags nothing${after:+ (flagged: $(pt_oneline "$after"))}" [ -z "$after" ]
modes=$(docker run --rm --network none --entrypoint stat "$finalized" -c '%a %n' /srv/shared /srv/drop /tmp 2>&1)
check "the allowed sticky directory stays 1777, the other sticky one is 1775, /tmp 1777 ($(pt_oneline "$modes"))" \
  [ "$modes" = $'1777 /srv/shared\n1775 /srv/drop\n1777 /tmp' ]
default_fixed=$(commit_after default "$planted" "" 'golden-pkg finalize' >/dev/null && repaired "$PT_TMP/default.log")
default_flagged=$(flagged "$planted" "$PT_ROOT/configs/policy.yaml")
same_and_rejected() { [ "$1" = "$2" ] && grep -qx /srv/shared <<<"$1"; }
check "with the default allow list both also reject /srv/shared ($(pt_oneline "$default_fixed"))" \
  same_and_rejected "$default_fixed" "$default_flagged"

# Refusals: exit non-zero with a message that says what to do.
refused() { # refused DESCRIPTION REGEX DOCKER-RUN-OPTS... -- SCRIPT
  local desc=$1 re=$2 out rc=0
  shift 2
  out=$(in_image "$@") || rc=$?
  if [ "$rc" -ne 0 ] && grep -Eq -- "$re" <<<"$out"; then ok "$desc"; else
    fail "$desc (exit $rc)"
    printf '%s\n' "$out" | tail -n 10 | sed 's/^/    | /'
  fi
}
refused "finalize without the golden base's hardening scripts fails with a hint" \
  'harden-debian\.sh not found: .*build FROM a golden base image' \
  --user 0 -- 'rm -rf /usr/share/golden/scripts && golden-pkg finalize'
refused "finalize as the runtime user fails: must run as root" 'must run as root' -- 'golden-pkg finalize'
refused "an unknown command is refused" "unknown command \`frob\`" -- 'golden-pkg frob'

pt_done
