#!/usr/bin/env bash
# Define and start notavm's libvirt network (idempotent), the VM's management network.
#
#   vagrant/libvirt-network.sh [--check]
#
# Why a network of our own rather than the one vagrant-libvirt makes on each `vagrant up`:
#  - it stays: vagrant-libvirt creates its "vagrant-libvirt" network at `up` and removes
#    it again at `destroy`, a few seconds each time;
#  - dnsmasq runs with no-ping: by default it pings an address before offering it and
#    ignores the client's first DHCPDISCOVER meanwhile, so the guest only got its lease
#    on its retransmission, ~3 s later (measured: carrier at 6.9 s, lease at 10.0 s).
#    In a NAT network that only this host's VMs use, the ping protects against nothing.
#
# Environment:
#   NOTAVM_NET_NAME     network name            (default notavm)
#   NOTAVM_NET_PREFIX   first three octets /24  (default 192.168.124; must be unused)
#   LIBVIRT_DEFAULT_URI                         (default qemu:///system)
# --check: exit 0 if the network is defined as expected and active, 1 otherwise.
set -euo pipefail
name="${NOTAVM_NET_NAME:-notavm}"
prefix="${NOTAVM_NET_PREFIX:-192.168.124}"
uri="${LIBVIRT_DEFAULT_URI:-qemu:///system}"
virsh=(virsh -q -c "$uri")
log() { printf 'libvirt-network: %s\n' "$*" >&2; }

[[ "$prefix" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { log "NOTAVM_NET_PREFIX wants three octets, e.g. 192.168.124"; exit 2; }

is_ours() { "${virsh[@]}" net-dumpxml "$name" 2>/dev/null | grep -q "value='no-ping'"; }
is_active() { [ "$("${virsh[@]}" net-info "$name" 2>/dev/null | awk '$1 == "Active:" {print $2}')" = yes ]; }

if [ "${1:-}" = "--check" ]; then
  is_ours && is_active
  exit
fi

if "${virsh[@]}" net-info "$name" >/dev/null 2>&1 && ! is_ours; then
  # A network of that name without our settings (vagrant-libvirt makes one when the
  # Vagrantfile names a network that does not exist yet): replace it when unused.
  if is_active; then
    log "network $name exists without no-ping and is active; leaving it (destroy its VMs, then rerun)"
    exit 1
  fi
  log "redefining network $name"
  "${virsh[@]}" net-undefine "$name" >/dev/null
fi

if ! "${virsh[@]}" net-info "$name" >/dev/null 2>&1; then
  if ip -4 route show 2>/dev/null | grep -q "^$prefix\.0/24 "; then
    log "$prefix.0/24 is already routed on this host; set NOTAVM_NET_PREFIX to a free /24"
    exit 1
  fi
  xml="$(mktemp)"
  trap 'rm -f "$xml"' EXIT
  cat > "$xml" <<EOF
<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>
  <name>$name</name>
  <forward mode='nat'/>
  <bridge name='virbr-${name:0:9}' stp='off' delay='0'/>
  <ip address='$prefix.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$prefix.2' end='$prefix.254'/>
    </dhcp>
  </ip>
  <dnsmasq:options>
    <dnsmasq:option value='no-ping'/>
  </dnsmasq:options>
</network>
EOF
  log "defining network $name ($prefix.0/24, NAT, dnsmasq no-ping)"
  "${virsh[@]}" net-define "$xml" >/dev/null
fi
"${virsh[@]}" net-autostart "$name" >/dev/null
is_active || { log "starting network $name"; "${virsh[@]}" net-start "$name" >/dev/null; }
exit 0
