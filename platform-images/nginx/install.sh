#!/bin/sh
# install.sh (nginx): install nginx from the base OS's own packages and put the golden
# configuration in place. Run by platform-images/nginx/Dockerfile as root; the files it
# installs were copied to /usr/local/lib/golden/nginx/ by the Dockerfile.
#
#   Debian 12  nginx 1.22 (the `nginx` binary package; no extra dynamic modules)
#   UBI 9      nginx from the AppStream module stream NGINX_STREAM (default 1.22)
#   Alpine     nginx from the release's main repository (3.20: 1.26)
#
# The packaged server blocks and the Debian sites-* tree are removed: the only server is
# configs/default.conf. Configuration stays root-owned and read-only for the runtime user.
#
#   install.sh packages   the package, without its configuration, logs and state directories
#   install.sh config     our configuration (copied after the first step: a change to a
#                         configuration file rebuilds from here, the package layer comes
#                         from the build cache)
#   install.sh            both
set -eu

log() { printf 'install-nginx: %s\n' "$*" >&2; }
die() {
  printf 'install-nginx: error: %s\n' "$*" >&2
  exit 1
}

src=/usr/local/lib/golden/nginx
phase=${1:-all}
case $phase in
  packages | config | all) ;;
  *) die "unknown step \`$phase\` (expected packages, config or nothing for both)" ;;
esac

packages() {
  os=$(golden-pkg os)
  case $os in
    debian) golden-pkg install nginx ;;
    alpine) golden-pkg install nginx ;;
    redhat)
      stream=${NGINX_STREAM:-1.22}
      microdnf -y module enable "nginx:$stream"
      golden-pkg install nginx
      ;;
  esac

  # The packaged configuration goes (ours replaces it in the config step).
  rm -rf /etc/nginx/sites-available /etc/nginx/sites-enabled /etc/nginx/http.d \
    /etc/nginx/default.d /etc/nginx/conf.d

  # Log and state directories of the package are never written (logs go to stdout/stderr,
  # state to /tmp); remove them so nothing suggests otherwise.
  rm -rf /var/log/nginx /var/lib/nginx/* /var/cache/nginx/* /run/nginx
  log "installed $(nginx -v 2>&1)"
}

config() {
  mkdir -p /etc/nginx/conf.d /etc/nginx/snippets /etc/nginx/tls.d /usr/share/nginx/html
  install -m 0644 "$src/nginx.conf" /etc/nginx/nginx.conf
  install -m 0644 "$src/default.conf" /etc/nginx/conf.d/default.conf
  install -m 0644 "$src/nginx-security-headers.conf" /etc/nginx/snippets/golden-security-headers.conf
  install -m 0644 "$src/tls.conf" /etc/nginx/snippets/golden-tls.conf
  rm -rf /usr/share/nginx/html/*
  install -m 0644 "$src/index.html" /usr/share/nginx/html/index.html
  chown -R root:root /etc/nginx /usr/share/nginx/html
  chmod -R go-w /etc/nginx /usr/share/nginx/html

  # The configuration must parse (as root here: -t only reads it; the pid and temp paths are
  # under /tmp, which exists during the build).
  nginx -e stderr -t -q || die "nginx -t rejected the configuration"
  log "configured $(nginx -v 2>&1)"
}

case $phase in
  packages) packages ;;
  config) config ;;
  all) packages && config ;;
esac
