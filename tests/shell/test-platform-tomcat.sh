#!/usr/bin/env bash
# The tomcat platform image (Debian), against the real engine: starts as non-root under
# --read-only --tmpfs /tmp --cap-drop ALL, error pages without version or server info, no
# Server/X-Powered-By headers, default web applications absent (HTTP and filesystem), only the
# 8080 connector listens (no shutdown port, no AJP), an application baked into webapps/ is
# served, health status, image compliance.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

image=$(pt_image tomcat)
echo "image: $image"
hardened=(--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)

c=$(pt_run tomcat "$image" "${hardened[@]}" --health-interval 2s --health-start-period 2s -p 127.0.0.1::8080)
addr=$(pt_port "$c" 8080)
if pt_wait_http "http://$addr/" 90; then
  ok "starts under --read-only --tmpfs /tmp --cap-drop ALL and answers on 8080"
else
  pt_logs "$c"
  pt_die "tomcat did not answer on $addr"
fi
check "runs as uid 10001" [ "$(docker exec "$c" id -u)" = 10001 ]

h=$(curl -s -D - -o "$PT_TMP/404.html" "http://$addr/no-such-app/x" | tr -d '\r')
check "unknown path answers 404" grep -q '^HTTP/1.1 404' <<<"$h"
check "no Server header" not grep -qi '^Server:' <<<"$h"
check "no X-Powered-By header" not grep -qi '^X-Powered-By:' <<<"$h"
check "error page has no product name or version" not grep -Eqi 'tomcat|10\.1\.[0-9]' "$PT_TMP/404.html"
check "error page has no report details" not grep -qi 'description\|exception\|stack' "$PT_TMP/404.html"

for app in / /manager/html /host-manager/html /docs/ /examples/; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr$app")
  check "default web application $app absent ($code)" [ "$code" = 404 ]
done
# shellcheck disable=SC2016 # expanded by the shell in the container
apps=$(docker exec "$c" sh -c 'ls -A "$CATALINA_BASE/webapps"; ls -d "$CATALINA_HOME/webapps" /var/lib/tomcat* /usr/share/tomcat*-root 2>/dev/null; true')
check "no default web application on disk${apps:+ (found: $(pt_oneline "$apps"))}" [ -z "$apps" ]

# Listening TCP sockets (state 0A) from /proc: only 8080 (0x1F90); no 8005 shutdown, no 8009 AJP.
ports=$(docker exec "$c" cat /proc/net/tcp /proc/net/tcp6 |
  awk '$4 == "0A" { split($2, a, ":"); print a[2] }' | sort -u | while read -r hex; do printf '%d\n' "0x$hex"; done | tr '\n' ' ')
check "only port 8080 listens (got: $ports)" [ "$ports" = "8080 " ]
check "server.xml disables the shutdown port" docker exec "$c" grep -q '<Server port="-1"' /usr/local/tomcat/conf/server.xml
check "server.xml has no AJP connector" not docker exec "$c" grep -Eqi 'protocol="AJP' /usr/local/tomcat/conf/server.xml
check "the engine reports the container healthy" pt_wait_healthy "$c" 90
check "configuration is not writable by the runtime user" not docker exec "$c" sh -c 'touch /usr/local/tomcat/conf/x 2>/dev/null'

# An application baked into webapps/ (here: mounted read-only) is deployed and served.
app=$PT_TMP/ROOT
mkdir -p "$app"
printf 'hello from a test webapp\n' >"$app/index.html"
chmod -R a+rX "$app"
a=$(pt_run tomcat-app "$image" "${hardened[@]}" -v "$app:/usr/local/tomcat/webapps/ROOT:ro" -p 127.0.0.1::8080)
aaddr=$(pt_port "$a" 8080)
pt_wait_http "http://$aaddr/" 90 || true
body=$(curl -s "http://$aaddr/index.html")
if [ "$body" = "hello from a test webapp" ]; then
  ok "a web application in webapps/ is served on a read-only root"
else
  pt_logs "$a"
  fail "the test web application was not served (got '$body')"
fi

pt_assert_image_compliance "$image"
pt_done
