#!/usr/bin/env bash
# --root DIR never reaches outside DIR through a symlinked parent. For each OS flavour, the
# synthetic tree (fixtures/harden/make-tree.sh) is built twice: an "outside" copy and the root.
# Then, one layout at a time, a path of the root is replaced by an absolute symlink to the same
# path of the outside copy (Debian: every directory up to depth 3 and every file in /etc;
# Alpine and UBI: every directory up to depth 2: `usr -> /outside/usr`,
# `etc -> /outside/etc`, `var/lib -> /outside/var/lib`, `etc/shadow -> /outside/etc/shadow`,
# ...), plus layouts with relative links (`usr -> ../outside/usr`). EVERY file-level step runs
# on its own (--only STEP) against each layout (setuid and world-writable, which only walk
# the real root with find -P, against the top-level links), and after each run the outside tree must be
# exactly as before (path, type, mode, owner, size, mtime, ctime, link target), and the run
# must either succeed or refuse with exit 2 naming the path that resolves outside the root.
# The package steps are skipped by --root (without --chroot): they touch no file themselves.
# Regression for issue 15.3: strip-docs, remove-backups and shadow-perms checked only the
# last component, and a full run deleted a file outside the root.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# shellcheck source=fixtures/harden/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fixtures/harden/lib.sh"
require_root "$@"

work=$(mktemp -d "${TMPDIR:-/tmp}/golden-test-escape.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fingerprint DIR: every path below DIR with what a write, chmod, chown or removal changes.
fingerprint() { find "$1" -printf '%y %m %U:%G %s %T@ %C@ %p -> %l\n' | LC_ALL=C sort; }

file_steps=$(sh "$REPO/scripts/harden-debian.sh" --list-steps | awk '$2 == "file" {print $1}')
check "the step list has the file-level steps" test "$(wc -w <<<"$file_steps")" -ge 13

for os in debian alpine redhat; do
  echo "# $os"
  outside=$work/$os-outside
  pristine=$work/$os-pristine
  sh "$FIXTURES/make-tree.sh" "$os" "$outside"
  sh "$FIXTURES/make-tree.sh" "$os" "$pristine"
  before=$(fingerprint "$outside")
  # Debian: every directory up to depth 3 and every file directly in /etc (the account files,
  # login.defs, profile, os-release); Alpine and UBI: every directory up to depth 2.
  if [ "$os" = debian ]; then
    mapfile -t paths < <(cd "$pristine" && { find . -mindepth 1 -maxdepth 3 -type d -printf '%P\n'; find etc -maxdepth 1 -type f; } | LC_ALL=C sort)
  else
    mapfile -t paths < <(cd "$pristine" && find . -mindepth 1 -maxdepth 2 -type d -printf '%P\n' | LC_ALL=C sort)
  fi
  layouts=("${paths[@]/#/abs:}" rel:usr rel:etc rel:var)
  runs=0 refused=0 escaped=0 badexit=0
  for layout in "${layouts[@]}"; do
    kind=${layout%%:*} p=${layout#*:}
    t=$work/$os-root
    rm -rf "$t"
    cp -a "$pristine" "$t"
    rm -rf "${t:?}/$p"
    if [ "$kind" = abs ]; then
      ln -s "$outside/$p" "$t/$p"
    else
      ln -s "$(realpath --relative-to="$(dirname "$t/$p")" "$outside/$p")" "$t/$p"
    fi
    for step in $file_steps; do
      # setuid and world-writable walk the real root with find -P -xdev and resolve no path
      # of the tree: they run against the top-level links (etc, usr, var, ...) only.
      case $step in setuid | world-writable) [ "${p#*/}" = "$p" ] || continue ;; esac
      runs=$((runs + 1))
      rc=0
      SOURCE_DATE_EPOCH=$TEST_EPOCH sh "$REPO/scripts/harden-$os.sh" --root "$t" --only "$step" \
        >/dev/null 2>"$work/err" || rc=$?
      if [ "$(fingerprint "$outside")" != "$before" ]; then
        escaped=$((escaped + 1))
        fail "$os: $step with $kind link /$p changed the outside tree"
        diff <(printf '%s\n' "$before") <(fingerprint "$outside") | head -n 10 | sed 's/^/       /'
        rm -rf "$outside"
        sh "$FIXTURES/make-tree.sh" "$os" "$outside"
        before=$(fingerprint "$outside")
      fi
      if [ "$rc" = 2 ]; then
        refused=$((refused + 1))
        if ! grep -Eq 'resolves to .*outside the root|no os-release in' "$work/err"; then
          badexit=$((badexit + 1))
          fail "$os: $step with $kind link /$p: exit 2 without naming the escape"
          sed 's/^/       /' "$work/err" | head -n 5
        fi
      elif [ "$rc" != 0 ]; then
        badexit=$((badexit + 1))
        fail "$os: $step with $kind link /$p: exit $rc (want 0 or a refusal with 2)"
        sed 's/^/       /' "$work/err" | head -n 5
      fi
    done
  done
  check_eq "$os: ${#layouts[@]} layouts x every file step ($runs runs): the outside tree never changed" "$escaped" 0
  check_eq "$os: every run succeeded or refused with exit 2 naming the escape" "$badexit" 0
  # The links that matter are refused, not silently followed or silently skipped.
  check "$os: some runs were refused ($refused of $runs)" test "$refused" -gt 0
done

echo "# the refusals are specific"
t=$work/msg
sh "$FIXTURES/make-tree.sh" debian "$t"
sh "$FIXTURES/make-tree.sh" debian "$work/msg-outside"
rm -rf "${t:?}/usr"
ln -s "$work/msg-outside/usr" "$t/usr"
rc=0
sh "$REPO/scripts/harden-debian.sh" --root "$t" --only strip-docs 2>"$work/err" >/dev/null || rc=$?
check_eq "strip-docs with usr -> outside/usr exits 2" "$rc" 2
check "... naming the path, the link and where it leads" \
  grep -q "refusing to touch \`/usr/share/doc\`: \`$t/usr\` resolves to \`$work/msg-outside/usr\`, outside the root" "$work/err"
check "... and the outside documentation is all there" test -f "$work/msg-outside/usr/share/doc/pkg-a/README"
rc=0
sh "$REPO/scripts/harden-debian.sh" --root "$t" 2>"$work/err" >/dev/null || rc=$?
check_eq "a full run with usr -> outside/usr exits 2" "$rc" 2
check_empty "... and left the outside tree as make-tree.sh built it" \
  "$(diff <(sh "$FIXTURES/list-tree.sh" "$work/msg-outside") <(sh "$FIXTURES/make-tree.sh" debian "$work/msg-fresh" && sh "$FIXTURES/list-tree.sh" "$work/msg-fresh") || true)"

finish
