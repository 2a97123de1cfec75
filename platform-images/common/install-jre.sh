#!/bin/sh
# install-jre.sh: install the headless OpenJDK runtime JAVA_VERSION from the base OS's own
# packages and link it at /opt/java/openjdk (JAVA_HOME of the openjdk, tomcat and springboot
# images: they all run this same script, so they carry the same runtime).
#
#   Debian  openjdk-<V>-jre-headless     (bookworm ships 17)
#   Alpine  openjdk<V>-jre-headless      (3.20 ships 17 and 21)
#   UBI 9   java-<V>-openjdk-headless    (ships 17 and 21)
#
# No JDK tools: a JDK tool launcher a runtime package ships anyway (Debian puts the jpackage
# packaging tool in its JRE package) is unregistered from update-alternatives and deleted, and
# the script fails if any JDK tool (javac, jar, jshell, jcmd, ...) is left. On Debian, dpkg is
# also told not to unpack two data files the runtime never reads: lib/ct.sym (javac's symbol
# table) and the no-compressed-oops CDS archive (used only with heaps above 32 GiB).
# Environment: JAVA_VERSION (required), e.g. 17.
set -eu

log() { printf 'install-jre: %s\n' "$*" >&2; }
die() {
  printf 'install-jre: error: %s\n' "$*" >&2
  exit 1
}

v=${JAVA_VERSION:-}
case $v in
  '' | *[!0-9]*) die "JAVA_VERSION must be a major version number like 17 (got \`$v\`)" ;;
esac

os=$(golden-pkg os)
case $os in
  debian)
    cat >/etc/dpkg/dpkg.cfg.d/golden-jre <<'EOF'
# golden: runtime images carry no JDK tools and no javac/huge-heap data files.
path-exclude=/usr/lib/jvm/*/lib/ct.sym
path-exclude=/usr/lib/jvm/*/lib/server/classes_nocoops.jsa
EOF
    golden-pkg install "openjdk-$v-jre-headless"
    ;;
  alpine) golden-pkg install "openjdk$v-jre-headless" ;;
  redhat) golden-pkg install "java-$v-openjdk-headless" ;;
esac

# The real JDK directory of this version (not a symlink such as default-jvm or jre-17).
home=
for d in /usr/lib/jvm/*; do
  [ -d "$d" ] && [ ! -L "$d" ] && [ -x "$d/bin/java" ] || continue
  case ${d##*/} in
    *-"$v"-* | *-"$v" | *"$v"-openjdk* | openjdk-"$v"* | java-"$v"*) home=$d ;;
  esac
done
[ -n "$home" ] || die "no Java $v runtime found under /usr/lib/jvm after installing it"
mkdir -p /opt/java
ln -sfn "$home" /opt/java/openjdk
log "JAVA_HOME /opt/java/openjdk -> $home"

jdk_tools="javac jar jarsigner javadoc javap jcmd jconsole jdb jdeps jhsdb jimage jinfo jlink
  jmap jmod jpackage jps jshell jstack jstat jstatd serialver"
for tool in $jdk_tools; do
  [ -e "$home/bin/$tool" ] || continue
  if command -v update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove "$tool" "$home/bin/$tool" >/dev/null 2>&1 || true
  elif command -v alternatives >/dev/null 2>&1; then
    alternatives --remove "$tool" "$home/bin/$tool" >/dev/null 2>&1 || true
  fi
  rm -f "$home/bin/$tool"
  log "removed JDK tool $home/bin/$tool shipped by the runtime package"
done
for tool in $jdk_tools; do
  [ ! -e "$home/bin/$tool" ] || die "JDK tool $home/bin/$tool is in the runtime image"
  if command -v "$tool" >/dev/null 2>&1; then die "JDK tool $(command -v "$tool") is on PATH"; fi
done

# Smoke test: the runtime starts and is the requested major version.
version_line=$(/opt/java/openjdk/bin/java -XshowSettings:properties -version 2>&1 | grep 'java.specification.version' || true)
case $version_line in
  *"= $v") log "runtime works: ${version_line#"${version_line%%[! ]*}"}" ;;
  *) die "installed runtime is not Java $v (${version_line:-no java.specification.version})" ;;
esac
