#!/bin/sh
# install.sh (python): install the CPython interpreter PYTHON_VERSION from the base OS's own
# packages and create the application virtual environment /opt/venv, owned by the runtime
# user (uid 10001) so a derived image can `pip install` into it as that user.
#
#   Debian 12  python3.11 + python3.11-venv (ensurepip's bundled pip wheel)
#   UBI 9      python3.11 (AppStream)
#   Alpine     python3 (3.20: 3.12), checked against PYTHON_VERSION
#
# The venv gets pip (no cache: PIP_NO_CACHE_DIR in the image) but not setuptools (3.11's venv
# adds it, 3.12's no longer does; an application that needs it installs it). On Debian the
# packages only `python -m venv` needs (python3.11-venv and the bundled pip/setuptools wheels)
# are purged once the venv exists: a derived image that wants a second venv reinstalls them.
# No compiler or headers are installed: build wheels in a builder stage, copy the venv.
# Environment: PYTHON_VERSION (required), e.g. 3.11.
set -eu

log() { printf 'install-python: %s\n' "$*" >&2; }
die() {
  printf 'install-python: error: %s\n' "$*" >&2
  exit 1
}

v=${PYTHON_VERSION:-}
case $v in
  3.[0-9] | 3.[0-9][0-9]) ;;
  *) die "PYTHON_VERSION must be a CPython 3.x version like 3.11 (got \`$v\`)" ;;
esac
case $v in 3.[0-9] | 3.10) die "PYTHON_VERSION $v: the golden python image needs 3.11 or newer" ;; esac

os=$(golden-pkg os)
case $os in
  debian) golden-pkg install "python$v" "python$v-venv" ;;
  alpine) golden-pkg install python3 ;;
  redhat) golden-pkg install "python$v" ;;
esac
command -v "python$v" >/dev/null 2>&1 || die "python$v not found after installing it (does this OS release ship Python $v?)"

"python$v" -m venv /opt/venv
/opt/venv/bin/python -m pip uninstall --yes --quiet setuptools >/dev/null 2>&1 || true
actual=$(/opt/venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$actual" = "$v" ] || die "the venv runs Python $actual, expected $v"
/opt/venv/bin/python -m pip --version >/dev/null || die "pip does not run in the venv"
if [ "$os" = debian ]; then
  DEBIAN_FRONTEND=noninteractive apt-get -q -y purge --auto-remove \
    "python$v-venv" python3-pip-whl python3-setuptools-whl >/dev/null
  /opt/venv/bin/python -m pip list >/dev/null || die "pip stopped working after the venv packages were purged"
fi
find /opt/venv -name '__pycache__' -type d -prune -exec rm -rf {} +
chown -R 10001:10001 /opt/venv
chmod -R u=rwX,go=rX /opt/venv

for cc in cc gcc g++ c++ clang clang++ tcc; do
  if command -v "$cc" >/dev/null 2>&1; then die "compiler $(command -v "$cc") is in the image"; fi
done
log "Python $actual in /opt/venv ($(/opt/venv/bin/python -m pip --version | cut -d' ' -f1-2))"
