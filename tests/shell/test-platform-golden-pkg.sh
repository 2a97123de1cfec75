#!/usr/bin/env bash
# golden-pkg (platform-images/common/golden-pkg), the working-tree copy mounted over the one in a
# real Debian platform image (nginx), as root the way a platform Dockerfile's RUN runs it:
#   - `finalize` re-applies the base's setuid and world-writable hardening: a setuid file and a
#     setgid directory a package left are stripped (an allowlisted file keeps its bit), a
#     world-writable file and a sticky world-writable directory outside /tmp lose the write bit
#     (the scanner allows only /tmp and /var/tmp), /tmp stays 1777; package indexes and
#     temporary files are gone;
#   - it fails loudly, with a hint, on an image without the golden base's hardening scripts, as
#     a non-root user, and on an unknown command.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

image=$(pt_image nginx)
echo "image: $image"
gp=$PT_ROOT/platform-images/common/golden-pkg

# in_image [DOCKER-RUN-OPTS...] -- SCRIPT: SCRIPT under sh in a throw-away container of the image,
# with the working-tree golden-pkg; stdout and stderr together.
in_image() {
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  docker run --rm --network none -v "$gp:/usr/local/bin/golden-pkg:ro" "${opts[@]}" \
    --entrypoint sh "$image" -c "$2" 2>&1
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
