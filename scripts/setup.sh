#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine, run as root: installs what notavm needs
# from Debian's archive and PyPI and starts the daemons nobody else starts.
#   scripts/setup.sh            Docker side (docker.io, mmdebstrap, the Python package) and
#                               the VM side (vagrant, vagrant-libvirt, libvirt, QEMU)
#   scripts/setup.sh --no-vm    the Docker side only
set -euo pipefail
cd "$(dirname "$0")/.."

want_vm=1
[ "${1:-}" = "--no-vm" ] && want_vm=0

log() { printf 'setup: %s\n' "$*" >&2; }

apt_updated=0
need_pkgs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_pkgs docker.io mmdebstrap ca-certificates

# dockerd: started in the background only when no daemon answers.
if ! timeout 10 docker info >/dev/null 2>&1; then
  log "starting dockerd"
  setsid nohup dockerd >/var/log/notavm-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    timeout 5 docker info >/dev/null 2>&1 && break
    sleep 1
  done
  timeout 10 docker info >/dev/null 2>&1 || { log "dockerd did not answer; see /var/log/notavm-dockerd.log"; exit 1; }
fi

if [ $want_vm -eq 1 ]; then
  need_pkgs vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils \
    e2fsprogs syslinux syslinux-common mtools dosfstools
  pgrep -x virtlogd >/dev/null || { log "starting virtlogd"; virtlogd -d; }
  if ! virsh -c qemu:///system version >/dev/null 2>&1; then
    log "starting libvirtd"
    libvirtd -d
    for _ in $(seq 1 30); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
  fi
  virsh -c qemu:///system net-info default >/dev/null 2>&1 && \
    { virsh -c qemu:///system net-list --name | grep -qx default || virsh -c qemu:///system net-start default >/dev/null; }
fi

# The Python package, in a virtual environment of its own.
if [ ! -x .venv/bin/notavm ] || [ pyproject.toml -nt .venv/.installed ]; then
  log "installing notavm into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch .venv/.installed
fi
