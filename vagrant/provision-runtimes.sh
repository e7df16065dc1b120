#!/bin/sh
# Shell provisioner for boxes other than notavm/debian12 (a public Debian 12 box under
# libvirt or VirtualBox): installs the runtimes notavm's examples need. notavm's own box
# has them built in (vagrant/build-box.sh) and skips this.
#   NOTAVM_EXTRA_PACKAGES   more Debian packages (space or comma separated)
# Python 2.7 is not in Debian 12: it comes from bullseye, added with a low pin so only
# what bookworm lacks is taken from it. The archive is the one the guest already uses.
set -eu
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"

if ! command -v python2 >/dev/null 2>&1; then
  # The guest's own Debian archive URI, from its apt sources (one-line or deb822).
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {
        if ($(i + 1) == "bookworm") { print $i; exit }
        break } }')"
  if [ -z "$mirror" ]; then
    # deb822: the URIs of the first stanza whose Suites include bookworm
    mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'BEGIN { RS = "" }
      /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t\n]|$)/ && match($0, /URIs:[ \t]*[^ \t\n]+/) {
        u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit }')"
  fi
  [ -n "$mirror" ] || { echo "provision-runtimes: no bookworm archive in the guest's apt sources" >&2; exit 1; }
  echo "deb $mirror bullseye main" > /etc/apt/sources.list.d/notavm-bullseye.list
  printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' > /etc/apt/preferences.d/notavm-bullseye
fi

extra="$(echo "${NOTAVM_EXTRA_PACKAGES:-}" | tr ',' ' ')"
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends \
  bash python3-minimal nodejs python2.7-minimal python2-minimal $extra
python2 --version && python3 --version && node --version
