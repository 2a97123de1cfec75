#!/usr/bin/env bash
# The platform image sources, without the engine: every Dockerfile (hadolint and the catalog's
# conventions), the POSIX scripts under dash and busybox sh, the pinned trust anchors
# (Microsoft's repository key, Tomcat's release checksum and signers), the Tomcat
# configuration, and the health probe against a real local HTTP server with each HTTP client it
# can use (curl, GNU wget, busybox wget, bash /dev/tcp, python3).
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"
cd "$PT_ROOT"

platforms=(nginx openjdk tomcat python springboot aspnet dotnet)
hadolint=.venv/bin/hadolint
shellcheck=.venv/bin/shellcheck
[ -x "$hadolint" ] && [ -x "$shellcheck" ] || pt_die "linters missing: run scripts/setup.sh"
for tool in dash busybox python3 curl; do command -v "$tool" >/dev/null || pt_die "$tool required: run scripts/setup.sh"; done

# ---- Dockerfiles ----------------------------------------------------------------------------
for p in "${platforms[@]}"; do
  df=platform-images/$p/Dockerfile
  [ -f "$df" ] || { fail "$df missing"; continue; }
  check "$p: hadolint clean" "$hadolint" "$df"
  instr=$(grep -Ev '^\s*(#|$)' "$df" | grep -E '^[A-Z]+ ' | awk '{ print $1 }' | tr '\n' ' ')
  check "$p: starts with ARG BASE_IMAGE then FROM \${BASE_IMAGE}" \
    matches "$(grep -Ev '^\s*(#|$)' "$df" | head -n 2 | tr '\n' '|')" '^ARG BASE_IMAGE(=[^|]*)?\|FROM \$\{BASE_IMAGE\}( AS [a-z]+)?\|$'
  every_from_base=$(grep -E '^FROM ' "$df" | grep -Evc '^FROM (\$\{BASE_IMAGE\}|runtime)( AS [a-z]+)?$' || true)
  check "$p: every stage is FROM the base (or a stage of it)" [ "$every_from_base" = 0 ]
  final_user=$(awk '/^FROM /{ u = "" } /^USER /{ u = $2 } END { print u }' "$df")
  stage_count=$(grep -c '^FROM ' "$df")
  final_from=$(grep '^FROM ' "$df" | tail -n 1)
  if [ "$final_from" = "FROM runtime" ]; then final_user=${final_user:-$(awk '/^FROM .* AS runtime/{ s = 1 } s && /^USER /{ u = $2 } /^FROM / && !/AS runtime/{ s = 0 } END { print u }' "$df")}; fi
  check "$p: the final stage runs as USER 10001 (got '${final_user}', $stage_count stage(s))" [ "$final_user" = 10001 ]
  check "$p: has a HEALTHCHECK in exec form" grep -Eq '^\s*CMD \["healthcheck"' "$df"
  check "$p: CMD/ENTRYPOINT in exec (JSON) form" not grep -Eq '^(CMD|ENTRYPOINT) [^[]' "$df"
  check "$p: EXPOSE or runtime-only" matches "$instr" 'EXPOSE|HEALTHCHECK'
  check "$p: OCI title/description labels" grep -q 'org.opencontainers.image.description=' "$df"
done
check "nginx: STOPSIGNAL SIGQUIT (graceful stop)" grep -q '^STOPSIGNAL SIGQUIT$' platform-images/nginx/Dockerfile
check "no repository is trusted without a signature" not grep -rIq 'trusted=yes' platform-images configs

# ---- POSIX scripts: dash, busybox ash, shellcheck as sh ------------------------------------------
mapfile -t posix < <(printf '%s\n' platform-images/common/golden-pkg platform-images/common/healthcheck \
  platform-images/common/install-jre.sh platform-images/common/install-dotnet.sh \
  platform-images/*/install.sh platform-images/tomcat/fetch-tomcat.sh platform-images/springboot/extract.sh)
for f in "${posix[@]}"; do
  check "$f: parses under dash" dash -n "$f"
  check "$f: parses under busybox sh" busybox sh -n "$f"
  check "$f: shellcheck --shell=sh clean" "$shellcheck" --shell=sh "$f"
  check "$f: executable" [ -x "$f" ]
done

# ---- trust anchors --------------------------------------------------------------------------
# The OpenPGP v4 fingerprint of the primary key, computed from the armored file itself:
# SHA-1 over 0x99, the 2-byte length and the public-key packet body (RFC 4880 12.2).
openpgp_fingerprint() {
  python3 - "$1" <<'PY'
import base64, hashlib, sys
lines = open(sys.argv[1]).read().splitlines()
start = lines.index("-----BEGIN PGP PUBLIC KEY BLOCK-----") + 1
while lines[start].strip():  # armor headers end at the first empty line
    start += 1
b64 = []
for line in lines[start + 1:]:
    if line.startswith("-----END") or line.startswith("="):
        break
    b64.append(line.strip())
data = base64.b64decode("".join(b64))
first = data[0]
if first & 0x40:  # new packet format
    tag, l1 = first & 0x3F, data[1]
    if l1 < 192:
        size, off = l1, 2
    elif l1 < 224:
        size, off = ((l1 - 192) << 8) + data[2] + 192, 3
    else:
        size, off = int.from_bytes(data[2:6], "big"), 6
else:  # old packet format
    tag, n = (first >> 2) & 0x0F, {0: 1, 1: 2, 2: 4}[first & 3]
    size, off = int.from_bytes(data[1:1 + n], "big"), 1 + n
assert tag == 6, "the first packet is not a public key"
body = data[off:off + size]
print(hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper())
PY
}
fpr=$(openpgp_fingerprint platform-images/common/microsoft.asc || true)
check "microsoft.asc is Microsoft (Release signing) BC52 8686 ... BE12 29CF (got $fpr)" [ "$fpr" = BC528686B50D79E339D3721CEB3E94ADBE1229CF ]
pt_check_self_signature platform-images/common/microsoft.asc BC528686B50D79E339D3721CEB3E94ADBE1229CF
check "the Microsoft repository is pinned to that key (Signed-By)" grep -q 'Signed-By: /usr/share/keyrings/microsoft-prod.asc' platform-images/common/install-dotnet.sh
sha=$(sed -n 's/^ARG TOMCAT_SHA512=//p' platform-images/tomcat/Dockerfile)
check "tomcat: pinned SHA-512 is 128 hex digits" matches "$sha" '^[0-9a-f]{128}$'
fps=$(sed -n 's/^ARG TOMCAT_GPG_FINGERPRINTS="\(.*\)"$/\1/p' platform-images/tomcat/Dockerfile)
check "tomcat: signer fingerprints are full 40-hex fingerprints ($fps)" matches "$fps" '^[0-9A-F]{40}( [0-9A-F]{40})*$'

# ---- Tomcat configuration ---------------------------------------------------------------------
for x in server.xml context.xml; do
  check "tomcat/$x is well-formed XML" python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "platform-images/tomcat/$x"
done
server="platform-images/tomcat/server.xml"
check "server.xml: shutdown port disabled" grep -q '<Server port="-1"' "$server"
check "server.xml: no AJP connector" not grep -Eq 'protocol="AJP' "$server"
check "server.xml: exactly one connector" [ "$(grep -c '<Connector ' "$server")" = 1 ]
check "server.xml: ErrorReportValve without report and server info" grep -Pzq 'ErrorReportValve"\s+showReport="false" showServerInfo="false"' "$server"
check "server.xml: no X-Powered-By" grep -q 'xpoweredBy="false"' "$server"
check "server.xml: no auto-deploy, no WAR unpacking" grep -Pzq 'unpackWARs="false" autoDeploy="false"' "$server"

# ---- the health probe, with every HTTP client it supports ---------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$PT_TMP/www"
printf 'ok\n' >"$PT_TMP/www/healthz"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$PT_TMP/www" >/dev/null 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; pt_cleanup' EXIT
for _ in $(seq 40); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.25; done

hc=$PT_ROOT/platform-images/common/healthcheck
# A PATH holding only CLIENT (a link named NAME), so the probe has no other choice.
client_path() { # client_path NAME TARGET
  local d=$PT_TMP/path-$1-$RANDOM
  mkdir -p "$d"
  ln -s "$2" "$d/$1"
  printf '%s' "$d"
}
clients=("curl:$(command -v curl)" "wget:/usr/bin/wget" "wget:$(command -v busybox)" "bash:$(command -v bash)" "python3:/usr/bin/python3")
for spec in "${clients[@]}"; do
  name=${spec%%:*}
  target=${spec#*:}
  [ -x "$target" ] || { printf '  note %s not installed here: probe via %s not tested\n' "$target" "$name"; continue; }
  label="$name ($(basename "$target"))"
  p=$(client_path "$name" "$target")
  # (busybox wget is reached through its applet name: the link is called `wget`.)
  check "probe via $label under dash: 200 is healthy" env -i PATH="$p" /usr/bin/dash "$hc" --url "http://127.0.0.1:$port/healthz"
  # busybox sh finds its own wget applet before any PATH entry: only meaningful for curl/wget.
  case $name in
    curl | wget)
      check "probe via $label under busybox sh: 200 is healthy" env -i PATH="$p" "$(command -v busybox)" sh "$hc" --url "http://127.0.0.1:$port/healthz"
      ;;
  esac
  run() { env -i PATH="$p" /usr/bin/dash "$hc" "$@"; }
  check "probe via $label: 404 is unhealthy by default" not run --url "http://127.0.0.1:$port/missing"
  check "probe via $label: 404 is healthy with --max-status 499" run --url "http://127.0.0.1:$port/missing" --max-status 499
  check "probe via $label: a closed port is unhealthy" not run --url "http://127.0.0.1:$closed/"
  check "probe via $label: HEALTHCHECK_URL wins over --url" \
    env -i PATH="$p" HEALTHCHECK_URL="http://127.0.0.1:$port/healthz" /usr/bin/dash "$hc" --url "http://127.0.0.1:$closed/"
  check "probe via $label: HEALTHCHECK_MAX_STATUS applies to HEALTHCHECK_URL" \
    env -i PATH="$p" HEALTHCHECK_URL="http://127.0.0.1:$port/missing" HEALTHCHECK_MAX_STATUS=404 /usr/bin/dash "$hc"
done
nop=$(mktemp -d "$PT_TMP/empty.XXXX")
check "probe: runtime check command succeeds -> healthy" env -i PATH="$nop" /usr/bin/dash "$hc" -- /usr/bin/true
check "probe: runtime check command fails -> unhealthy" not env -i PATH="$nop" /usr/bin/dash "$hc" -- /usr/bin/false
check "probe: a URL without any HTTP client -> unhealthy" not env -i PATH="$nop" /usr/bin/dash "$hc" --url "http://127.0.0.1:$port/healthz"
check "probe: nothing to check -> unhealthy" not env -i PATH="$nop" /usr/bin/dash "$hc"
check "probe: a bad --max-status is refused" not env -i PATH="$nop" /usr/bin/dash "$hc" --url http://x/ --max-status abc
msg=$(env -i PATH="$(client_path curl "$(command -v curl)")" /usr/bin/dash "$hc" --url "http://127.0.0.1:$closed/" || true)
check "probe: the unhealthy reason is printed for the health log ($msg)" matches "$msg" "^unhealthy: http://127.0.0.1:$closed/ did not answer"

# ---- the catalog names files that exist -------------------------------------------------------
plan_bin=${CARGO_TARGET_DIR:-target}/debug/golden-plan
[ -x "$plan_bin" ] || cargo build -q -p golden-plan
check "golden-plan --check: every file the catalog names exists" "$plan_bin" --config configs/build-config.yaml --check

pt_done
