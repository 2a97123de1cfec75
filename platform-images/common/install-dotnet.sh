#!/bin/sh
# install-dotnet.sh: install the .NET runtime DOTNET_VERSION (the shared runtime, or the
# ASP.NET Core runtime, which includes it) for the dotnet and aspnet images.
#
#   install-dotnet.sh runtime|aspnet
#
#   Debian 12  Microsoft's signed package repository (Debian does not package .NET):
#              dotnet-runtime-<V> / aspnetcore-runtime-<V>. The repository key is the
#              committed platform-images/common/microsoft.asc (Microsoft (Release signing),
#              fingerprint BC52 8686 B50D 79E3 39D3 721C EB3E 94AD BE12 29CF, checked by
#              tests/shell/test-platform-files.sh), trusted for that repository only
#              (Signed-By); the repository is never marked as trusted without a signature.
#   Alpine     the release's community repository: dotnet<M>-runtime / aspnetcore<M>-runtime
#   UBI 9      the UBI AppStream repository: dotnet-runtime-<V> / aspnetcore-runtime-<V>
#
# ICU and time zone data are installed: the images run with globalization enabled
# (DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=false), which is what most applications expect.
# Environment: DOTNET_VERSION (required), e.g. 8.0.
set -eu

log() { printf 'install-dotnet: %s\n' "$*" >&2; }
die() {
  printf 'install-dotnet: error: %s\n' "$*" >&2
  exit 1
}

flavor=${1:-}
case $flavor in
  runtime | aspnet) ;;
  *) die "usage: install-dotnet.sh runtime|aspnet" ;;
esac
v=${DOTNET_VERSION:-}
case $v in
  [0-9].[0-9] | [0-9][0-9].[0-9]) ;;
  *) die "DOTNET_VERSION must be a .NET channel like 8.0 (got \`$v\`)" ;;
esac
major=${v%%.*}
key=/usr/local/lib/golden/microsoft.asc

os=$(golden-pkg os)
case $os in
  debian)
    # shellcheck disable=SC1091,SC2153 # the file belongs to the image and defines them
    version_id=$(. /etc/os-release && printf '%s' "$VERSION_ID")
    # shellcheck disable=SC1091 # the file belongs to the image
    codename=$(. /etc/os-release && printf '%s' "$VERSION_CODENAME")
    # apt needs CA certificates for the HTTPS repository.
    golden-pkg install ca-certificates
    [ -s "$key" ] || die "Microsoft's repository key $key is missing"
    install -m 0644 "$key" /usr/share/keyrings/microsoft-prod.asc
    cat >/etc/apt/sources.list.d/microsoft-prod.sources <<EOF
Types: deb
URIs: https://packages.microsoft.com/debian/$version_id/prod
Suites: $codename
Components: main
Signed-By: /usr/share/keyrings/microsoft-prod.asc
EOF
    # The package index of the new repository: refresh even if this step fetched indexes.
    rm -f /var/lib/apt/lists/.golden-updated
    if [ "$flavor" = aspnet ]; then pkg=aspnetcore-runtime-$v; else pkg=dotnet-runtime-$v; fi
    golden-pkg install "$pkg" tzdata
    ;;
  alpine)
    if [ "$flavor" = aspnet ]; then pkg=aspnetcore$major-runtime; else pkg=dotnet$major-runtime; fi
    golden-pkg install "$pkg" icu-libs icu-data-full tzdata
    ;;
  redhat)
    if [ "$flavor" = aspnet ]; then pkg=aspnetcore-runtime-$v; else pkg=dotnet-runtime-$v; fi
    golden-pkg install "$pkg" tzdata
    ;;
esac

command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH after installing $pkg"
runtimes=$(dotnet --list-runtimes)
case $runtimes in
  *"Microsoft.NETCore.App $v."*) ;;
  *) die "the .NET $v runtime is not installed (dotnet --list-runtimes: $runtimes)" ;;
esac
if [ "$flavor" = aspnet ]; then
  case $runtimes in
    *"Microsoft.AspNetCore.App $v."*) ;;
    *) die "the ASP.NET Core $v runtime is not installed (dotnet --list-runtimes: $runtimes)" ;;
  esac
fi
log "installed $pkg: $(printf '%s' "$runtimes" | tr '\n' ';')"
