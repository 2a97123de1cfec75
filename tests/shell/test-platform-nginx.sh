#!/usr/bin/env bash
# The nginx platform image (Debian), against the real engine: hardened run flags, /healthz,
# security headers (also on errors), no version in Server, 429 under a burst, method
# allowlist, non-root, engine health status, TLS on 8443 when a certificate is mounted,
# JSON access log, image compliance.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

image=$(pt_image nginx)
echo "image: $image"

c=$(pt_run nginx "$image" --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  --health-interval 1s --health-start-period 1s -p 127.0.0.1::8080)
addr=$(pt_port "$c" 8080)
pt_wait_http "http://$addr/healthz" 30 || { pt_logs "$c"; pt_die "nginx did not answer on $addr"; }
ok "starts with --read-only --tmpfs /tmp --cap-drop ALL and answers on 8080"

body=$(curl -s "http://$addr/healthz")
status=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/healthz")
check "/healthz answers 200 ok (got $status '$body')" [ "$status:$body" = "200:ok" ]

headers_of() { curl -s -D - -o /dev/null "$@" | tr -d '\r'; }
has_header() { grep -qi "^$1:" <<<"$2"; }
want_headers=(Content-Security-Policy X-Content-Type-Options X-Frame-Options Referrer-Policy Permissions-Policy)
for path in / /healthz /no-such-page; do
  h=$(headers_of "http://$addr$path")
  code=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' <<<"$h")
  missing=()
  for name in "${want_headers[@]}"; do has_header "$name" "$h" || missing+=("$name"); done
  check "security headers on $path ($code)${missing[*]:+, missing: ${missing[*]}}" [ "${#missing[@]}" -eq 0 ]
done
h=$(headers_of "http://$addr/no-such-page")
check "404 for a missing page" grep -q '^HTTP/1.1 404' <<<"$h"
check "X-Content-Type-Options is nosniff" grep -qi '^X-Content-Type-Options: nosniff$' <<<"$h"
check "X-Frame-Options is DENY" grep -qi '^X-Frame-Options: DENY$' <<<"$h"
check "no Strict-Transport-Security on plain HTTP" not grep -qi '^Strict-Transport-Security:' <<<"$h"
server=$(grep -i '^Server:' <<<"$h" | head -n 1)
check "Server header has no version ('$server')" matches "$server" '^[Ss]erver: nginx$'
page=$(curl -s "http://$addr/no-such-page")
check "error page has no version" not grep -Eq 'nginx/[0-9]' <<<"$page"
check "dotfiles are not served" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/.env")" = 404 ]

for m in DELETE PUT TRACE PATCH; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" "http://$addr/")
  check "method $m refused with 405 (got $code)" [ "$code" = 405 ]
done
h=$(headers_of -X DELETE "http://$addr/")
check "security headers also on the 405" has_header Content-Security-Policy "$h"

# A burst well above 10 r/s + burst 20 from one address: some requests must get 429.
codes=$PT_TMP/codes
for _ in $(seq 60); do curl -s -o /dev/null -w '%{http_code}\n' "http://$addr/"; done >"$codes"
n200=$(grep -c '^200$' "$codes" || true)
n429=$(grep -c '^429$' "$codes" || true)
burst_ok=0
[ "$n429" -gt 0 ] && [ "$n200" -gt 0 ] && burst_ok=1
check "a burst of 60 requests is rate limited: $n200 x 200, $n429 x 429" [ "$burst_ok" = 1 ]
h=$(headers_of "http://$addr/")
if grep -q '^HTTP/1.1 429' <<<"$h"; then
  check "security headers also on the 429" has_header Content-Security-Policy "$h"
fi
check "/healthz is not rate limited during the burst" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/healthz")" = 200 ]

uid=$(docker exec "$c" id -u)
check "runs as uid 10001 (got $uid)" [ "$uid" = 10001 ]
check "the engine reports the container healthy" pt_wait_healthy "$c" 60

log_line=$(docker logs "$c" 2>/dev/null | grep -m1 '"uri":"/no-such-page"' || true)
check "access log line is JSON on stdout" json_ok '.status == 404 and .method == "GET"' "$log_line"

# TLS: mount tls.d with a certificate, a key and the one-line enabling config.
tls=$PT_TMP/tls.d
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$tls/tls.key" -out "$tls/tls.crt" >/dev/null 2>&1 || pt_die "openssl could not make a test certificate"
printf 'include /etc/nginx/snippets/golden-tls.conf;\n' >"$tls/tls.conf"
chmod 0644 "$tls"/*
chmod 0755 "$tls"
t=$(pt_run nginx-tls "$image" --read-only --tmpfs /tmp --cap-drop ALL -v "$tls:/etc/nginx/tls.d:ro" \
  -p 127.0.0.1::8080 -p 127.0.0.1::8443)
taddr=$(pt_port "$t" 8443)
if pt_wait_http "https://$taddr/healthz" 30 || curl -sk -o /dev/null "https://$taddr/healthz"; then
  h=$(curl -sk -D - -o /dev/null "https://$taddr/healthz" | tr -d '\r')
  check "TLS server answers on 8443 when a certificate is mounted" grep -q '^HTTP/1.1 200' <<<"$h"
  check "HSTS on the TLS server" grep -qi '^Strict-Transport-Security: max-age=63072000' <<<"$h"
  check "security headers on the TLS server" has_header Content-Security-Policy "$h"
  check "TLS 1.1 is refused" not curl -sk --tlsv1.1 --tls-max 1.1 -o /dev/null "https://$taddr/healthz"
  check "TLS 1.2 is accepted" curl -sk --tlsv1.2 --tls-max 1.2 -o /dev/null "https://$taddr/healthz"
else
  curl -skv "https://$taddr/healthz" 2>&1 | tail -5 | sed 's/^/    | /'
  pt_logs "$t"
  fail "TLS server did not answer on 8443"
fi

pt_assert_image_compliance "$image"
pt_done
