#!/usr/bin/env bash
# Start or stop a local OCI registry (Debian's `docker-registry`, distribution 2.8) on a loopback
# port, with its config, data, log and PID file in one directory. Used by the golden-push tests,
# by `make local` (127.0.0.1:5000, data in .cache/registry) and by anyone needing a registry.
#
#   scripts/registry.sh start --port N --dir DIR [--htpasswd FILE]
#                             [--token-realm URL --token-issuer ISSUER --token-cert FILE
#                              [--token-service NAME]] [--no-delete]
#                           --no-delete: deletes refused (405 UNSUPPORTED), as distribution's
#                           default and a registry without delete rights behave
#       prints the PID on stdout; idempotent (a registry already running from DIR on the same
#       port is reused). Waits until /v2/ answers.
#   scripts/registry.sh stop --dir DIR      idempotent (nothing running is fine)
#   scripts/registry.sh status --dir DIR    prints the PID and exits 0 when running, else exits 1
#
# Layout of DIR: config.yml (generated on every start), data/ (blobs, kept across restarts),
# http-secret (kept, so upload sessions survive a restart), registry.log, registry.pid.
# Only 127.0.0.1 is ever listened on. The Debian package's own service (port 5000,
# /etc/docker/registry/config.yml) is stopped and disabled when it holds the requested port.
set -Eeuo pipefail

die() { printf 'registry.sh: %s\n' "$*" >&2; exit 2; }
log() { printf 'registry.sh: %s\n' "$*" >&2; }

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd="${1:-}"
[ -n "$cmd" ] || usage
shift

port="" dir="" htpasswd="" realm="" issuer="" cert="" service="" delete=true
while [ "$#" -gt 0 ]; do
  case "$1" in
    --port) port="${2:-}"; shift 2 ;;
    --dir) dir="${2:-}"; shift 2 ;;
    --htpasswd) htpasswd="${2:-}"; shift 2 ;;
    --token-realm) realm="${2:-}"; shift 2 ;;
    --token-issuer) issuer="${2:-}"; shift 2 ;;
    --token-cert) cert="${2:-}"; shift 2 ;;
    --token-service) service="${2:-}"; shift 2 ;;
    --no-delete) delete=false; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument \`$1\` (see --help)" ;;
  esac
done

[ -n "$dir" ] || die "--dir DIR is required"

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

running_pid() {
  local pid
  [ -f "$dir/registry.pid" ] || return 1
  pid="$(cat "$dir/registry.pid" 2>/dev/null || true)"
  pid_alive "$pid" || return 1
  # Guard against PID reuse: the process must be a docker-registry serving our config.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "docker-registry serve $dir/config.yml" || return 1
  printf '%s\n' "$pid"
}

port_holder() {
  # PID listening on 127.0.0.1:$1 or *:$1, if any (needs ss from iproute2).
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}

answers() {
  local code
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/v2/" 2>/dev/null || true)"
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

free_system_service() {
  # The Debian package starts its own registry on :5000; it must not hold a port we need.
  local holder="$1" args
  args="$(tr '\0' ' ' <"/proc/$holder/cmdline" 2>/dev/null || true)"
  case "$args" in
    *docker-registry*serve*/etc/docker/registry/config.yml*) ;;
    *) return 1 ;;
  esac
  log "stopping the Debian docker-registry system service (it holds port $port)"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    systemctl stop docker-registry || true
    systemctl disable docker-registry >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/docker-registry ]; then
    /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
    if command -v update-rc.d >/dev/null 2>&1; then update-rc.d docker-registry disable >/dev/null 2>&1 || true; fi
  fi
  if pid_alive "$holder"; then kill "$holder" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do
    pid_alive "$holder" || return 0
    sleep 0.1
  done
  die "the system docker-registry (PID $holder) still holds port $port; stop it as root"
}

yaml_quote() {
  # Double-quoted YAML scalar.
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

write_config() {
  local secret
  if [ ! -s "$dir/http-secret" ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/http-secret")
  fi
  secret="$(cat "$dir/http-secret")"
  {
    printf 'version: 0.1\n'
    printf 'log:\n  level: info\n  formatter: text\n'
    printf 'storage:\n'
    printf '  filesystem:\n    rootdirectory: %s\n' "$(yaml_quote "$dir/data")"
    printf '  delete:\n    enabled: %s\n' "$delete"
    printf '  maintenance:\n    uploadpurging:\n      enabled: false\n'
    printf 'http:\n  addr: 127.0.0.1:%s\n  secret: %s\n' "$port" "$secret"
    printf '  headers:\n    X-Content-Type-Options: [nosniff]\n'
    if [ -n "$htpasswd" ]; then
      printf 'auth:\n  htpasswd:\n    realm: golden-registry\n    path: %s\n' "$(yaml_quote "$htpasswd")"
    elif [ -n "$realm" ]; then
      printf 'auth:\n  token:\n'
      printf '    realm: %s\n' "$(yaml_quote "$realm")"
      printf '    service: %s\n' "$(yaml_quote "${service:-127.0.0.1:$port}")"
      printf '    issuer: %s\n' "$(yaml_quote "$issuer")"
      printf '    rootcertbundle: %s\n' "$(yaml_quote "$cert")"
    fi
  } >"$dir/config.yml.tmp"
  mv -f "$dir/config.yml.tmp" "$dir/config.yml"
}

start() {
  [ -n "$port" ] || die "--port N is required for start"
  case "$port" in ''|*[!0-9]*) die "--port must be a number, got \`$port\`" ;; esac
  [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "--port $port is out of range"
  command -v docker-registry >/dev/null 2>&1 \
    || die "docker-registry not found: install the Debian package (scripts/setup.sh)"
  if [ -n "$htpasswd" ] && [ -n "$realm" ]; then die "--htpasswd and --token-realm are exclusive"; fi
  if [ -n "$htpasswd" ]; then
    [ -r "$htpasswd" ] || die "--htpasswd $htpasswd: not readable"
    htpasswd="$(cd "$(dirname "$htpasswd")" && pwd)/$(basename "$htpasswd")"
  fi
  if [ -n "$realm" ]; then
    [ -n "$issuer" ] || die "--token-realm needs --token-issuer"
    [ -r "$cert" ] || die "--token-realm needs --token-cert FILE (PEM bundle the registry trusts)"
    cert="$(cd "$(dirname "$cert")" && pwd)/$(basename "$cert")"
  fi

  mkdir -p "$dir/data"
  dir="$(cd "$dir" && pwd)"

  local pid holder
  if pid="$(running_pid)"; then
    if grep -q "addr: 127.0.0.1:$port\$" "$dir/config.yml" 2>/dev/null; then
      printf '%s\n' "$pid"
      return 0
    fi
    die "a registry from $dir is already running (PID $pid) on another port; stop it first"
  fi

  holder="$(port_holder "$port")"
  if [ -n "$holder" ]; then
    free_system_service "$holder" || die "port $port is in use by PID $holder ($(tr '\0' ' ' <"/proc/$holder/cmdline" 2>/dev/null || echo '?'))"
  fi

  write_config
  # setsid: the registry outlives this script and the caller's process group.
  setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$dir/registry.pid"
  for _ in $(seq 1 100); do
    if answers "$port"; then
      printf '%s\n' "$pid"
      return 0
    fi
    pid_alive "$pid" || break
    sleep 0.1
  done
  tail -n 20 "$dir/registry.log" >&2 || true
  pid_alive "$pid" && kill "$pid" 2>/dev/null
  rm -f "$dir/registry.pid"
  die "the registry did not answer on 127.0.0.1:$port within 10 s (log: $dir/registry.log)"
}

stop() {
  [ -d "$dir" ] || return 0
  dir="$(cd "$dir" && pwd)"
  local pid
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$dir/registry.pid"
}

status() {
  [ -d "$dir" ] || return 1
  dir="$(cd "$dir" && pwd)"
  running_pid
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  -h|--help|help) usage ;;
  *) die "unknown command \`$cmd\` (start, stop, status)" ;;
esac
