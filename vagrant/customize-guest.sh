#!/usr/bin/env bash
# mmdebstrap --customize-hook for notavm's box (called by build-box.sh as
# `customize-guest.sh ROOT`, with /proc, /sys and /dev mounted in ROOT).
# Turns the bootstrapped tree into a Vagrant guest that reaches SSH quickly:
# only what SSH needs starts, nothing waits for the network, no fsck, a volatile
# journal, SSH host keys made now (see below), a ~90 KiB initramfs.
# Environment from build-box.sh: NOTAVM_ROOT_UUID, NOTAVM_CMDLINE.
set -euo pipefail
root="${1:?usage: customize-guest.sh ROOT}"
: "${NOTAVM_ROOT_UUID:?set by build-box.sh}" "${NOTAVM_CMDLINE:?set by build-box.sh}"
in_root() { chroot "$root" "$@"; }
put() { # put MODE PATH  (content on stdin)
  mkdir -p "$(dirname "$root$2")"
  cat > "$root$2"
  chmod "$1" "$root$2"
}

# ---- the vagrant user: passwordless sudo, Vagrant's well-known insecure key.
# The key comes from the vagrant package on this host (its keys/ folder).
pubkey="$(dpkg -L vagrant 2>/dev/null | grep '/keys/vagrant\.pub$' | head -n1 || true)"
{ [ -n "$pubkey" ] && [ -s "$pubkey" ]; } || { echo "customize-guest: vagrant's keys/vagrant.pub not found (is the vagrant package installed?)" >&2; exit 1; }
in_root id vagrant >/dev/null 2>&1 || in_root useradd --create-home --user-group --shell /bin/bash vagrant
# No password at all ("*"), rather than a locked one ("!"): sshd runs without PAM (see
# below), and without PAM it refuses locked accounts even for key logins.
in_root usermod --password '*' vagrant
install -d -m 0700 "$root/home/vagrant/.ssh"
install -m 0600 "$pubkey" "$root/home/vagrant/.ssh/authorized_keys"
in_root chown -R vagrant:vagrant /home/vagrant/.ssh
put 0440 /etc/sudoers.d/vagrant <<'EOF'
vagrant ALL=(ALL) NOPASSWD: ALL
Defaults:vagrant !requiretty
EOF
in_root visudo -cq -f /etc/sudoers.d/vagrant

# ---- identity and the root file system
echo notavm > "$root/etc/hostname"
put 0644 /etc/hosts <<'EOF'
127.0.0.1	localhost
127.0.1.1	notavm
::1		localhost ip6-localhost ip6-loopback
EOF
# No /etc/fstab: the kernel command line names the root (root=UUID=... rw
# rootflags=noatime), there is nothing else to mount, no fsck runs at boot (the image is
# made clean; a test VM lives minutes). It also spares a round of `test -f /etc/fstab` +
# `sudo sed` that Vagrant runs over SSH at each `up` to tidy the file.
rm -f "$root/etc/fstab"
# Empty, not absent: systemd makes a fresh id on each VM's first boot, so two VMs from
# this box never share one (and no "first boot" preset run happens).
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# ---- network: systemd-networkd, DHCPv4 on any wired NIC, nothing waits for it.
# ClientIdentifier=mac so libvirt's dnsmasq leases (which vagrant-libvirt reads to
# find the guest) key on the MAC address.
put 0644 /etc/systemd/network/50-notavm-dhcp.network <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no

[DHCPv4]
ClientIdentifier=mac
EOF
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
# DNS without systemd-resolved (it took ~2.9 s to start under emulation, and it sits
# before sysinit.target, so SSH waited for it): a path unit watches networkd's lease
# files and writes the DHCP server's DNS servers and domain into /run/notavm/resolv.conf.
put 0755 /usr/local/sbin/notavm-resolv <<'EOF'
#!/bin/sh
# Write /run/notavm/resolv.conf from systemd-networkd's DHCP leases.
set -eu
out=/run/notavm/resolv.conf
mkdir -p /run/notavm
tmp="$out.$$"
{
  echo "# written by notavm-resolv from systemd-networkd's DHCP leases"
  cat /run/systemd/netif/leases/* 2>/dev/null | sed -n 's/^DOMAINNAME=\(.*\)/search \1/p' | head -n 1
  cat /run/systemd/netif/leases/* 2>/dev/null | sed -n 's/^DNS=//p' | tr ' ' '\n' \
    | awk 'NF && !seen[$0]++ {print "nameserver " $0}' | head -n 3
} > "$tmp"
mv -f "$tmp" "$out"
EOF
put 0644 /etc/systemd/system/notavm-resolv.path <<'EOF'
[Unit]
Description=Watch networkd's DHCP leases for DNS servers

[Path]
PathChanged=/run/systemd/netif/leases

[Install]
WantedBy=paths.target
EOF
put 0644 /etc/systemd/system/notavm-resolv.service <<'EOF'
[Unit]
Description=Write resolv.conf from networkd's DHCP leases

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/notavm-resolv
EOF
in_root systemctl enable notavm-resolv.path >/dev/null 2>&1
ln -sfn ../run/notavm/resolv.conf "$root/etc/resolv.conf"

# ---- boot: only what SSH needs
# Under emulation every exec costs tens of milliseconds and every unit a little more, so
# units a throw-away test guest does not use are masked (measured with
# `systemd-analyze blame`/`critical-chain`; each of these took 0.3-1.5 s here):
#  - waiting for the network, periodic jobs (apt, dpkg backup, e2scrub, fstrim)
#  - kernel file systems and modules nothing here uses (hugepages, mqueue, debugfs,
#    tracefs, configfs, fusectl, binfmt_misc, dm/drm/fuse/loop modprobes, static nodes)
#  - root remount (the kernel mounts it rw already), network-generator (no ip= on the
#    command line), modules-load (/etc/modules is empty), pstore, journal flush (the
#    journal is volatile), random-seed (the 6.1 kernel seeds itself; a seed file
#    copied into every VM of the box would not help anyway)
#  - D-Bus and logind: nothing here uses them (no libpam-systemd, no resolved)
#  - utmp boot/runlevel records (sysinit.target waited ~1 s for them)
#  - gettys on tty1 and (getty-static, for systems without logind) tty2-6: the box
#    has no display; the serial console keeps its getty
masked_units=(
  systemd-networkd-wait-online.service
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
  e2scrub_all.timer e2scrub_reap.service fstrim.timer
  dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount
  sys-kernel-config.mount sys-fs-fuse-connections.mount
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-binfmt.service
  modprobe@configfs.service modprobe@dm_mod.service modprobe@drm.service
  modprobe@fuse.service modprobe@loop.service modprobe@efi_pstore.service
  kmod-static-nodes.service systemd-modules-load.service
  systemd-remount-fs.service systemd-network-generator.service systemd-pstore.service
  systemd-journal-flush.service systemd-random-seed.service
  dbus.service dbus.socket systemd-logind.service
  systemd-update-utmp.service systemd-update-utmp-runlevel.service
  getty@tty1.service getty-static.service
)
in_root systemctl mask --quiet "${masked_units[@]}" 2>/dev/null
# Kernel modules udev would load for the emulated PC's devices that nothing here uses;
# loading a module is slow under emulation and udev was the second biggest CPU user of
# the boot. `blacklist` only stops loading by device alias; `modprobe NAME` still works.
#  - kvm/kvm_amd/kvm_intel: QEMU's CPU models advertise svm/vmx; no nested VMs here
#  - libata/ata_piix/ata_generic: the i440FX board's IDE controller (disks are virtio)
#  - serio_raw, evdev, button, pcspkr: input devices and the ACPI power button (no
#    logind to act on it; Vagrant halts the guest over SSH)
#  - virtio_balloon, qemu_fw_cfg
put 0644 /etc/modprobe.d/notavm-blacklist.conf <<'EOF'
# notavm test box: devices of the emulated PC that the guest does not use
blacklist kvm
blacklist kvm_amd
blacklist kvm_intel
blacklist ata_piix
blacklist ata_generic
blacklist libata
blacklist serio_raw
blacklist evdev
blacklist button
blacklist pcspkr
blacklist virtio_balloon
blacklist qemu_fw_cfg
EOF

# Generators for things this guest has none of (LUKS, dm-integrity/verity, GPT
# auto-mounts, hibernation, rc.local, offline updates, SysV scripts).
mkdir -p "$root/etc/systemd/system-generators"
for g in systemd-cryptsetup-generator systemd-integritysetup-generator \
         systemd-veritysetup-generator systemd-gpt-auto-generator \
         systemd-hibernate-resume-generator systemd-rc-local-generator \
         systemd-system-update-generator systemd-sysv-generator systemd-run-generator; do
  ln -sfn /dev/null "$root/etc/systemd/system-generators/$g"
done
put 0644 /etc/systemd/journald.conf.d/notavm.conf <<'EOF'
[Journal]
Storage=volatile
RuntimeMaxUse=16M
ForwardToSyslog=no
EOF
put 0644 /etc/systemd/system.conf.d/notavm.conf <<'EOF'
[Manager]
# No "Starting/Started ..." line per unit (PID 1 and journald are the biggest CPU users
# of this boot under emulation). Warnings and errors still go to the journal.
LogLevel=notice
# Fail fast instead of waiting the default 90 s on shutdown (vagrant destroy/halt).
DefaultTimeoutStopSec=10s
EOF

# ---- SSH
# Host keys are generated here, at build time, by openssh-server's postinst: every VM
# from this box has the same host keys. Acceptable for a local, throw-away test box
# (Vagrant itself does not check host keys); it saves key generation at first boot,
# which is slow under emulation.
ls "$root"/etc/ssh/ssh_host_*_key >/dev/null 2>&1 || in_root ssh-keygen -A
put 0644 /etc/ssh/sshd_config.d/notavm.conf <<'EOF'
# notavm test box
UseDNS no
GSSAPIAuthentication no
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
PrintLastLog no
# No PAM for SSH sessions: every session (and Vagrant runs several per `up`, each
# command its own) otherwise dlopen()s and runs the whole PAM stack, ~0.2 s each under
# emulation. Keys are the only way in; sudo still uses PAM.
UsePAM no
EOF
# `sshd -t` before the real start is one more sshd exec on the boot path; the config
# is checked here instead.
mkdir -p "$root/run/sshd"
in_root /usr/sbin/sshd -t
rmdir "$root/run/sshd" 2>/dev/null || true
# ssh.service as Debian ships it, less two things, as a full unit in /etc (a drop-in
# cannot remove an ordering): no `After=network.target`, so sshd starts while networkd
# is still bringing the NIC up (it listens on the wildcard address, the DHCP lease only
# decides when anyone can reach it); no `ExecStartPre=sshd -t`.
sed -e '/^After=/s/ *network\.target//' -e '/^ExecStartPre=/d' \
  "$root/lib/systemd/system/ssh.service" > "$root/etc/systemd/system/ssh.service"
! grep -q 'network\.target\|ExecStartPre' "$root/etc/systemd/system/ssh.service" \
  || { echo "customize-guest: could not rewrite ssh.service" >&2; exit 1; }
in_root systemctl reenable ssh.service >/dev/null 2>&1
# No motd (nothing would show it: no PAM, PrintMotd no).
rm -f "$root"/etc/update-motd.d/*
: > "$root/etc/motd"

# ---- Python 2: python2-minimal (bullseye) provides /usr/bin/python2 -> python2.7.
[ -x "$root/usr/bin/python2" ] || ln -sfn python2.7 "$root/usr/bin/python2"

# ---- initramfs: tiny-initramfs with virtio_pci + virtio_blk only (config written by
# build-box.sh's setup hook). Rebuilt here explicitly so the image is never left from
# a hook that ran before the config existed.
for k in "$root"/boot/vmlinuz-*; do
  kver="${k##*/vmlinuz-}"
  in_root mktirfs -o "/boot/initrd.img-$kver" "$kver"
done

# ---- what the box says about itself
put 0644 /etc/notavm-box <<EOF
cmdline=$NOTAVM_CMDLINE
EOF

# ---- smoke test of the runtimes, inside the tree
in_root python2 --version >/dev/null 2>&1 || { echo "customize-guest: python2 does not run" >&2; exit 1; }
in_root python3 --version >/dev/null
in_root node --version >/dev/null
in_root bash --version >/dev/null

# ---- first-boot updates, done now: system users, the hwdb, the journal catalog and
# the linker cache are current (systemd-sysusers took 0.3 s at boot before this); /etc/.updated and /var/.updated say so (with /usr's
# time), so the ConditionNeedsUpdate= units do not run on the guest's first boot.
in_root systemd-sysusers >/dev/null 2>&1 || true
# (udev's postinst compiles /lib/udev/hwdb.bin; a second copy in /etc would win)
[ -s "$root/lib/udev/hwdb.bin" ] || in_root systemd-hwdb update --usr
in_root journalctl --update-catalog >/dev/null 2>&1 || true
in_root ldconfig
touch "$root/usr"  # /usr is final now
usr_ns="$(stat -c '%.9Y' "$root/usr" | tr -d .)"
for f in /etc/.updated /var/.updated; do
  printf '# This file was created by notavm build-box (as systemd-update-done would).\nTIMESTAMP_NSEC=%s\n' "$usr_ns" > "$root$f"
  touch -r "$root/usr" "$root$f"
done

# ---- trim: logs and caches the image does not need
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
find "$root/var/log" -type f -delete
