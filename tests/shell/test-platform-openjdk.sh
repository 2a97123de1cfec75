#!/usr/bin/env bash
# The openjdk platform image (Debian), against the real engine: the runtime starts as non-root
# under --read-only --tmpfs /tmp --cap-drop ALL (a real HTTP service: the springboot demo jar),
# container-aware heap options, no JDK tools, the runtime-only health probe with and without
# HEALTHCHECK_URL, image compliance.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

image=$(pt_image openjdk)
echo "image: $image"
hardened=(--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)

out=$(pt_exec_hardened "$image" java -version 2>&1) || { printf '%s\n' "$out"; pt_die "java -version failed"; }
check "java starts under --read-only --tmpfs /tmp --cap-drop ALL" grep -q 'OpenJDK Runtime Environment' <<<"$out"
check "it is a Java 17 runtime" grep -q 'version "17\.' <<<"$out"
default_out=$(docker run --rm "$image" 2>&1 || true)
check "the default CMD runs the runtime" grep -q 'OpenJDK Runtime' <<<"$default_out"

flags=$(pt_exec_hardened "$image" java -XX:+PrintFlagsFinal -version 2>/dev/null)
check "MaxRAMPercentage=75 (JAVA_TOOL_OPTIONS)" grep -Eq 'MaxRAMPercentage += 75\.0+ ' <<<"$flags"
check "ExitOnOutOfMemoryError on (JAVA_TOOL_OPTIONS)" grep -Eq 'ExitOnOutOfMemoryError += true ' <<<"$flags"
heap=$(docker run --rm --memory 512m "${hardened[@]}" --entrypoint java "$image" -XX:+PrintFlagsFinal -version 2>/dev/null |
  awk '$2 == "MaxHeapSize" { print $4 }')
limit=$((512 * 1024 * 1024))
heap_ok=0
[ -n "$heap" ] && [ "$heap" -ge $((limit * 70 / 100)) ] && [ "$heap" -le $((limit * 76 / 100)) ] && heap_ok=1
check "max heap is ~75% of a 512 MiB memory limit (got ${heap:-?} bytes)" [ "$heap_ok" = 1 ]

# shellcheck disable=SC2016 # expanded by the shell in the container
tools=$(pt_exec_hardened "$image" sh -c 'for t in javac jar jshell jcmd jdb jmap jstack jlink jpackage jdeps javap jarsigner; do command -v "$t" || ls "$JAVA_HOME/bin/$t" 2>/dev/null; done; true')
check "no JDK tools in the image${tools:+ (found: $(pt_oneline "$tools"))}" [ -z "$tools" ]
java_home=$(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$image" | sed -n 's/^JAVA_HOME=//p')
check "JAVA_HOME is /opt/java/openjdk (got $java_home)" [ "$java_home" = /opt/java/openjdk ]

# A real service on the runtime, hardened flags: the springboot demo jar (plain HTTP server).
jar=$PT_ROOT/tests/fixtures/springboot/demo-app.jar
[ -f "$jar" ] || pt_die "$jar missing"
c=$(pt_run openjdk-app "$image" "${hardened[@]}" -v "$jar:/app/app.jar:ro" -p 127.0.0.1::8080 \
  -e HEALTHCHECK_URL=http://127.0.0.1:8080/actuator/health --health-interval 1s --health-start-period 1s \
  -- java -jar /app/app.jar)
addr=$(pt_port "$c" 8080)
if pt_wait_http "http://$addr/actuator/health" 60; then
  ok "a Java service runs on the runtime under the hardened flags"
else
  pt_logs "$c"
  fail "the Java service did not answer"
fi
check "the service runs as uid 10001" [ "$(docker exec "$c" id -u)" = 10001 ]
check "health probe with HEALTHCHECK_URL: healthy" pt_wait_healthy "$c" 60

# Runtime-only probe (no URL): `java -version` must pass.
c=$(pt_run openjdk-idle "$image" "${hardened[@]}" --health-interval 1s --health-start-period 1s \
  --entrypoint sleep -- infinity)
check "health probe without HEALTHCHECK_URL (runtime check): healthy" pt_wait_healthy "$c" 60
# A URL nothing answers: the probe must report unhealthy.
c=$(pt_run openjdk-down "$image" "${hardened[@]}" -e HEALTHCHECK_URL=http://127.0.0.1:9/ \
  --health-interval 1s --health-retries 2 --health-start-period 0s --entrypoint sleep -- infinity)
st=starting
for _ in $(seq 60); do
  st=$(docker inspect -f '{{.State.Health.Status}}' "$c")
  [ "$st" = starting ] || break
  sleep 0.5
done
check "health probe reports unhealthy when HEALTHCHECK_URL does not answer (got $st)" [ "$st" = unhealthy ]

pt_assert_image_compliance "$image"
pt_done
