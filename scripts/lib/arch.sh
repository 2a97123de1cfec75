# shellcheck shell=bash
# Architecture names for the scripts: one rule, the same as golden-build's (spec::target_arch,
# spec::arch_tag). Images and Debian say amd64 and arm64; the kernel's x86_64 and aarch64 are
# read as those. Sourced, not run; the caller defines die().

# golden_arch NAME WHAT: print the image architecture NAME stands for, or die naming WHAT (the
# flag or variable it came from). Use as `a=$(golden_arch "$x" GOLDEN_ARCH) || exit 2`.
golden_arch() {
  case $1 in
    amd64 | x86_64) echo amd64 ;;
    arm64 | aarch64) echo arm64 ;;
    *) die "$2: architecture \`$1\` is not supported (amd64, arm64; x86_64 and aarch64 are read as those)" ;;
  esac
}

# golden_host_arch: this machine's image architecture (dpkg's, else the kernel's; an
# architecture no image here is built for is printed as it is).
golden_host_arch() {
  local h
  h=$(dpkg --print-architecture 2>/dev/null || uname -m)
  case $h in x86_64) h=amd64 ;; aarch64) h=arm64 ;; esac
  echo "$h"
}

# golden_arch_tag REF ARCH: where a foreign architecture's image lives beside the native one,
# `<tag>-<arch>` (`latest-<arch>` for a reference without a tag).
golden_arch_tag() {
  if [[ ${1##*/} == *:* ]]; then echo "$1-$2"; else echo "$1:latest-$2"; fi
}

# golden_qemu_name ARCH: the name qemu and binfmt_misc give ARCH (qemu-aarch64, ...).
golden_qemu_name() {
  case $1 in amd64) echo x86_64 ;; arm64) echo aarch64 ;; *) echo "$1" ;; esac
}
