#!/bin/sh
# extract.sh (springboot): the build stage's layering of the application jar.
#
#   extract.sh JAR DEST
#
# Always produces the four layer directories the final stage copies, in this order (least to
# most often changed): DEST/dependencies, DEST/spring-boot-loader, DEST/snapshot-dependencies,
# DEST/application; the image then runs `java -jar /application/application.jar`.
#
# - Spring Boot 3.3+ jar (it carries BOOT-INF/layers.idx and the spring-boot-jarmode-tools
#   library): `java -Djarmode=tools -jar application.jar extract --layers --destination DEST`,
#   which writes application/application.jar plus the libraries under */lib/, referenced from
#   that jar's manifest Class-Path (the layout Spring recommends for containers and CDS).
# - Any other jar (a Boot jar older than 3.3, or a plain runnable jar like the demo app in
#   tests/fixtures/springboot): copied unchanged as application/application.jar, one layer.
#   A Boot fat jar still runs with `java -jar`, only without the layer split.
# The jar's entry names are stored uncompressed in its central directory, so grep finds them
# without unpacking tools.
set -eu

log() { printf 'extract: %s\n' "$*" >&2; }
die() {
  printf 'extract: error: %s\n' "$*" >&2
  exit 1
}

[ "$#" -eq 2 ] || die "usage: extract.sh JAR DEST"
jar=$1
dest=$2
[ -f "$jar" ] || die "application jar $jar not found (set the APP_JAR build arg to your jar)"
[ ! -e "$dest" ] || die "destination $dest already exists"

work=$(mktemp -d)
cp "$jar" "$work/application.jar"
cd "$work"
if grep -q -F 'BOOT-INF/layers.idx' application.jar &&
  grep -q -F 'BOOT-INF/lib/spring-boot-jarmode-tools' application.jar; then
  log "Spring Boot 3.3+ layered jar: extracting layers with -Djarmode=tools"
  JAVA_TOOL_OPTIONS='' java -Djarmode=tools -jar application.jar extract --layers --destination "$dest"
  [ -f "$dest/application/application.jar" ] || die "jarmode tools wrote no application/application.jar"
elif grep -q -F 'BOOT-INF/layers.idx' application.jar; then
  log "Spring Boot layered jar without jarmode tools (Boot < 3.3): one application layer"
  mkdir -p "$dest/application"
  cp application.jar "$dest/application/application.jar"
else
  log "not a layered Spring Boot jar: one application layer"
  mkdir -p "$dest/application"
  cp application.jar "$dest/application/application.jar"
fi
for layer in dependencies spring-boot-loader snapshot-dependencies application; do
  mkdir -p "$dest/$layer"
done
cd /
rm -rf "$work"
chown -R 0:0 "$dest"
chmod -R u=rwX,go=rX "$dest"
for layer in dependencies spring-boot-loader snapshot-dependencies application; do
  log "layer $layer: $(find "$dest/$layer" -type f | wc -l) files"
done
