#!/bin/sh
# install.sh (tomcat): install the Java runtime and Apache Tomcat, and build the hardened
# CATALINA_BASE. Run by platform-images/tomcat/Dockerfile as root.
#
#   CATALINA_HOME=/opt/tomcat        the Tomcat installation, read-only
#     Debian: a link to /usr/share/tomcat<M> from Debian's own packages
#             (tomcat<M>-common + libtomcat<M>-java)
#     Alpine/UBI: the verified Apache tarball unpacked by the fetch stage (fetch-tomcat.sh)
#   CATALINA_BASE=/usr/local/tomcat  this instance: conf/ (ours), lib/, webapps/ (empty),
#                                    root-owned; compiled JSPs go to /tmp/tomcat/work
#
# The global conf/web.xml and catalina.properties are Tomcat's own defaults: from the tarball,
# or on Debian from the tomcat<M> package (downloaded by apt, which verifies it against the
# signed archive, and only unpacked: the package itself, with its systemd unit and its
# `tomcat` account, is not installed). server.xml, context.xml and logging.properties are ours.
# Environment: JAVA_VERSION, TOMCAT_MAJOR.
set -eu

log() { printf 'install-tomcat: %s\n' "$*" >&2; }
die() {
  printf 'install-tomcat: error: %s\n' "$*" >&2
  exit 1
}

src=/usr/local/lib/golden/tomcat
major=${TOMCAT_MAJOR:?TOMCAT_MAJOR is required}
base=/usr/local/tomcat

sh /usr/local/lib/golden/install-jre.sh

os=$(golden-pkg os)
case $os in
  debian)
    # Maven POMs Debian ships for building against its jars: never read at run time.
    printf '%s\n' '# golden: no Maven repository metadata in runtime images' \
      'path-exclude=/usr/share/maven-repo/*' >/etc/dpkg/dpkg.cfg.d/golden-tomcat
    golden-pkg install "tomcat$major-common" "libtomcat$major-java"
    # shellcheck disable=SC2016 # ${Version} is a dpkg-query format
    pkg_version=$(dpkg-query -W -f='${Version}' "tomcat$major-common")
    unpack=$(mktemp -d)
    (cd "$unpack" && apt-get -q download "tomcat$major=$pkg_version")
    dpkg-deb -x "$unpack/tomcat${major}_"*.deb "$unpack/root"
    conf_src=$unpack/root/usr/share/tomcat$major/etc
    rmdir /opt/tomcat
    ln -s "/usr/share/tomcat$major" /opt/tomcat
    ;;
  *)
    [ -x /opt/tomcat/bin/catalina.sh ] || die "/opt/tomcat has no Tomcat: the fetch stage did not run"
    conf_src=/opt/tomcat/conf
    ;;
esac

# conf/Catalina/localhost: per-application context files (none); HostConfig wants it to exist.
mkdir -p "$base/conf/Catalina/localhost" "$base/lib" "$base/webapps"
for f in web.xml catalina.properties; do
  [ -f "$conf_src/$f" ] || die "Tomcat's default conf/$f not found in $conf_src"
  install -m 0644 "$conf_src/$f" "$base/conf/$f"
done
for f in server.xml context.xml logging.properties; do
  install -m 0644 "$src/$f" "$base/conf/$f"
done
chown -R 0:0 "$base"
chmod -R u=rwX,go=rX "$base"

# Default web applications (docs, examples, manager, host-manager, ROOT): none anywhere.
for d in /opt/tomcat/webapps "$base/webapps"; do
  if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then die "default web applications present in $d"; fi
done
[ ! -d /var/lib/tomcat"$major" ] || die "/var/lib/tomcat$major exists: the tomcat$major package got installed"

# Smoke test: the installation runs and is the requested major version.
version=$(JAVA_HOME=/opt/java/openjdk CATALINA_HOME=/opt/tomcat CATALINA_BASE=$base \
  /opt/tomcat/bin/catalina.sh version 2>/dev/null | sed -n 's/^Server number: *//p')
case $version in
  "$major".*) log "Apache Tomcat $version, CATALINA_HOME /opt/tomcat -> $(readlink -f /opt/tomcat)" ;;
  *) die "catalina.sh version reports \`${version:-nothing}\`, expected Tomcat $major" ;;
esac
