#!/usr/bin/env bash
# Make sure a Docker engine answers on the default socket (or $DOCKER_HOST).
# Idempotent: installs Debian's docker.io when dockerd is missing and starts dockerd when
# nothing answers. Needs root for the install/start; prints what it did.
set -Eeuo pipefail

die() { printf 'ensure-docker: %s\n' "$*" >&2; exit 2; }
log() { printf 'ensure-docker: %s\n' "$*" >&2; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_answers; then
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
  die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST (a remote engine cannot be started from here)"
fi
[ "$(id -u)" -eq 0 ] || die "no Docker engine answers and starting one needs root (run as root, or start dockerd yourself)"

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  log "installing docker.io from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

log "starting dockerd (log: /var/log/golden-dockerd.log)"
# setsid: the daemon must outlive this script and the caller's process group.
setsid dockerd >/var/log/golden-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if engine_answers; then
    log "engine up: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
    exit 0
  fi
  sleep 0.5
done
tail -n 20 /var/log/golden-dockerd.log >&2 || true
die "dockerd did not answer within 30 s (see /var/log/golden-dockerd.log)"
