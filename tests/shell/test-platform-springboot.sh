#!/usr/bin/env bash
# The springboot platform image (Debian), against the real engine: the committed demo jar is
# the one its committed source builds (JDK on this machine), the image built without build
# arguments packages it, starts as non-root under --read-only --tmpfs /tmp --cap-drop ALL,
# answers /actuator/health and becomes healthy; the layering script's fallbacks; compliance.
# Spring Boot itself cannot be downloaded here: the jarmode-tools extraction of a real Boot 3.3+
# jar is exercised where Maven Central is reachable (see docs/platform-images.md).
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

fixture=$PT_ROOT/tests/fixtures/springboot
{ command -v javac && command -v jar; } >/dev/null || pt_die "javac and jar required: run scripts/setup.sh"

# 1. The committed jar is built from the committed source (entries and bytes; the manifest's
#    Created-By line names the JDK patch release and is ignored).
built=$PT_TMP/demo-app.jar
"$fixture/build.sh" "$built" 2>/dev/null || pt_die "tests/fixtures/springboot/build.sh failed"
unpack() { mkdir -p "$2" && (cd "$2" && jar xf "$1") && sed -i '/^Created-By:/d' "$2/META-INF/MANIFEST.MF"; }
unpack "$fixture/demo-app.jar" "$PT_TMP/committed"
unpack "$built" "$PT_TMP/rebuilt"
check "committed demo-app.jar matches its source (rebuilt with build.sh)" diff -r "$PT_TMP/committed" "$PT_TMP/rebuilt"

# 2. extract.sh fallbacks, run on this machine (POSIX sh): a plain jar, and a layered Boot jar
#    without jarmode tools, each become the single application layer.
extract=$PT_ROOT/platform-images/springboot/extract.sh
out=$PT_TMP/extract-plain
sh "$extract" "$fixture/demo-app.jar" "$out" 2>"$PT_TMP/extract.log"
check "plain jar: copied as application/application.jar" cmp "$fixture/demo-app.jar" "$out/application/application.jar"
layers=$(find "$out" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')
check "plain jar: all four layer directories exist ($layers)" [ "$layers" = "application dependencies snapshot-dependencies spring-boot-loader " ]
old=$PT_TMP/old-boot
mkdir -p "$old/BOOT-INF"
printf -- '- "application":\n  - "BOOT-INF/classes/"\n' >"$old/BOOT-INF/layers.idx"
(cd "$old" && jar --create --file ../old-boot.jar BOOT-INF)
sh "$extract" "$PT_TMP/old-boot.jar" "$PT_TMP/extract-old" 2>"$PT_TMP/extract-old.log"
check "Boot jar without jarmode tools: one application layer, said so" grep -q 'without jarmode tools' "$PT_TMP/extract-old.log"
check "extract.sh refuses a missing jar" not sh "$extract" "$PT_TMP/none.jar" "$PT_TMP/extract-none" 2>/dev/null

# 3. The image (no build arguments beyond the plan's: the demo app).
image=$(pt_image springboot)
echo "image: $image"
entry=$(docker image inspect -f '{{json .Config.Entrypoint}}' "$image")
check "entrypoint runs the extracted application ($entry)" [ "$entry" = '["java","-jar","/application/application.jar"]' ]
check "the application layer holds the demo jar" cmp <(docker run --rm --entrypoint cat "$image" /application/application.jar) "$fixture/demo-app.jar"

c=$(pt_run springboot "$image" --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  --health-interval 1s --health-start-period 1s -p 127.0.0.1::8080)
addr=$(pt_port "$c" 8080)
if pt_wait_http "http://$addr/actuator/health" 60; then
  ok "the application starts under --read-only --tmpfs /tmp --cap-drop ALL"
else
  pt_logs "$c"
  pt_die "the application did not answer on $addr"
fi
check "/actuator/health answers UP" [ "$(curl -s "http://$addr/actuator/health")" = '{"status":"UP"}' ]
check "runs as uid 10001" [ "$(docker exec "$c" id -u)" = 10001 ]
check "the engine reports the container healthy" pt_wait_healthy "$c" 60
check "application files are not writable by the runtime user" not docker exec "$c" sh -c 'touch /application/x 2>/dev/null'
docker stop -t 10 "$c" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
check "stops on SIGTERM within the grace period, through the JVM shutdown hooks (exit $code)" [ "$code" = 143 ]
check "the shutdown hook ran" grep -q 'demo: stopped' <(docker logs "$c" 2>&1)

pt_assert_image_compliance "$image"
pt_done
