#!/usr/bin/env bash
# docker-compose.yml: valid against the compose-spec schema, and its registry image really builds
# on the hardened Debian base and serves the OCI distribution API. Debian's docker.io has no
# compose plugin, so the image is built and run with plain `docker` from the same inline
# Dockerfile and build argument (the compose file is the single source).
# Needs the Docker engine (fails loudly without it) and the hardened Debian base (built with
# scripts/build-base.sh debian when missing).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
log() { printf 'test-local-stack: %s\n' "$*" >&2; }

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || fail "docker engine required: run scripts/ensure-docker.sh"
[ -x .venv/bin/check-jsonschema ] || fail ".venv/bin/check-jsonschema missing: run scripts/setup.sh"

.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml \
  || fail "docker-compose.yml does not validate against the compose-spec schema"

work="$(mktemp -d)"
tag="golden-local-stack-test/registry:$$"
name="golden-local-stack-test-$$"
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm "$name" >/dev/null 2>&1 || true
  docker rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The inline Dockerfile and the default base, read from the compose file itself.
.venv/bin/python - docker-compose.yml "$work" <<'PY'
import re, sys
from ruamel.yaml import YAML
doc = YAML(typ="safe").load(open(sys.argv[1]))
build = doc["services"]["registry"]["build"]
open(sys.argv[2] + "/Dockerfile", "w").write(build["dockerfile_inline"])
arg = build["args"]["BASE_IMAGE"]
m = re.fullmatch(r"\$\{GOLDEN_BASE_IMAGE:-(.+)\}", arg)
if not m:
    sys.exit(f"BASE_IMAGE build arg is not ${{GOLDEN_BASE_IMAGE:-default}}: {arg}")
open(sys.argv[2] + "/base", "w").write(m.group(1))
PY
base="${GOLDEN_BASE_IMAGE:-$(cat "$work/base")}"

if [ -x .venv/bin/hadolint ]; then
  .venv/bin/hadolint "$work/Dockerfile" || fail "the registry Dockerfile in docker-compose.yml is not hadolint clean"
fi

if ! docker image inspect "$base" >/dev/null 2>&1; then
  log "building the hardened Debian base ($base) with scripts/build-base.sh debian"
  scripts/build-base.sh debian >/dev/null
fi
docker image inspect "$base" >/dev/null 2>&1 || fail "the base $base is not in the engine"

log "building the registry image on $base"
docker build -q --build-arg "BASE_IMAGE=$base" -t "$tag" -f "$work/Dockerfile" configs >/dev/null \
  || fail "the registry image of docker-compose.yml does not build"

user="$(docker image inspect -f '{{.Config.User}}' "$tag")"
[ "$user" = "10001:10001" ] || fail "the registry image runs as \`$user\`, expected the base's non-root 10001:10001"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The same runtime settings as the compose service: read-only, no capabilities, no new privileges.
docker run -d --name "$name" -p "127.0.0.1:$port:5000" --read-only --tmpfs /tmp --cap-drop ALL \
  --security-opt no-new-privileges:true -v "$name:/var/lib/golden-registry" "$tag" >/dev/null \
  || fail "the registry container does not start"
ok=0
for _ in $(seq 1 50); do
  if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)" = 200 ]; then ok=1; break; fi
  sleep 0.2
done
[ "$ok" = 1 ] || { docker logs "$name" >&2 || true; fail "the registry does not answer /v2/"; }

# It stores what is pushed to it: push a manifest-less blob upload round trip with curl.
loc="$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/v2/golden-local-stack/blob/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
[ -n "$loc" ] || fail "the registry refused a blob upload"
digest="sha256:$(printf 'golden' | sha256sum | cut -d' ' -f1)"
case "$loc" in http*) url="$loc" ;; *) url="http://127.0.0.1:$port$loc" ;; esac
sep='?'; case "$url" in *\?*) sep='&' ;; esac
code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' --data-binary golden "$url${sep}digest=$digest")"
[ "$code" = 201 ] || fail "blob upload answered $code, expected 201"
code="$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$port/v2/golden-local-stack/blob/blobs/$digest")"
[ "$code" = 200 ] || fail "the uploaded blob is not there (HEAD answered $code)"

log "ok: compose file valid, registry image builds on $base, runs read-only as 10001 and stores blobs"
