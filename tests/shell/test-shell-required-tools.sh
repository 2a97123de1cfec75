#!/usr/bin/env bash
# The shell tests fail, never skip, when a tool they need is missing (issue 15, Low): the
# OpenPGP self-signature check of test-platform-files.sh (pt_check_self_signature) with gpg
# absent must count a failure and make pt_done exit 1; with gpg present it must pass on the
# committed Microsoft key.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # the bash -c script is single-quoted on purpose
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v gpg >/dev/null || { echo "FAIL - gpg required: run scripts/setup.sh (installs gnupg)"; exit 1; }
key=platform-images/common/microsoft.asc
fpr=BC528686B50D79E339D3721CEB3E94ADBE1229CF
fails=0
run() { # run WANT-RC DESCRIPTION ENV... : pt_check_self_signature in a fresh shell, then pt_done
  local want=$1 desc=$2 rc=0 out
  shift 2
  out=$(env "$@" bash -c '. tests/shell/lib/platform.sh; pt_check_self_signature "$0" "$1"; pt_done' "$key" "$fpr" 2>&1) || rc=$?
  if [ "$rc" = "$want" ]; then printf 'ok   - %s\n' "$desc"; else
    printf 'FAIL - %s (exit %s, want %s)\n' "$desc" "$rc" "$want"
    printf '%s\n' "$out" | sed 's/^/       /'
    fails=$((fails + 1))
  fi
  LAST_OUT=$out
}
run 0 "gpg present: the committed key's self-signature checks out" PATH="$PATH"
run 1 "gpg missing: the check fails (pt_done exits 1)" GOLDEN_TEST_GPG=/nonexistent/gpg PATH="$PATH"
if grep -q 'FAIL gpg (/nonexistent/gpg) not found' <<<"$LAST_OUT"; then echo "ok   - ... saying gpg is missing and how to install it"; else
  echo "FAIL - ... saying gpg is missing"; fails=$((fails + 1)); fi
if [ "$fails" -gt 0 ]; then echo "$fails checks FAILED"; exit 1; fi
echo "all 3 checks passed"
