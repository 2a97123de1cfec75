#!/bin/sh
# fetch-tomcat.sh: the "fetch" build stage of the tomcat image, for bases whose OS does not
# package Tomcat (Alpine, UBI). Downloads the Apache Tomcat binary tarball, verifies it, and
# unpacks a trimmed tree into /opt/tomcat. The stage is thrown away: only /opt/tomcat is
# copied into the image, so the download tools (curl, gnupg) never reach it.
# On Debian it only creates an empty /opt/tomcat: Tomcat comes from Debian's own packages.
#
# Verification, both required:
#   1. SHA-512 of the tarball equals TOMCAT_SHA512 (pinned in the Dockerfile);
#   2. its detached OpenPGP signature verifies against Apache Tomcat's KEYS file, filtered to
#      the release managers' full fingerprints in TOMCAT_GPG_FINGERPRINTS (pinned in the
#      Dockerfile): a KEYS file altered to add a key cannot make a bad tarball pass.
# Environment: TOMCAT_MAJOR, TOMCAT_VERSION, TOMCAT_SHA512, TOMCAT_GPG_FINGERPRINTS.
set -eu

log() { printf 'fetch-tomcat: %s\n' "$*" >&2; }
die() {
  printf 'fetch-tomcat: error: %s\n' "$*" >&2
  exit 1
}

mkdir -p /opt/tomcat
os=$(golden-pkg os)
if [ "$os" = debian ]; then
  log "Debian: Tomcat comes from the OS packages (tomcat$TOMCAT_MAJOR-common), nothing to fetch"
  exit 0
fi

major=${TOMCAT_MAJOR:?TOMCAT_MAJOR is required}
version=${TOMCAT_VERSION:?TOMCAT_VERSION is required}
sha512=${TOMCAT_SHA512:?TOMCAT_SHA512 is required}
fingerprints=${TOMCAT_GPG_FINGERPRINTS:?TOMCAT_GPG_FINGERPRINTS is required}
case $version in
  "$major".*) ;;
  *) die "TOMCAT_VERSION $version is not a Tomcat $TOMCAT_MAJOR release (TOMCAT_MAJOR=$major)" ;;
esac

case $os in
  alpine) golden-pkg install curl gnupg tar ;;
  redhat)
    golden-pkg install gnupg2 tar gzip
    command -v curl >/dev/null 2>&1 || golden-pkg install curl-minimal
    ;;
esac
command -v curl >/dev/null 2>&1 || die "curl is needed to download Tomcat"

work=$(mktemp -d)
cd "$work"
path="tomcat/tomcat-$major/v$version/bin/apache-tomcat-$version.tar.gz"
# The CDN has only current releases; the archive keeps every release (pinned versions).
fetch() {
  for base in https://dlcdn.apache.org https://archive.apache.org/dist; do
    if curl -fsSL --retry 3 -o "$2" "$base/$1" && [ -s "$2" ]; then
      log "downloaded $base/$1"
      return 0
    fi
  done
  die "could not download $1"
}
fetch "$path" tomcat.tar.gz
fetch "$path.asc" tomcat.tar.gz.asc
fetch "tomcat/tomcat-$major/KEYS" KEYS

printf '%s  %s\n' "$sha512" tomcat.tar.gz >tomcat.tar.gz.sha512
sha512sum -c tomcat.tar.gz.sha512 || die "SHA-512 of apache-tomcat-$version.tar.gz does not match TOMCAT_SHA512"

GNUPGHOME=$work/gnupg-all
export GNUPGHOME
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --import KEYS 2>/dev/null || true
: >trusted-keys.asc
for fp in $fingerprints; do
  gpg --batch --quiet --export --armor "$fp" >key.asc
  [ -s key.asc ] || die "release manager key $fp is not in Tomcat's KEYS file"
  cat key.asc >>trusted-keys.asc
done
GNUPGHOME=$work/gnupg-trusted
export GNUPGHOME
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --import trusted-keys.asc
gpg --batch --status-fd 1 --verify tomcat.tar.gz.asc tomcat.tar.gz >verify.status 2>verify.log ||
  die "OpenPGP signature of apache-tomcat-$version.tar.gz does not verify: $(cat verify.log)"
signer=
while read -r tag kind fp _; do
  [ "$tag $kind" = "[GNUPG:] VALIDSIG" ] && signer=$fp
done <verify.status
[ -n "$signer" ] || die "no valid signature on apache-tomcat-$version.tar.gz"
log "signature by $signer verified"

tar -xzf tomcat.tar.gz -C /opt/tomcat --strip-components=1
cd /opt/tomcat
# Trim: Windows scripts, sources of native libraries, the default web applications (CIS
# Tomcat 1.1), release notes, and the writable state directories (they live in /tmp).
rm -rf bin/*.bat bin/tomcat-native.tar.gz bin/commons-daemon-native.tar.gz webapps \
  logs temp work RELEASE-NOTES RUNNING.txt BUILDING.txt CONTRIBUTING.md README.md
chown -R 0:0 /opt/tomcat
chmod -R u=rwX,go=rX /opt/tomcat
rm -rf "$work"
log "Apache Tomcat $version unpacked in /opt/tomcat"
