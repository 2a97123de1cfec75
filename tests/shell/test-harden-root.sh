#!/usr/bin/env bash
# The hardening scripts' file-level steps, run with --root against a synthetic tree for each
# OS flavour (tests/shell/fixtures/harden/make-tree.sh: setuid files, world-writable paths,
# extra accounts, an empty password, backups, docs, cron, caches). Checks:
#   - the result is exactly the expected listing (modes, owners, content hashes):
#     tests/shell/fixtures/harden/expected-<os>.txt (GOLDEN_UPDATE_EXPECTED=1 rewrites them;
#     review the diff), plus readable assertions on what each step must do;
#   - a second run changes nothing (idempotent), with and without SOURCE_DATE_EPOCH;
#   - package steps are skipped with --root, the manifest is valid JSON with stable fields;
#   - the setuid allowlist, --only, and the refusals (wrong OS, uid clash, symlink escape,
#     unknown step) with exit code 2.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # backquotes and $ in single quotes are literal message text
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"
command -v jq >/dev/null || { echo "FAIL - jq required: run scripts/setup.sh"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-harden.XXXXXX")
trap 'rm -rf "$work"' EXIT

harden() { # harden OS ARGS...: run the OS script, stderr to a log
  local os=$1
  shift
  sh "$REPO/scripts/harden-$os.sh" "$@" 2>>"$work/harden.log"
}
listing() { sh "$FIXTURES/list-tree.sh" "$1"; }
line_of() { grep "^$2:" "$1" || true; }

for os in alpine debian redhat; do
  echo "# $os"
  t=$work/$os
  sh "$FIXTURES/make-tree.sh" "$os" "$t"
  rc=0
  SOURCE_DATE_EPOCH=$TEST_EPOCH harden "$os" --root "$t" --skip packages || rc=$?
  check_eq "$os: harden-$os.sh --root exits 0" "$rc" 0
  listing "$t" >"$work/$os.first"
  expected=$FIXTURES/expected-$os.txt
  if [ "${GOLDEN_UPDATE_EXPECTED:-0}" = 1 ]; then
    cp "$work/$os.first" "$expected"
    echo "# rewrote $expected: review it with git diff"
  fi
  check_empty "$os: result is exactly $(basename "$expected")" "$(diff -u "$expected" "$work/$os.first" || true)"

  # accounts
  case $os in debian) nologin=/usr/sbin/nologin rootsh=/bin/bash ;; alpine) nologin=/sbin/nologin rootsh=/bin/ash ;; redhat) nologin=/sbin/nologin rootsh=/bin/bash ;; esac
  check_eq "$os: runtime user app 10001:10001, home /home/app, nologin" "$(line_of "$t/etc/passwd" app)" "app:x:10001:10001:app:/home/app:$nologin"
  check_eq "$os: runtime group app 10001" "$(line_of "$t/etc/group" app)" "app:x:10001:"
  check_eq "$os: runtime user has a locked password" "$(line_of "$t/etc/shadow" app | cut -d: -f2)" '!'
  check_eq "$os: /home/app is 750 owned by 10001:10001" "$(stat -c '%a %u:%g' "$t/home/app")" "750 10001:10001"
  check_eq "$os: root keeps its shell" "$(line_of "$t/etc/passwd" root | cut -d: -f7)" "$rootsh"
  check "$os: root is locked (shadow password starts with !)" grep -q '^root:!' "$t/etc/shadow"
  check_empty "$os: every other account has a nologin shell" "$(grep -v '^root:' "$t/etc/passwd" | grep -v ":$nologin\$" || true)"
  check_empty "$os: no empty password field in shadow" "$(awk -F: '$2 == ""' "$t/etc/shadow")"
  check_empty "$os: no empty password field in passwd" "$(awk -F: '$2 == ""' "$t/etc/passwd")"
  check "$os: the extra account's hash is locked" grep -q '^olduser:!\$6\$oldsalt' "$t/etc/shadow"
  check_eq "$os: the empty shadow password became a lock" "$(line_of "$t/etc/shadow" nopass | cut -d: -f2)" '!'
  check_eq "$os: the empty passwd password became a lock" "$(line_of "$t/etc/passwd" legacy | cut -d: -f2)" '!'
  case $os in
    redhat) want_shadow="0 0:0" ;;
    *) want_shadow="640 0:42" ;;
  esac
  check_eq "$os: /etc/shadow mode and owner" "$(stat -c '%a %u:%g' "$t/etc/shadow")" "$want_shadow"
  if [ -f "$t/etc/gshadow" ]; then
    check_eq "$os: /etc/gshadow mode and owner" "$(stat -c '%a %u:%g' "$t/etc/gshadow")" "$want_shadow"
  fi

  # setuid, world-writable
  check_empty "$os: no setuid/setgid file or directory" "$(find "$t" \( -perm -4000 -o -perm -2000 \) -print)"
  check_empty "$os: nothing world-writable but /tmp and /var/tmp" \
    "$(find "$t" \( -type f -o -type d \) -perm -0002 ! -path "$t/tmp" ! -path "$t/var/tmp" -print)"
  check_eq "$os: /tmp is 1777" "$(stat -c %a "$t/tmp")" 1777
  check_eq "$os: /var/tmp is 1777" "$(stat -c %a "$t/var/tmp")" 1777

  # core dumps, umask
  check "$os: limits.d sets a hard core limit of 0" grep -Eq '^\*[[:space:]]+hard[[:space:]]+core[[:space:]]+0$' "$t/etc/security/limits.d/10-golden-coredump.conf"
  check "$os: profile.d runs ulimit -c 0" grep -qx 'ulimit -c 0' "$t/etc/profile.d/golden-coredump.sh"
  check "$os: profile.d sets umask 027" grep -qx 'umask 027' "$t/etc/profile.d/golden-umask.sh"
  check_empty "$os: no umask other than 027 left in profile/bashrc/login.defs" \
    "$(grep -HEi '^[[:space:]]*umask[[:space:]]+[0-7]+' "$t/etc/profile" "$t/etc/bashrc" "$t/etc/login.defs" 2>/dev/null | grep -v '027' || true)"
  check_empty "$os: no nullok left in PAM" "$(grep -rl nullok "$t/etc/pam.d" 2>/dev/null || true)"

  # docs, backups, cron, caches
  check "$os: copyright files kept" test -f "$t/usr/share/doc/pkg-a/copyright" -a -f "$t/usr/share/doc/pkg-b/LICENSE"
  check_empty "$os: other documentation removed" "$(find "$t/usr/share/doc" -type f ! -name copyright ! -name LICENSE)"
  check_empty "$os: manual pages, info, translations removed" \
    "$(find "$t/usr/share/man" "$t/usr/share/info" "$t/usr/share/locale" "$t/usr/share/lintian" -type f ! -name locale.alias)"
  check "$os: empty man1 directory kept (update-alternatives needs it)" test -d "$t/usr/share/man/man1"
  check_empty "$os: no /etc/*- backups or package-manager leftovers" \
    "$(find "$t/etc" "$t/var/lib/dpkg" "$t/var/cache/debconf" -maxdepth 1 -type f \( -name '*-' -o -name '*-old' -o -name '*.dpkg-old' \) 2>/dev/null)"
  check_empty "$os: no cron spools or tables" \
    "$(cd "$t" && ls -d etc/crontab etc/cron.* etc/crontabs etc/periodic var/spool/cron 2>/dev/null || true)"
  check_empty "$os: package caches emptied" \
    "$(find "$t/var/cache/apk" "$t/var/cache/apt" "$t/var/lib/apt/lists" "$t/var/cache/dnf" "$t/root/.cache" -type f ! -name lock 2>/dev/null)"
  case $os in
    debian)
      check "$os: dpkg excludes docs for later installs" grep -qx 'path-exclude=/usr/share/doc/\*' "$t/etc/dpkg/dpkg.cfg.d/golden-nodoc"
      check "$os: apt installs no recommends" grep -q 'APT::Install-Recommends "false";' "$t/etc/apt/apt.conf.d/golden-minimal"
      ;;
    alpine)
      check_empty "$os: apk repositories are https only" "$(grep -v '^https://' "$t/etc/apk/repositories" || true)"
      ;;
    redhat)
      check "$os: dnf checks signatures, no weak deps, no docs" \
        bash -c "grep -qx gpgcheck=1 '$t/etc/dnf/dnf.conf' && grep -qx install_weak_deps=False '$t/etc/dnf/dnf.conf' && grep -qx tsflags=nodocs '$t/etc/dnf/dnf.conf'"
      check_empty "$os: no repository with gpgcheck=0" "$(grep -El '^[[:space:]]*gpgcheck[[:space:]]*=[[:space:]]*0' "$t"/etc/yum.repos.d/*.repo || true)"
      ;;
  esac

  # manifest
  m=$t/usr/share/golden/hardening.json
  check "$os: manifest is valid JSON" json_ok "$m"
  check_eq "$os: manifest header" \
    "$(jq -c '[.schema, .os, .os_version, .date, .user, .setuid_allowlist]' "$m")" \
    "$(jq -nc --arg os "$os" --arg v "$(sed -n 's/^VERSION_ID=//p' "$t/etc/os-release" | tr -d '"')" --arg d "$TEST_DATE" --arg sh "$nologin" \
      '[1, $os, $v, $d, {name: "app", uid: 10001, gid: 10001, home: "/home/app", shell: $sh}, []]')"
  check_eq "$os: manifest step statuses (package steps skipped under --root)" \
    "$(jq -r '[.steps[] | "\(.name)=\(.status)"] | join(" ")' "$m")" \
    "upgrade=skipped remove-packages=skipped clean-caches=applied package-config=applied strip-docs=applied remove-cron=applied user=applied accounts=applied shadow-perms=applied remove-backups=applied setuid=applied world-writable=applied coredumps=applied umask=applied manifest=applied"
  check "$os: manifest script_version is semver" json_ok "$m" '.script_version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")'

  # idempotency: a second run (and a third without SOURCE_DATE_EPOCH) changes nothing
  SOURCE_DATE_EPOCH=$TEST_EPOCH harden "$os" --root "$t" --skip packages
  listing "$t" >"$work/$os.second"
  check_empty "$os: second run changes nothing" "$(diff -u "$work/$os.first" "$work/$os.second" || true)"
  harden "$os" --root "$t"
  listing "$t" >"$work/$os.third"
  check_empty "$os: a run without SOURCE_DATE_EPOCH (and without --skip) changes nothing either" \
    "$(diff -u "$work/$os.first" "$work/$os.third" || true)"
done

echo "# setuid allowlist"
t=$work/allow
sh "$FIXTURES/make-tree.sh" debian "$t"
SOURCE_DATE_EPOCH=$TEST_EPOCH GOLDEN_SETUID_ALLOWLIST=/usr/bin/passwd harden debian --root "$t" --setuid-allow /usr/bin/keepme
check_eq "allowlisted /usr/bin/keepme keeps setuid+setgid" "$(stat -c %a "$t/usr/bin/keepme")" 6755
check_eq "allowlisted /usr/bin/passwd (from GOLDEN_SETUID_ALLOWLIST) keeps setuid" "$(stat -c %a "$t/usr/bin/passwd")" 4755
check_eq "others are still stripped" "$(stat -c %a "$t/usr/bin/su") $(stat -c %a "$t/usr/bin/wall")" "755 755"
check_eq "manifest lists the allowlist" "$(jq -c .setuid_allowlist "$t/usr/share/golden/hardening.json")" '["/usr/bin/passwd","/usr/bin/keepme"]'

echo "# setuid allowlist entries are find -path patterns, never expanded by the shell"
t=$work/allow-pattern
sh "$FIXTURES/make-tree.sh" debian "$t"
SOURCE_DATE_EPOCH=$TEST_EPOCH harden debian --root "$t" --setuid-allow '/usr/bin/*'
check_eq "the pattern /usr/bin/* keeps the setuid files below the root's /usr/bin" \
  "$(stat -c %a "$t/usr/bin/keepme" "$t/usr/bin/su" | tr '\n' ' ')" "6755 4755 "
check_eq "a setgid directory outside the pattern is still stripped" "$(stat -c %a "$t/var/mail")" 775
check_eq "the manifest lists the pattern as given" "$(jq -c .setuid_allowlist "$t/usr/share/golden/hardening.json")" '["/usr/bin/*"]'

echo "# remove-packages: the common step against a stub package manager (the real ones: test-base-*)"
# rp LIST STUCK: step_remove_packages for LIST; installed: the lines of $work/pm-state; STUCK
# survives its removal (another package needs it).
rp() {
  env LIST="$1" STUCK="$2" STATE="$work/pm-state" sh -c '
    . "$0"
    GH_NAME=harden-test.sh GH_REMOVE_LIST=$LIST
    os_pkg_present() { grep -qx "$1" "$STATE"; }
    os_pkg_remove() {
      echo "remove $*" >&2
      for p in "$@"; do [ "$p" = "$STUCK" ] || sed -i "/^$p\$/d" "$STATE"; done
    }
    step_remove_packages' "$REPO/scripts/harden-common.sh"
}
printf 'pkg-a\npkg-c\nother\n' >"$work/pm-state"
rc=0
out=$(rp "pkg-a pkg-b pkg-c" "" 2>&1) || rc=$?
check_eq "remove-packages succeeds" "$rc" 0
check_eq "only the installed packages of the list are removed, in one call" "$(grep '^remove ' <<<"$out")" "remove pkg-a pkg-c"
check_eq "they are gone, the others stay" "$(cat "$work/pm-state")" other
out=$(rp "pkg-a pkg-b" "" 2>&1)
check "nothing installed: said so, nothing removed" bash -c 'grep -q "none of the removal list is installed" <<<"$1" && ! grep -q "^remove " <<<"$1"' _ "$out"
printf 'pkg-a\npkg-c\n' >"$work/pm-state"
rc=0
out=$(rp "pkg-a pkg-c" pkg-c 2>&1) || rc=$?
check_eq "a package that survives its removal fails the step (exit 2)" "$rc" 2
check "... naming it" grep -q 'error: pkg-c is still installed after its removal' <<<"$out"

echo "# --only"
t=$work/only
sh "$FIXTURES/make-tree.sh" alpine "$t"
harden alpine --root "$t" --only setuid,world-writable
check_empty "--only setuid,world-writable strips setuid" "$(find "$t" \( -perm -4000 -o -perm -2000 \) -print)"
check "--only leaves the other steps alone (no user, no manifest)" \
  bash -c "! grep -q '^app:' '$t/etc/passwd' && test ! -e '$t/usr/share/golden/hardening.json'"

echo "# world-writable: the scanner's rule (a sticky directory on the allow list, nothing else)"
t=$work/ww
sh "$FIXTURES/make-tree.sh" debian "$t"
mkdir -p "$t/srv/shared" "$t/srv/open" "$t/srv/drop" "$t/srv/unlisted"
chmod 1777 "$t/srv/shared" "$t/srv/unlisted"
chmod 0777 "$t/srv/open" "$t/srv/drop" "$t/tmp"
: >"$work/harden.log"
harden debian --root "$t" --only world-writable --world-writable-allow /srv/shared --world-writable-allow /srv/drop
mode() { stat -c %a "$t$1"; }
check_eq "an allowed sticky directory keeps 1777" "$(mode /srv/shared)" 1777
check_eq "an allowed directory without the sticky bit loses world write (the scanner fails it)" "$(mode /srv/drop)" 775
check_eq "a sticky directory that is not allowed loses world write" "$(mode /srv/unlisted)" 1775
check_eq "a plain world-writable directory loses world write" "$(mode /srv/open)" 775
check_eq "/tmp without the sticky bit is made 1777" "$(mode /tmp)" 1777
check "the repair of /tmp is logged" grep -q 'made sticky (1777): /tmp$' "$work/harden.log"
check "the stripped directories are logged" bash -c 'for p in /srv/drop /srv/unlisted /srv/open; do grep -q "removed world write: $p\$" "$1" || exit 1; done' _ "$work/harden.log"
check "the allowed sticky directory is not logged" bash -c '! grep -q "/srv/shared" "$1"' _ "$work/harden.log"
t=$work/ww-env
sh "$FIXTURES/make-tree.sh" debian "$t"
mkdir -p "$t/srv/shared"
chmod 1777 "$t/srv/shared"
GOLDEN_WORLD_WRITABLE_ALLOW=/var/tmp,/srv/shared harden debian --root "$t" --only world-writable
check_eq "GOLDEN_WORLD_WRITABLE_ALLOW replaces the default: /tmp is no longer allowed" "$(mode /tmp)" 775
check_eq "... /var/tmp is made 1777" "$(mode /var/tmp)" 1777
check_eq "... /srv/shared keeps 1777" "$(mode /srv/shared)" 1777
policy_allow=$(awk '/^world_writable_allow:/ { on = 1; next } on && /^  - / { print $2; next } on { exit }' "$REPO/configs/policy.yaml" | tr '\n' ' ')
script_allow=$(sed -n 's/^GH_WW_DEFAULT="\(.*\)"$/\1/p' "$REPO/scripts/harden-common.sh")
check_eq "the hardening default is the scan policy's world_writable_allow (configs/policy.yaml)" "${policy_allow% }" "$script_allow"

echo "# refusals (exit 2, nothing half-done)"
expect_fail() { # expect_fail DESCRIPTION MESSAGE-REGEX COMMAND...
  local desc=$1 re=$2 rc=0
  shift 2
  "$@" 2>"$work/err" >/dev/null || rc=$?
  if [ "$rc" -eq 2 ] && grep -Eq -- "$re" "$work/err"; then ok "$desc"; else
    fail "$desc (exit $rc)"
    sed 's/^/       /' "$work/err"
  fi
}
t=$work/refuse
sh "$FIXTURES/make-tree.sh" debian "$t"
expect_fail "harden-alpine.sh refuses a Debian tree" 'is `debian`, not alpine' sh "$REPO/scripts/harden-alpine.sh" --root "$t"
expect_fail "unknown step is a usage error" 'unknown step `nope`' sh "$REPO/scripts/harden-debian.sh" --root "$t" --skip nope
expect_fail "unknown argument is a usage error" 'unknown argument `--frobnicate`' sh "$REPO/scripts/harden-debian.sh" --frobnicate
expect_fail "--chroot needs a root other than /" '--chroot needs --root DIR' sh "$REPO/scripts/harden-debian.sh" --chroot
expect_fail "SOURCE_DATE_EPOCH must be numeric" 'SOURCE_DATE_EPOCH must be a number' env SOURCE_DATE_EPOCH=yesterday sh "$REPO/scripts/harden-debian.sh" --root "$t"
cp "$t/etc/passwd" "$work/passwd.before"
cp "$t/etc/shadow" "$work/shadow.before"
printf 'broken-entry\n' >>"$t/etc/shadow"
expect_fail "a malformed /etc/shadow line is refused, naming file and line" '/etc/shadow: malformed line `broken-entry`' sh "$REPO/scripts/harden-debian.sh" --root "$t" --only accounts
check_eq "the malformed /etc/shadow is left as it was" "$(tail -n 1 "$t/etc/shadow")" broken-entry
cp "$work/shadow.before" "$t/etc/shadow"
printf 'short:x:1:1\n' >>"$t/etc/passwd"
expect_fail "a /etc/passwd line without 7 fields is refused" '/etc/passwd: malformed line `short:x:1:1` \(expected 7 fields\)' sh "$REPO/scripts/harden-debian.sh" --root "$t" --only accounts
cp "$work/passwd.before" "$t/etc/passwd"
printf 'intruder:x:10001:10001::/:/bin/sh\n' >>"$t/etc/passwd"
expect_fail "a relative setuid allowlist entry is refused" 'setuid allowlist entry `usr/bin/su` must be an absolute path' sh "$REPO/scripts/harden-debian.sh" --root "$t" --setuid-allow usr/bin/su
expect_fail "a relative world-writable allow entry is refused" 'world-writable allow entry `srv/x` must be an absolute path' sh "$REPO/scripts/harden-debian.sh" --root "$t" --world-writable-allow srv/x
expect_fail "a glob world-writable allow entry is refused (the policy takes exact paths)" 'world-writable allow entry `/srv/\*` must be a plain directory path' env GOLDEN_WORLD_WRITABLE_ALLOW='/srv/*' sh "$REPO/scripts/harden-debian.sh" --root "$t"
expect_fail "uid 10001 taken by another user is refused" 'uid 10001 is taken by user `intruder`' sh "$REPO/scripts/harden-debian.sh" --root "$t" --only user
cp "$work/passwd.before" "$t/etc/passwd"
outside=$work/outside
mkdir -p "$outside"
rm -rf "$t/etc/security"
ln -s "$outside" "$t/etc/security"
expect_fail "an absolute symlink leading out of the root is refused" 'resolves to .*outside the root' sh "$REPO/scripts/harden-debian.sh" --root "$t" --only coredumps
check_empty "nothing was written outside the root" "$(find "$outside" -mindepth 1)"
check "help lists the steps" bash -c "sh '$REPO/scripts/harden-redhat.sh' --help | grep -q 'Steps: upgrade remove-packages'"

finish
