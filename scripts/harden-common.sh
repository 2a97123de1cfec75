# shellcheck shell=sh
# harden-common.sh: the OS-independent hardening steps shared by harden-alpine.sh,
# harden-debian.sh and harden-redhat.sh. Sourced, never run on its own.
#
# POSIX sh on purpose: it runs inside Alpine (busybox ash, no bash), Debian (dash) and UBI
# (bash), and with --root against any directory tree from the host. Only POSIX options of
# find/sed/grep/chmod are used (busybox has no `find -perm /MODE`, musl's regex no `\|`).
#
# The OS script sets, before calling gh_main "$@":
#   GH_NAME            script name for messages (harden-debian.sh)
#   GH_OS              debian | alpine | redhat (manifest "os")
#   GH_OS_IDS          accepted os-release ID values (space-separated)
#   GH_NOLOGIN         the OS path of nologin (/usr/sbin/nologin or /sbin/nologin)
#   GH_SHADOW_POLICY   group: /etc/shadow root:shadow 0640 (root:root 0600 without a shadow
#                      group); zero: root:root 0000 (RHEL/STIG)
#   GH_REMOVE_LIST     packages the remove-packages step purges when installed
# and defines the package-manager hooks os_upgrade, os_pkg_present PKG (true when PKG is
# installed, or left as configuration files), os_pkg_remove PKG... (remove or purge them,
# refusing loudly what another package still needs) and os_pm_clean (called only when
# package steps may run), the file-level hooks os_clean_caches and os_package_config, and
# optionally os_install_tools (install missing find(1) & co.).

GH_SCRIPT_VERSION=1.0.0
GH_USER=app
GH_UID=10001
GH_GID=10001
GH_HOME=/home/app
GH_MANIFEST=/usr/share/golden/hardening.json
# Written by scripts/bootstrap-debian.sh into the roots it builds: "this tree is a container
# image" (one of the signs that let the scripts harden `/`, see gh_guard_slash).
GH_BUILD_MARKER=/usr/share/golden/image-build

# Every step, in the order it runs. Package-manager steps first, the manifest last.
GH_STEPS="upgrade remove-packages clean-caches package-config strip-docs remove-cron user accounts shadow-perms remove-backups setuid world-writable coredumps umask manifest"
GH_PKG_STEPS="upgrade remove-packages"
# Directories that may stay world-writable when sticky: the default of the scan policy's
# `world_writable_allow` (configs/policy.yaml; tests/shell/test-harden-lint.sh keeps them equal).
GH_WW_DEFAULT="/tmp /var/tmp"

gh_log() { printf '%s: %s\n' "$GH_NAME" "$*" >&2; }
gh_die() { printf '%s: error: %s\n' "$GH_NAME" "$*" >&2; exit 2; }

gh_usage() {
  # shellcheck disable=SC2153 # GH_OS_IDS is set by the OS script
  cat <<EOF
Usage: $GH_NAME [--root DIR] [--chroot] [--skip STEPS] [--only STEPS] [--setuid-allow PATH]...
       [--i-am-in-an-image-build]

Harden a $GH_OS root filesystem for use as a container base image. Every step is a
function; a second run changes nothing.

Options (each also read from the environment variable named in brackets):
  --root DIR            root filesystem to harden, default / [GOLDEN_HARDEN_ROOT]
  --chroot              with --root DIR: run the package-manager steps inside DIR with
                        chroot(8) (used by the mmdebstrap customize hook) [GOLDEN_HARDEN_CHROOT=1]
  --skip STEPS          comma-separated steps or groups to skip [GOLDEN_HARDEN_SKIP]
  --only STEPS          run only these steps or groups [GOLDEN_HARDEN_ONLY]
  --setuid-allow PATH   keep setuid/setgid bits on PATH (a find -path pattern inside the
                        root); repeatable [GOLDEN_SETUID_ALLOWLIST, comma/space-separated]
  --world-writable-allow DIR
                        a directory that may stay world-writable when it has the sticky bit,
                        like the scan policy's world_writable_allow; repeatable, added to the
                        default list [GOLDEN_WORLD_WRITABLE_ALLOW, comma/space-separated,
                        replaces the default: $GH_WW_DEFAULT]
  --i-am-in-an-image-build
                        allow hardening / without a container sign (see below); no
                        environment variable on purpose: it must be said on the command line
  --list-steps          print the steps and their kind, then exit
  --version             print the script version
  -h, --help            this help

Steps: $GH_STEPS
Groups: packages (upgrade remove-packages), files (every other step).
Package-manager steps run only when the root is / or with --chroot; otherwise they are
recorded as skipped. The root / is hardened only inside a container or image build: one of
/.dockerenv, /run/.containerenv, a non-empty \$container, $GH_BUILD_MARKER, or
--i-am-in-an-image-build; on a host it would lock every account, root's included. The
os-release ID of the root must be one of: $GH_OS_IDS (ID_LIKE does not count).
SOURCE_DATE_EPOCH, when set, dates the manifest and the new
account's password-change field (reproducible builds).
Manifest: $GH_MANIFEST (schema in docs/base-images.md).
Exit codes: 0 hardened, 2 usage or runtime error.
EOF
}

# ---------------------------------------------------------------------------------------
# helpers

# gh_at /abs/path [parent]: set GH_AT to /abs/path inside the root being hardened, after
# checking that no existing component of it (with `parent`: of its directory only, for paths
# removed or replaced as they are, symlinks included) resolves outside the root. Every path the
# steps read, write, find in, chmod or remove comes from here or from gh_find_root; it runs
# in the current shell (never in $(...)), so a refusal stops the script wherever it is called.
gh_at() {
  if [ "${2:-}" = parent ]; then gh_assert_inside "$(dirname "$1")"; else gh_assert_inside "$1"; fi
  GH_AT=$GH_P$1
}

gh_have() { command -v "$1" >/dev/null 2>&1; }

# gh_pm_out CMD...: run a package-manager command in the target (chroot when --chroot), for
# commands whose stdout is captured (queries).
gh_pm_out() {
  if [ "$GH_CHROOT" = 1 ]; then
    chroot "$GH_ROOT" "$@"
  else
    "$@"
  fi
}

# gh_pm CMD...: gh_pm_out with the output on stderr: stdout of these scripts stays empty.
gh_pm() { gh_pm_out "$@" >&2; }

# gh_in_list WORD LIST: true when WORD is one of the space-separated LIST.
gh_in_list() {
  case " $2 " in *" $1 "*) return 0 ;; esac
  return 1
}

# gh_expand_steps "a,b packages": expand groups, validate names, print space-separated.
gh_expand_steps() {
  _es_out=
  for _es_w in $(printf '%s' "$1" | tr ',' ' '); do
    case $_es_w in
      packages) _es_out="$_es_out $GH_PKG_STEPS" ;;
      files)
        for _es_s in $GH_STEPS; do
          gh_in_list "$_es_s" "$GH_PKG_STEPS" || _es_out="$_es_out $_es_s"
        done
        ;;
      *)
        gh_in_list "$_es_w" "$GH_STEPS" || gh_die "unknown step \`$_es_w\` (steps: $GH_STEPS; groups: packages, files)"
        _es_out="$_es_out $_es_w"
        ;;
    esac
  done
  printf '%s' "$_es_out"
}

# gh_assert_inside /abs/path: with --root DIR, refuse paths whose existing components
# resolve outside DIR (an absolute symlink in the tree would otherwise make us edit the host).
gh_assert_inside() {
  case $1 in /*) ;; *) gh_die "internal: \`$1\` is not an absolute path" ;; esac
  case $1/ in */../* | */./*) gh_die "refusing \`$1\`: . and .. components are not allowed" ;; esac
  [ -n "$GH_P" ] || return 0
  _ai_rest=${1#/}
  _ai_cur=$GH_P
  while [ -n "$_ai_rest" ]; do
    _ai_comp=${_ai_rest%%/*}
    if [ "$_ai_comp" = "$_ai_rest" ]; then _ai_rest=; else _ai_rest=${_ai_rest#*/}; fi
    _ai_cur=$_ai_cur/$_ai_comp
    if [ -L "$_ai_cur" ] || [ -e "$_ai_cur" ]; then
      _ai_real=$(readlink -f "$_ai_cur" 2>/dev/null) || gh_die "cannot resolve \`$_ai_cur\` (dangling symlink?)"
      case $_ai_real in
        "$GH_REAL_ROOT" | "$GH_REAL_ROOT"/*) ;;
        *) gh_die "refusing to touch \`$1\`: \`$_ai_cur\` resolves to \`$_ai_real\`, outside the root $GH_ROOT" ;;
      esac
    else
      return 0
    fi
  done
}

# gh_same FILE1 FILE2: true when both files have the same bytes. cmp where it exists
# (busybox, diffutils), else sha256sum (coreutils-single on UBI minimal has no cmp).
gh_same() {
  if gh_have cmp; then
    cmp -s "$1" "$2"
  else
    [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]
  fi
}

# gh_install FILE MODE < content: replace FILE's content when it differs, atomically (a temp
# file beside it, then rename: never a half-written /etc/passwd). An existing file keeps its
# owner and mode; a new one gets MODE (owner root when we are root).
# Returns 0 when the file changed, 1 when it was already identical.
gh_install() {
  gh_at "$1"
  _in_dst=$GH_AT
  _in_tmp=$GH_TMP/install
  cat >"$_in_tmp"
  if [ -L "$_in_dst" ]; then
    gh_die "refusing to write through the symlink \`$1\`"
  fi
  if [ -f "$_in_dst" ]; then
    if gh_same "$_in_dst" "$_in_tmp"; then
      return 1
    fi
    _in_meta=$(stat -c '%a %u:%g' "$_in_dst")
  else
    mkdir -p "$(dirname "$_in_dst")"
    _in_meta="$2 0:0"
  fi
  _in_new=$(dirname "$_in_dst")/.golden-harden.$$.$(basename "$_in_dst")
  cat "$_in_tmp" >"$_in_new"
  if [ "$(id -u)" = 0 ]; then chown "${_in_meta#* }" "$_in_new"; fi
  chmod "${_in_meta%% *}" "$_in_new"
  mv -f "$_in_new" "$_in_dst"
  gh_log "  wrote $1"
  return 0
}

# gh_install_quiet: gh_install when "unchanged" is not worth a branch.
gh_install_quiet() { gh_install "$@" || true; }

# gh_rm /abs/path...: remove paths (recursively) inside the root, logging what existed.
gh_rm() {
  for _rm_p in "$@"; do
    gh_at "$_rm_p" parent
    _rm_d=$GH_AT
    if [ -e "$_rm_d" ] || [ -L "$_rm_d" ]; then
      rm -rf "$_rm_d"
      gh_log "  removed $_rm_p"
    fi
  done
}

# gh_empty_dir /abs/dir: remove everything inside a directory, keep the directory.
gh_empty_dir() {
  gh_at "$1"
  _ed_d=$GH_AT
  [ -d "$_ed_d" ] && [ ! -L "$_ed_d" ] || return 0
  for _ed_e in "$_ed_d"/* "$_ed_d"/.[!.]* "$_ed_d"/..?*; do
    if [ -e "$_ed_e" ] || [ -L "$_ed_e" ]; then
      rm -rf "$_ed_e"
      gh_log "  removed ${_ed_e#"$GH_P"}"
    fi
  done
}

# gh_rmdir_empty /abs/dir [keep-pattern]: remove empty directories below DIR (deepest first),
# except those whose path matches the find -path pattern keep-pattern.
gh_rmdir_empty() {
  gh_at "$1"
  _re_d=$GH_AT
  [ -d "$_re_d" ] && [ ! -L "$_re_d" ] || return 0
  if [ -n "${2:-}" ]; then
    find "$_re_d" -depth -mindepth 1 -type d ! -path "$GH_P$2" -exec rmdir {} \; 2>/dev/null || true
  else
    find "$_re_d" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null || true
  fi
}

# gh_delete_files /abs/dir [find tests...]: delete the non-directories below the root's DIR
# matching the tests, logging how many went (nothing when DIR is missing or a symlink).
gh_delete_files() {
  gh_at "$1"
  _df_d=$GH_AT
  shift
  [ -d "$_df_d" ] && [ ! -L "$_df_d" ] || return 0
  _df_n=$(find "$_df_d" -mindepth 1 ! -type d "$@" -print | wc -l | tr -d ' ')
  if [ "$_df_n" -gt 0 ]; then
    find "$_df_d" -mindepth 1 ! -type d "$@" -exec rm -f {} +
    gh_log "  removed $_df_n files below ${_df_d#"$GH_P"}"
  fi
}

# gh_days: the shadow "last change" day: from SOURCE_DATE_EPOCH when set (reproducible).
gh_days() {
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    printf '%s' $((SOURCE_DATE_EPOCH / 86400))
  else
    printf '%s' $(($(date +%s) / 86400))
  fi
}

# gh_iso_date EPOCH: UTC ISO-8601 date in pure shell arithmetic (busybox and GNU date
# disagree on -d; this needs neither). Days-to-civil after H. Hinnant's algorithm.
gh_iso_date() {
  _d_s=$1
  _d_days=$((_d_s / 86400))
  _d_rem=$((_d_s % 86400))
  _d_z=$((_d_days + 719468))
  _d_era=$((_d_z / 146097))
  _d_doe=$((_d_z - _d_era * 146097))
  _d_yoe=$(((_d_doe - _d_doe / 1460 + _d_doe / 36524 - _d_doe / 146096) / 365))
  _d_y=$((_d_yoe + _d_era * 400))
  _d_doy=$((_d_doe - (365 * _d_yoe + _d_yoe / 4 - _d_yoe / 100)))
  _d_mp=$(((5 * _d_doy + 2) / 153))
  _d_day=$((_d_doy - (153 * _d_mp + 2) / 5 + 1))
  if [ "$_d_mp" -lt 10 ]; then _d_m=$((_d_mp + 3)); else _d_m=$((_d_mp - 9)); fi
  if [ "$_d_m" -le 2 ]; then _d_y=$((_d_y + 1)); fi
  printf '%04d-%02d-%02dT%02d:%02d:%02dZ' "$_d_y" "$_d_m" "$_d_day" \
    $((_d_rem / 3600)) $((_d_rem % 3600 / 60)) $((_d_rem % 60))
}

# gh_json_str STRING: a JSON string literal (quotes, backslashes and tabs escaped).
gh_json_str() {
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g')"
}

# gh_json_list "WORD..." : a one-line JSON array of strings (["a", "b"]).
gh_json_list() {
  _jl_sep=
  printf '['
  set -f # split the words, never expand them as file names
  for _jl_w in $1; do
    printf '%s%s' "$_jl_sep" "$(gh_json_str "$_jl_w")"
    _jl_sep=', '
  done
  set +f
  printf ']'
}

# gh_os_release KEY: a value from the root's os-release (never sourced: foreign file).
gh_os_release() {
  for _or_f in /etc/os-release /usr/lib/os-release; do
    gh_at "$_or_f"
    _or_f=$GH_AT
    if [ -f "$_or_f" ]; then
      sed -n "s/^$1=//p" "$_or_f" | head -n 1 | sed -e 's/^"//' -e 's/"$//' -e "s/^'//" -e "s/'$//"
      return 0
    fi
  done
  return 1
}

gh_is_nologin() {
  case $1 in
    */nologin | */false) return 0 ;;
  esac
  return 1
}

# gh_find_root ARGS...: find over the whole root on one filesystem, never into /proc, /sys
# or /dev (in a bootstrap chroot those are mounts or device nodes of the host).
gh_find_root() {
  find "$GH_ROOT" -xdev \( -path "$GH_P/proc" -o -path "$GH_P/sys" -o -path "$GH_P/dev" \) -prune -o "$@"
}

# ---------------------------------------------------------------------------------------
# the steps (step_<name with _>)

step_upgrade() { os_upgrade; }

# The OS removal list: only what is installed, and nothing may survive its removal.
step_remove_packages() {
  _rp_found=
  for _rp_p in $GH_REMOVE_LIST; do
    if os_pkg_present "$_rp_p"; then _rp_found="$_rp_found $_rp_p"; fi
  done
  if [ -z "$_rp_found" ]; then
    gh_log "  none of the removal list is installed"
    return 0
  fi
  gh_log "  removing:$_rp_found"
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  os_pkg_remove $_rp_found
  for _rp_p in $_rp_found; do
    if os_pkg_present "$_rp_p"; then gh_die "$_rp_p is still installed after its removal (another package depends on it)"; fi
  done
}

step_clean_caches() {
  if [ "$GH_PKG_OK" = 1 ]; then os_pm_clean; fi
  os_clean_caches
  gh_rm /root/.cache
}

step_package_config() { os_package_config; }

step_strip_docs() {
  # /usr/share/doc: keep license texts (Debian's copyright files), drop the rest.
  gh_delete_files /usr/share/doc ! -name copyright ! -name 'COPYING*' ! -name 'LICENSE*' \
    ! -name 'LICENCE*' ! -name 'NOTICE*'
  gh_rmdir_empty /usr/share/doc
  # manual pages: keep the empty man1..man9 directories (update-alternatives of later
  # packages, e.g. OpenJDK, creates slave links there and fails when they are missing).
  gh_delete_files /usr/share/man
  gh_rmdir_empty /usr/share/man "/usr/share/man/man[1-9]"
  gh_empty_dir /usr/share/info
  gh_empty_dir /usr/share/lintian
  gh_empty_dir /usr/share/linda
  # message catalogs: keep locale.alias (glibc reads it), drop translations.
  gh_delete_files /usr/share/locale ! -name locale.alias
  gh_rmdir_empty /usr/share/locale
}

step_remove_cron() {
  gh_rm /etc/crontab /etc/anacrontab /etc/cron.d /etc/cron.hourly /etc/cron.daily \
    /etc/cron.weekly /etc/cron.monthly /etc/cron.yearly /etc/cron.allow /etc/cron.deny \
    /etc/crontabs /etc/periodic /var/spool/cron /var/spool/anacron
}

# The runtime user: app (uid 10001) in group app (gid 10001), home /home/app, nologin shell,
# locked password.
step_user() {
  gh_at /etc/passwd
  _u_pw=$GH_AT
  gh_at /etc/group
  _u_gr=$GH_AT
  gh_at /etc/shadow
  _u_sh=$GH_AT
  gh_at /etc/gshadow
  _u_gs=$GH_AT
  [ -f "$_u_pw" ] || gh_die "no /etc/passwd in $GH_ROOT"
  [ -f "$_u_gr" ] || gh_die "no /etc/group in $GH_ROOT"

  # group
  _u_line=$(grep "^$GH_USER:" "$_u_gr" || true)
  if [ -n "$_u_line" ]; then
    _u_r=${_u_line#*:}
    _u_r=${_u_r#*:}
    [ "${_u_r%%:*}" = "$GH_GID" ] || gh_die "group \`$GH_USER\` exists with gid ${_u_r%%:*}, expected $GH_GID"
  else
    _u_other=$(cut -d: -f1,3 "$_u_gr" | grep ":$GH_GID\$" || true)
    [ -z "$_u_other" ] || gh_die "gid $GH_GID is taken by group \`${_u_other%%:*}\`"
    { cat "$_u_gr"; printf '%s:x:%s:\n' "$GH_USER" "$GH_GID"; } | gh_install_quiet /etc/group 0644
  fi
  if [ -f "$_u_gs" ] && ! grep -q "^$GH_USER:" "$_u_gs"; then
    { cat "$_u_gs"; printf '%s:!::\n' "$GH_USER"; } | gh_install_quiet /etc/gshadow 0640
  fi

  # user
  _u_want="$GH_USER:x:$GH_UID:$GH_GID:app:$GH_HOME:$GH_NOLOGIN"
  _u_line=$(grep "^$GH_USER:" "$_u_pw" || true)
  if [ -n "$_u_line" ]; then
    _u_r=${_u_line#*:}
    _u_r=${_u_r#*:}
    [ "${_u_r%%:*}" = "$GH_UID" ] || gh_die "user \`$GH_USER\` exists with uid ${_u_r%%:*}, expected $GH_UID"
    if [ "$_u_line" != "$_u_want" ]; then
      while IFS= read -r _u_l || [ -n "$_u_l" ]; do
        case $_u_l in "$GH_USER":*) printf '%s\n' "$_u_want" ;; *) printf '%s\n' "$_u_l" ;; esac
      done <"$_u_pw" | gh_install_quiet /etc/passwd 0644
    fi
  else
    _u_other=$(cut -d: -f1,3 "$_u_pw" | grep ":$GH_UID\$" || true)
    [ -z "$_u_other" ] || gh_die "uid $GH_UID is taken by user \`${_u_other%%:*}\`"
    { cat "$_u_pw"; printf '%s\n' "$_u_want"; } | gh_install_quiet /etc/passwd 0644
  fi
  if [ -f "$_u_sh" ] && ! grep -q "^$GH_USER:" "$_u_sh"; then
    { cat "$_u_sh"; printf '%s:!:%s:0:99999:7:::\n' "$GH_USER" "$(gh_days)"; } | gh_install_quiet /etc/shadow 0640
  fi

  # home
  gh_at "$GH_HOME"
  _u_home=$GH_AT
  [ ! -L "$_u_home" ] || gh_die "$GH_HOME is a symlink"
  mkdir -p "$_u_home"
  chown "$GH_UID:$GH_GID" "$_u_home"
  chmod 0750 "$_u_home"
}

# gh_lock_passwords /etc/shadow|/etc/gshadow: rewrite the password field (the second) of every
# entry: an empty one becomes a lock (`!`); in /etc/shadow a password hash is locked too (`!`
# prefixed), and so is root's `*` (`!*`), while other `*` and `!` entries stay.
gh_lock_passwords() {
  gh_at "$1"
  _lp_f=$GH_AT
  [ -f "$_lp_f" ] || return 0
  _lp_out=$GH_TMP/accounts
  : >"$_lp_out"
  while IFS= read -r _lp_l || [ -n "$_lp_l" ]; do
    case $_lp_l in
      '' | '#'*) printf '%s\n' "$_lp_l" >>"$_lp_out"; continue ;;
      *:*:*) ;;
      *) gh_die "$1: malformed line \`$_lp_l\`" ;;
    esac
    _lp_n=${_lp_l%%:*}
    _lp_r=${_lp_l#*:}
    _lp_p=${_lp_r%%:*}
    if [ -z "$_lp_p" ]; then
      _lp_p='!'
    elif [ "$1" = /etc/shadow ]; then
      case $_lp_p in
        '!'*) ;;
        '*'*) [ "$_lp_n" != root ] || _lp_p="!$_lp_p" ;;
        *) _lp_p="!$_lp_p" ;;
      esac
    fi
    printf '%s:%s:%s\n' "$_lp_n" "$_lp_p" "${_lp_r#*:}" >>"$_lp_out"
  done <"$_lp_f"
  gh_install_quiet "$1" 0640 <"$_lp_out"
}

# Lock root, lock every other account and give it a nologin shell, replace empty
# passwords with a lock, drop `nullok` from PAM.
step_accounts() {
  gh_at /etc/passwd
  _a_pw=$GH_AT
  gh_at /etc/shadow
  _a_sh=$GH_AT
  _a_out=$GH_TMP/accounts

  gh_lock_passwords /etc/shadow
  gh_lock_passwords /etc/gshadow

  [ -f "$_a_pw" ] || gh_die "no /etc/passwd in $GH_ROOT"
  : >"$_a_out"
  while IFS= read -r _a_l || [ -n "$_a_l" ]; do
    case $_a_l in
      '' | '#'*) printf '%s\n' "$_a_l" >>"$_a_out"; continue ;;
      *:*:*:*:*:*:*) ;;
      *) gh_die "/etc/passwd: malformed line \`$_a_l\` (expected 7 fields)" ;;
    esac
    _a_n=${_a_l%%:*}
    _a_r=${_a_l#*:}
    _a_p=${_a_r%%:*}
    _a_mid=${_a_r#*:}
    _a_mid=${_a_mid%:*}
    _a_s=${_a_l##*:}
    if [ -z "$_a_p" ]; then
      # an empty field here means "no password"; point it at the (locked) shadow entry
      if [ -f "$_a_sh" ] && grep -q "^$_a_n:" "$_a_sh"; then _a_p=x; else _a_p='!'; fi
    fi
    if [ "$_a_n" != root ] && ! gh_is_nologin "$_a_s"; then _a_s=$GH_NOLOGIN; fi
    printf '%s:%s:%s:%s\n' "$_a_n" "$_a_p" "$_a_mid" "$_a_s" >>"$_a_out"
  done <"$_a_pw"
  gh_install_quiet /etc/passwd 0644 <"$_a_out"

  for _a_pam in common-auth common-password system-auth password-auth; do
    gh_at "/etc/pam.d/$_a_pam"
    _a_f=$GH_AT
    if [ -f "$_a_f" ] && [ ! -L "$_a_f" ] && grep -q 'nullok' "$_a_f"; then
      sed -E -e 's/[[:space:]]+nullok(_secure)?([[:space:]]|$)/\2/g' \
        -e 's/[[:space:]]+nullok(_secure)?([[:space:]]|$)/\2/g' "$_a_f" |
        gh_install_quiet "/etc/pam.d/$_a_pam" 0644
    fi
  done
}

step_shadow_perms() {
  case $GH_SHADOW_POLICY in
    zero)
      _sp_owner=0:0
      _sp_mode=0000
      ;;
    group)
      gh_at /etc/group
      _sp_gid=$(grep '^shadow:' "$GH_AT" | cut -d: -f3 || true)
      if [ -n "$_sp_gid" ]; then
        _sp_owner=0:$_sp_gid
        _sp_mode=0640
      else
        _sp_owner=0:0
        _sp_mode=0600
      fi
      ;;
    *) gh_die "internal: unknown GH_SHADOW_POLICY \`$GH_SHADOW_POLICY\`" ;;
  esac
  for _sp_f in /etc/shadow /etc/gshadow; do
    gh_at "$_sp_f"
    _sp_d=$GH_AT
    [ -f "$_sp_d" ] || continue
    [ ! -L "$_sp_d" ] || gh_die "$_sp_f is a symlink"
    chown "$_sp_owner" "$_sp_d"
    chmod "$_sp_mode" "$_sp_d"
  done
}

step_remove_backups() {
  for _rb_d in /etc /var/lib/dpkg /var/cache/debconf /var/backups; do
    gh_at "$_rb_d"
    _rb_p=$GH_AT
    [ -d "$_rb_p" ] && [ ! -L "$_rb_p" ] || continue
    find "$_rb_p" -maxdepth 1 -type f \( -name '*-' -o -name '*-old' -o -name '*.dpkg-old' \
      -o -name '*.dpkg-dist' -o -name '*.dpkg-bak' -o -name '*.rpmsave' -o -name '*.rpmnew' \
      -o -name '*.apk-new' -o -name '*.bak' -o -name '*~' \) -print -exec rm -f {} + |
      sed "s|^$GH_P|$GH_NAME:   removed |" >&2
  done
}

step_setuid() {
  set --
  set -f # the allowlist holds find -path patterns: the shell must not expand them
  for _su_a in $GH_SETUID_ALLOW; do
    set -- "$@" ! -path "$GH_P$_su_a"
  done
  set +f
  gh_find_root \( -type f -o -type d \) \( -perm -4000 -o -perm -2000 \) "$@" \
    -print -exec chmod ug-s {} + | sed "s|^$GH_P|$GH_NAME:   stripped setuid/setgid: |" >&2
  _su_left=$(gh_find_root \( -type f -o -type d \) \( -perm -4000 -o -perm -2000 \) "$@" -print)
  [ -z "$_su_left" ] || gh_die "setuid/setgid bits remain on: $_su_left"
}

# The scanner's rule (golden-scan GOLDEN-PERM-*, `world_writable_allow` in configs/policy.yaml):
# nothing is world-writable but a sticky directory on the allow list (GH_WW_ALLOW, by default
# /tmp and /var/tmp, the policy's default). Every other world-writable path loses the write bit,
# an allowed directory without the sticky bit too; /tmp and /var/tmp, when allowed, end as 1777.
step_world_writable() {
  set --
  set -f # allow-list entries are paths, never expanded
  for _ww_a in $GH_WW_ALLOW; do
    case $_ww_a in
      /tmp | /var/tmp) set -- "$@" ! -path "$GH_P$_ww_a" ;; # made 1777 below
      *) set -- "$@" ! \( -type d -path "$GH_P$_ww_a" -perm -1000 \) ;;
    esac
  done
  set +f
  gh_find_root \( -type f -o -type d \) -perm -0002 "$@" \
    -print -exec chmod o-w {} + | sed "s|^$GH_P|$GH_NAME:   removed world write: |" >&2
  _ww_left=$(gh_find_root \( -type f -o -type d \) -perm -0002 "$@" -print)
  [ -z "$_ww_left" ] || gh_die "world-writable paths remain: $_ww_left"
  for _ww in /tmp /var/tmp; do
    gh_in_list "$_ww" "$GH_WW_ALLOW" || continue
    gh_at "$_ww"
    _ww_d=$GH_AT
    [ ! -L "$_ww_d" ] || gh_die "$_ww is a symlink"
    mkdir -p "$_ww_d"
    # World-writable without the sticky bit fails the scanner: say that it was repaired.
    [ -z "$(find "$_ww_d" -prune -perm -0002 ! -perm -1000 -print)" ] || gh_log "  made sticky (1777): $_ww"
    chmod 1777 "$_ww_d"
  done
}

step_coredumps() {
  gh_install_quiet /etc/security/limits.d/10-golden-coredump.conf 0644 <<'EOF'
# golden hardening: no core dumps for anyone (CIS). Applies to PAM sessions; containers
# also get `--ulimit core=0` at run time.
*               hard    core            0
*               soft    core            0
EOF
  gh_install_quiet /etc/profile.d/golden-coredump.sh 0644 <<'EOF'
# golden hardening: no core dumps in login shells.
ulimit -c 0
EOF
  gh_install_quiet /etc/sysctl.d/50-golden-coredump.conf 0644 <<'EOF'
# golden hardening: not namespaced, so only the host can enforce this; kept for scanners.
fs.suid_dumpable = 0
EOF
}

step_umask() {
  gh_install_quiet /etc/profile.d/golden-umask.sh 0644 <<'EOF'
# golden hardening: files created in login shells are not world-readable.
umask 027
EOF
  gh_at /etc/login.defs
  _um_ld=$GH_AT
  if [ -f "$_um_ld" ] && [ ! -L "$_um_ld" ]; then
    if grep -Eq '^[[:space:]]*UMASK[[:space:]]' "$_um_ld"; then
      sed -E 's/^[[:space:]]*UMASK[[:space:]].*/UMASK\t\t027/' "$_um_ld" | gh_install_quiet /etc/login.defs 0644
    else
      { cat "$_um_ld"; printf 'UMASK\t\t027\n'; } | gh_install_quiet /etc/login.defs 0644
    fi
  fi
  for _um_f in /etc/profile /etc/bashrc /etc/bash.bashrc /etc/csh.cshrc /etc/csh.login; do
    gh_at "$_um_f"
    _um_d=$GH_AT
    if [ -f "$_um_d" ] && [ ! -L "$_um_d" ] && grep -Eq '^[[:space:]]*umask[[:space:]]+[0-7]+' "$_um_d"; then
      sed -E 's/^([[:space:]]*)umask[[:space:]]+[0-7]+/\1umask 027/' "$_um_d" | gh_install_quiet "$_um_f" 0644
    fi
  done
}

step_manifest() {
  _mf_out=$GH_TMP/manifest
  _mf_ver=$(gh_os_release VERSION_ID || true)
  {
    printf '{\n'
    printf '  "schema": 1,\n'
    printf '  "os": %s,\n' "$(gh_json_str "$GH_OS")"
    printf '  "os_version": %s,\n' "$(gh_json_str "$_mf_ver")"
    printf '  "script": %s,\n' "$(gh_json_str "$GH_NAME")"
    printf '  "script_version": %s,\n' "$(gh_json_str "$GH_SCRIPT_VERSION")"
    printf '  "date": %s,\n' "$(gh_json_str "$GH_DATE")"
    printf '  "user": {"name": %s, "uid": %s, "gid": %s, "home": %s, "shell": %s},\n' \
      "$(gh_json_str "$GH_USER")" "$GH_UID" "$GH_GID" "$(gh_json_str "$GH_HOME")" "$(gh_json_str "$GH_NOLOGIN")"
    printf '  "steps": [\n'
    _mf_first=1
    for _mf_s in $GH_STEPS; do
      [ "$_mf_first" = 1 ] || printf ',\n'
      _mf_first=0
      if [ "$_mf_s" = manifest ]; then _mf_st=applied; else _mf_st=$(gh_status_of "$_mf_s"); fi
      printf '    {"name": %s, "status": %s}' "$(gh_json_str "$_mf_s")" "$(gh_json_str "$_mf_st")"
    done
    printf '\n  ],\n'
    printf '  "setuid_allowlist": %s,\n' "$(gh_json_list "$GH_SETUID_ALLOW")"
    printf '  "removal_list": %s\n' "$(gh_json_list "$GH_REMOVE_LIST")"
    printf '}\n'
  } >"$_mf_out"
  # Without SOURCE_DATE_EPOCH the date is "now": keep an existing manifest whose other
  # lines are identical, so that a second run changes nothing.
  gh_at "$GH_MANIFEST"
  _mf_dst=$GH_AT
  if [ -z "${SOURCE_DATE_EPOCH:-}" ] && [ -f "$_mf_dst" ]; then
    grep -v '^  "date": ' "$_mf_dst" >"$GH_TMP/manifest.old" || true
    grep -v '^  "date": ' "$_mf_out" >"$GH_TMP/manifest.new" || true
    if gh_same "$GH_TMP/manifest.old" "$GH_TMP/manifest.new"; then return 0; fi
  fi
  gh_install_quiet "$GH_MANIFEST" 0644 <"$_mf_out"
}

# ---------------------------------------------------------------------------------------
# driver

# gh_guard_slash DIR: the root resolved to `/`; allow that only inside a container or image
# build, where DIR ("" for the real /; tests pass a fake root) shows one of the signs: the
# engines' /.dockerenv or /run/.containerenv, systemd-nspawn/podman's $container, the
# bootstrap's marker, or the explicit --i-am-in-an-image-build. On a host, hardening /
# locks every password (root's too), sets nologin shells and strips setuid from sudo and su:
# the machine is locked out. Sets GH_GUARD_SIGN to the sign found.
gh_guard_slash() {
  if [ "${GH_IMAGE_BUILD:-0}" = 1 ]; then
    GH_GUARD_SIGN=--i-am-in-an-image-build
  elif [ -e "$1/.dockerenv" ]; then
    GH_GUARD_SIGN=/.dockerenv
  elif [ -e "$1/run/.containerenv" ]; then
    GH_GUARD_SIGN=/run/.containerenv
  elif [ -n "${container:-}" ]; then
    GH_GUARD_SIGN="\$container"
  elif [ -e "$1$GH_BUILD_MARKER" ]; then
    GH_GUARD_SIGN=$GH_BUILD_MARKER
  else
    gh_die "refusing to harden / : this is not a container or image build (none of /.dockerenv, /run/.containerenv, \$container, $GH_BUILD_MARKER). On a host this would lock every account including root's, set nologin shells and strip setuid from sudo and su. Harden a tree with --root DIR; inside an image build that shows none of these signs, pass --i-am-in-an-image-build."
  fi
}

# gh_check_os: the root's os-release ID must be one this script hardens. ID only: ID_LIKE
# would let harden-debian.sh loose on Ubuntu and harden-redhat.sh on Rocky or CentOS, whose
# packages and policies these scripts do not know.
gh_check_os() {
  # shellcheck disable=SC2153 # GH_OS_IDS is set by the OS script
  GH_OS_ID=$(gh_os_release ID || true)
  [ -n "$GH_OS_ID" ] || gh_die "no os-release in $GH_ROOT (looked for /etc/os-release, /usr/lib/os-release)"
  gh_in_list "$GH_OS_ID" "$GH_OS_IDS" ||
    gh_die "$GH_ROOT is \`$GH_OS_ID\`, not $GH_OS ($GH_NAME hardens os-release ID: $GH_OS_IDS; ID_LIKE does not count)"
}

gh_status_of() {
  for _so_e in $GH_STATUS; do
    case $_so_e in "$1="*) printf '%s' "${_so_e#*=}"; return 0 ;; esac
  done
  printf 'skipped'
}

gh_main() {
  umask 022
  GH_ROOT=${GOLDEN_HARDEN_ROOT:-/}
  GH_CHROOT=${GOLDEN_HARDEN_CHROOT:-0}
  _m_skip=${GOLDEN_HARDEN_SKIP:-}
  _m_only=${GOLDEN_HARDEN_ONLY:-}
  GH_SETUID_ALLOW=$(printf '%s' "${GOLDEN_SETUID_ALLOWLIST:-}" | tr ',' ' ')
  GH_WW_ALLOW=$(printf '%s' "${GOLDEN_WORLD_WRITABLE_ALLOW-$GH_WW_DEFAULT}" | tr ',' ' ')
  GH_IMAGE_BUILD=0
  while [ "$#" -gt 0 ]; do
    case $1 in
      --root) [ "$#" -ge 2 ] || gh_die "--root needs a directory"; GH_ROOT=$2; shift ;;
      --root=*) GH_ROOT=${1#*=} ;;
      --chroot) GH_CHROOT=1 ;;
      --i-am-in-an-image-build) GH_IMAGE_BUILD=1 ;;
      --skip) [ "$#" -ge 2 ] || gh_die "--skip needs a step list"; _m_skip="$_m_skip,$2"; shift ;;
      --skip=*) _m_skip="$_m_skip,${1#*=}" ;;
      --only) [ "$#" -ge 2 ] || gh_die "--only needs a step list"; _m_only="$_m_only,$2"; shift ;;
      --only=*) _m_only="$_m_only,${1#*=}" ;;
      --setuid-allow) [ "$#" -ge 2 ] || gh_die "--setuid-allow needs a path"; GH_SETUID_ALLOW="$GH_SETUID_ALLOW $2"; shift ;;
      --setuid-allow=*) GH_SETUID_ALLOW="$GH_SETUID_ALLOW ${1#*=}" ;;
      --world-writable-allow) [ "$#" -ge 2 ] || gh_die "--world-writable-allow needs a directory"; GH_WW_ALLOW="$GH_WW_ALLOW $2"; shift ;;
      --world-writable-allow=*) GH_WW_ALLOW="$GH_WW_ALLOW ${1#*=}" ;;
      --list-steps)
        for _m_s in $GH_STEPS; do
          if gh_in_list "$_m_s" "$GH_PKG_STEPS"; then echo "$_m_s package"; else echo "$_m_s file"; fi
        done
        exit 0
        ;;
      --version) echo "$GH_NAME $GH_SCRIPT_VERSION"; exit 0 ;;
      -h | --help) gh_usage; exit 0 ;;
      *) gh_usage >&2; gh_die "unknown argument \`$1\`" ;;
    esac
    shift
  done
  case $GH_CHROOT in 1 | true | yes) GH_CHROOT=1 ;; 0 | false | no | '') GH_CHROOT=0 ;; *) gh_die "GOLDEN_HARDEN_CHROOT must be 0 or 1" ;; esac
  set -f
  for _m_a in $GH_SETUID_ALLOW; do
    case $_m_a in /*) ;; *) gh_die "setuid allowlist entry \`$_m_a\` must be an absolute path inside the root" ;; esac
  done
  for _m_a in $GH_WW_ALLOW; do
    case $_m_a in
      *[*?[]* | */ | */./* | */../* | */. | */..) gh_die "world-writable allow entry \`$_m_a\` must be a plain directory path (no glob, no trailing /, no . or ..), as in the scan policy's world_writable_allow" ;;
      /?*) ;;
      *) gh_die "world-writable allow entry \`$_m_a\` must be an absolute path inside the root" ;;
    esac
  done
  set +f

  [ -d "$GH_ROOT" ] || gh_die "root \`$GH_ROOT\` is not a directory"
  GH_REAL_ROOT=$(cd "$GH_ROOT" && pwd -P)
  if [ "$GH_REAL_ROOT" = / ]; then
    GH_ROOT=/
    GH_P=
    [ "$GH_CHROOT" = 0 ] || gh_die "--chroot needs --root DIR other than /"
    gh_guard_slash ""
    gh_log "hardening / (sign of an image build: $GH_GUARD_SIGN)"
  else
    GH_ROOT=$GH_REAL_ROOT
    GH_P=$GH_REAL_ROOT
  fi
  if [ "$GH_P" = "" ] || [ "$GH_CHROOT" = 1 ]; then GH_PKG_OK=1; else GH_PKG_OK=0; fi

  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    case $SOURCE_DATE_EPOCH in *[!0-9]*) gh_die "SOURCE_DATE_EPOCH must be a number of seconds, got \`$SOURCE_DATE_EPOCH\`" ;; esac
    GH_DATE=$(gh_iso_date "$SOURCE_DATE_EPOCH")
  else
    GH_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  fi

  gh_check_os

  _m_skipped=$(gh_expand_steps "$_m_skip")
  if [ -n "$_m_only" ]; then _m_selected=$(gh_expand_steps "$_m_only"); else _m_selected=$GH_STEPS; fi

  if [ "$GH_PKG_OK" = 1 ] && command -v os_install_tools >/dev/null 2>&1; then os_install_tools; fi
  for _m_t in find sed grep cut stat sha256sum mktemp readlink chmod chown mv; do
    gh_have "$_m_t" || gh_die "$_m_t not found in PATH (install it, e.g. findutils for find)"
  done

  GH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/golden-harden.XXXXXX")
  trap 'rm -rf "$GH_TMP"' EXIT
  trap 'exit 2' HUP INT TERM

  gh_log "hardening $GH_ROOT ($GH_OS_ID $(gh_os_release VERSION_ID || true)), script $GH_SCRIPT_VERSION"
  GH_STATUS=
  for _m_s in $GH_STEPS; do
    _m_why=
    if ! gh_in_list "$_m_s" "$_m_selected"; then
      _m_why="not selected"
    elif gh_in_list "$_m_s" "$_m_skipped"; then
      _m_why="--skip"
    elif gh_in_list "$_m_s" "$GH_PKG_STEPS" && [ "$GH_PKG_OK" = 0 ]; then
      _m_why="package step: needs --root / or --chroot"
    fi
    if [ -n "$_m_why" ]; then
      gh_log "step $_m_s: skipped ($_m_why)"
      GH_STATUS="$GH_STATUS $_m_s=skipped"
      continue
    fi
    gh_log "step $_m_s"
    "step_$(printf '%s' "$_m_s" | tr '-' '_')"
    GH_STATUS="$GH_STATUS $_m_s=applied"
  done
  gh_log "done"
}
