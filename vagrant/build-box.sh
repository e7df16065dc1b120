#!/usr/bin/env bash
# Build notavm's local Vagrant box (provider libvirt) from Debian packages alone:
# no Vagrant Cloud, no container registry, only the Debian archive the host's apt uses.
#
#   vagrant/build-box.sh [--force] [--add] [--out DIR] [--disk-gb N] [PACKAGE...]
#
# The guest: Debian 12 (bookworm), linux-image-cloud-amd64 with a ~90 KiB
# tiny-initramfs, systemd, systemd-networkd (DHCP, nothing waits for it), OpenSSH with
# host keys made at build time, sudo, a `vagrant` user with Vagrant's insecure key, and
# the runtimes notavm's examples need: bash, python3-minimal, nodejs and python2.7
# (from bullseye, pinned low, since bookworm has no Python 2).
#
# The disk boots itself: an MBR disk with a small FAT partition holding SYSLINUX, the
# kernel and the initramfs, and the ext4 root. So the box needs no kernel file on the
# host (QEMU, run by libvirt as libvirt-qemu, could not read one under /root anyway).
# Nothing is mounted: the FAT side is written with mtools, the ext4 side with
# `mke2fs -d`.
#
# Options (each has an environment variable; the option wins):
#   --force            rebuild even when the box file is there and up to date
#   --add              `vagrant box add` the result as $NOTAVM_BOX_NAME (also when the
#                      build was skipped, unless that very file is already added), and
#                      set up the libvirt network "notavm" (vagrant/libvirt-network.sh)
#   --out DIR          NOTAVM_BOX_DIR    where the box goes
#                                        (default ${XDG_CACHE_HOME:-~/.cache}/notavm/box)
#   --name NAME        NOTAVM_BOX_NAME   box name for --add (default notavm/debian12)
#   --disk-gb N        NOTAVM_DISK_GB    virtual disk size in GiB (default 4)
#   --package P, P...  NOTAVM_EXTRA_PACKAGES (space or comma separated)
#                      extra Debian packages; `name/bullseye` picks the suite
#   --mirror URI       NOTAVM_MIRROR     Debian archive   (default: from host's apt)
#   --security URI     NOTAVM_SECURITY_MIRROR  security archive (default: from host's apt)
#   --print-path                         print the box file's path and exit
#   NOTAVM_EXTRA_CMDLINE                 appended to the guest kernel's command line
#   NOTAVM_NO_APT=1    never apt-get install missing host tools, just fail
#
# A box is skipped when the box file exists and was built from the same inputs
# (these scripts, the box Vagrantfile, the package list, the disk size, the extra
# command line); anything else rebuilds. A build takes about a minute here, most of it
# mmdebstrap. Needs root (mmdebstrap's root mode, chroot).
#
# Output in the box directory: notavm-debian12.box (+ .inputs, .id: what it was built
# from, which build it is) and vmlinuz, the guest kernel, which the top-level Vagrantfile
# boots for a moment to find out whether KVM really works here.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BOX_FILE_NAME="notavm-debian12.box"
SUITE="bookworm"
PY2_SUITE="bullseye"

force=0
add=0
print_path=0
out="${NOTAVM_BOX_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/notavm/box}"
box_name="${NOTAVM_BOX_NAME:-notavm/debian12}"
disk_gb="${NOTAVM_DISK_GB:-4}"
mirror="${NOTAVM_MIRROR:-}"
security="${NOTAVM_SECURITY_MIRROR:-}"
extra=()
# shellcheck disable=SC2206 # splitting on spaces and commas is the point
[ -n "${NOTAVM_EXTRA_PACKAGES:-}" ] && { set -f; extra+=(${NOTAVM_EXTRA_PACKAGES//,/ }); set +f; }

log() { printf 'build-box: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --add) add=1 ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --out=*) out="${1#*=}" ;;
    --name) box_name="${2:?--name needs a box name}"; shift ;;
    --name=*) box_name="${1#*=}" ;;
    --disk-gb) disk_gb="${2:?--disk-gb needs a number}"; shift ;;
    --disk-gb=*) disk_gb="${1#*=}" ;;
    --package|-p) extra+=("${2:?--package needs a name}"); shift ;;
    --package=*) extra+=("${1#*=}") ;;
    --mirror) mirror="${2:?}"; shift ;;
    --security) security="${2:?}"; shift ;;
    --print-path) print_path=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) extra+=("${1//,/ }") ;;
  esac
  shift
done
set -f
# shellcheck disable=SC2206 # a positional "a,b c" is split like the env variable
extra=(${extra[*]:-})
set +f

case "$disk_gb" in ''|*[!0-9]*) die "--disk-gb wants a whole number of GiB, not '$disk_gb'" ;; esac
[ "$disk_gb" -ge 2 ] || die "--disk-gb must be at least 2"
for p in "${extra[@]}"; do
  [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]*(/[a-z0-9-]+)?$ ]] || die "not a Debian package name: '$p'"
done

box="$out/$BOX_FILE_NAME"
if [ $print_path -eq 1 ]; then printf '%s\n' "$box"; exit 0; fi

# The runtimes the examples need, then whatever the caller adds.
base_pkgs=(
  linux-image-cloud-amd64 tiny-initramfs
  systemd-sysv udev openssh-server sudo
  bash python3-minimal nodejs
  python2.7-minimal python2-minimal
)
mapfile -t all_pkgs < <(printf '%s\n' "${base_pkgs[@]}" "${extra[@]}" | awk 'NF && !seen[$0]++')

# ---------------------------------------------------------------- up to date?
inputs_hash() {
  {
    sha256sum "$HERE/build-box.sh" "$HERE/customize-guest.sh" "$HERE/box.Vagrantfile" | awk '{print $1}'
    printf '%s\n' "$disk_gb" "${NOTAVM_EXTRA_CMDLINE:-}" "${all_pkgs[@]}"
  } | sha256sum | awk '{print $1}'
}
want_hash="$(inputs_hash)"
stamp="$box.inputs"

box_added_from_this_file() {
  # vagrant keeps the box's metadata.json; we add an "notavm_build" field to it.
  local id
  id="$(sed -n 's/.*"notavm_build":"\([^"]*\)".*/\1/p' "$box.id" 2>/dev/null || true)"
  [ -n "$id" ] || return 1
  local dir="${VAGRANT_HOME:-$HOME/.vagrant.d}/boxes/${box_name//\//-VAGRANTSLASH-}"
  grep -qsF "\"notavm_build\":\"$id\"" "$dir"/*/libvirt/metadata.json
}

add_box() {
  command -v vagrant >/dev/null || die "vagrant is not installed (scripts/setup.sh --vm installs it)"
  # The VM's management network (persistent, dnsmasq without the ping delay).
  if command -v virsh >/dev/null; then
    "$HERE/libvirt-network.sh" || log "notavm's libvirt network is not set up; vagrant-libvirt will use its own"
  fi
  if box_added_from_this_file; then
    log "box $box_name is already added from $box"
    return 0
  fi
  log "vagrant box add --force --name $box_name $box"
  vagrant box add --force --name "$box_name" "$box" >&2
  # vagrant-libvirt keeps the uploaded base image in the storage pool under a name
  # made from the box name and version; a stale one would be used instead of the new
  # box, so drop it (it is uploaded again on the next `vagrant up`).
  if command -v virsh >/dev/null; then
    local uri="${LIBVIRT_DEFAULT_URI:-qemu:///system}" vol_prefix pool vol
    vol_prefix="${box_name//\//-VAGRANTSLASH-}_vagrant_box_image_"
    for pool in $(virsh -c "$uri" pool-list --name 2>/dev/null); do
      for vol in $(virsh -c "$uri" vol-list --pool "$pool" 2>/dev/null | awk -v p="$vol_prefix" 'index($1, p) == 1 {print $1}'); do
        log "removing stale base volume $pool/$vol"
        virsh -c "$uri" vol-delete --pool "$pool" "$vol" >/dev/null || log "could not delete $pool/$vol (in use?)"
      done
    done
  fi
}

if [ $force -eq 0 ] && [ -s "$box" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want_hash" ]; then
  log "up to date: $box (--force rebuilds)"
  [ $add -eq 1 ] && add_box
  exit 0
fi
[ -s "$box" ] && [ $force -eq 0 ] && log "inputs changed since $box was built: rebuilding"

# ---------------------------------------------------------------- host tools
[ "$(id -u)" -eq 0 ] || die "run as root: mmdebstrap builds the tree in root mode and chroots into it"
need_tools() {
  local missing=() t pkg
  for t in "$@"; do
    pkg="${t#*:}"; t="${t%%:*}"
    command -v "$t" >/dev/null || [ -e "$t" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${NOTAVM_NO_APT:-0}" = 1 ] && die "missing host packages: ${missing[*]}"
  log "installing host packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
need_tools mmdebstrap:mmdebstrap mke2fs:e2fsprogs mkfs.fat:dosfstools mcopy:mtools \
  syslinux:syslinux /usr/lib/syslinux/mbr/mbr.bin:syslinux-common sfdisk:fdisk \
  qemu-img:qemu-utils

# ---------------------------------------------------------------- mirrors
# Debian's archive and security archive as the host's apt knows them: the first
# repository whose Release says o=Debian (l=Debian, resp. l=Debian-Security).
host_repo() {
  local label="$1"
  apt-cache policy 2>/dev/null | awk -v want="l=$label," '
    $1 ~ /^-?[0-9]+$/ && $2 ~ /:\/\// { uri = $2; next }
    $1 == "release" && uri != "" && index($2 ",", "o=Debian,") && index($2 ",", want) { print uri; exit }
    { uri = "" }'
}
[ -n "$mirror" ] || mirror="$(host_repo Debian)"
[ -n "$security" ] || security="$(host_repo Debian-Security)"
[ -n "$mirror" ] || die "found no Debian archive in the host's apt sources (run apt-get update, or set NOTAVM_MIRROR)"
if [ -z "$security" ]; then
  log "no security archive in the host's apt sources: building without security updates"
fi
sources=(
  "deb $mirror $SUITE main"
  "deb $mirror $SUITE-updates main"
  "deb $mirror $PY2_SUITE main"
)
[ -n "$security" ] && sources+=("deb $security $SUITE-security main" "deb $security $PY2_SUITE-security main")

# ---------------------------------------------------------------- build
mkdir -p "$out"
work="$(mktemp -d "$out/.build.XXXXXX")"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  # mmdebstrap unmounts what it mounted; only our own scratch tree goes.
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
root="$work/root"
t0=$(date +%s)

# Python 2 lives only in bullseye: that suite is in the guest's sources but pinned to
# 100, so apt takes from it only what bookworm does not have (python2.7 and its few
# libraries) and never replaces a bookworm package with an older one.
# (The hooks are run by mmdebstrap with the tree as $1: single quotes on purpose.)
# shellcheck disable=SC2016
pin_hook='mkdir -p "$1/etc/apt/preferences.d" && printf "%s\n" \
  "Package: *" "Pin: release n='"$PY2_SUITE"'" "Pin-Priority: 100" "" \
  "Package: *" "Pin: release n='"$PY2_SUITE"'-security" "Pin-Priority: 100" \
  > "$1/etc/apt/preferences.d/notavm-'"$PY2_SUITE"'"'
# tiny-initramfs: must be configured before the kernel's postinst hook builds the
# image. The cloud kernel has ext4 built in but virtio_blk as a module.
# shellcheck disable=SC2016
tirfs_hook='mkdir -p "$1/etc/tiny-initramfs" && printf "%s\n" \
  "# notavm: a virtio disk; root=UUID= is resolved by tiny-initramfs; nothing to detect" \
  "DEBUG=no" "MICROCODE=no" "AUTO_MODULES=no" \
  "INCLUDE_MODULES=\"virtio_pci,virtio_blk\"" > "$1/etc/tiny-initramfs/tiny-initramfs.conf"'

# Handed to customize-guest.sh (mmdebstrap runs hooks with our environment).
NOTAVM_ROOT_UUID="$(cat /proc/sys/kernel/random/uuid)"
# quiet: the serial console is slow under emulation; mitigations=off: a throw-away
# test guest, and the checks cost time under TCG; rw + rootflags: the root is mounted
# once, as it stays (the guest has no /etc/fstab, no remount, no fsck at boot).
NOTAVM_CMDLINE="root=UUID=$NOTAVM_ROOT_UUID rw rootflags=noatime quiet console=ttyS0,115200 mitigations=off"
NOTAVM_CMDLINE="$NOTAVM_CMDLINE${NOTAVM_EXTRA_CMDLINE:+ $NOTAVM_EXTRA_CMDLINE}"
export NOTAVM_ROOT_UUID NOTAVM_CMDLINE

log "mmdebstrap $SUITE (+ $PY2_SUITE pinned low): ${all_pkgs[*]}"
mmdebstrap --variant=apt --format=directory --quiet \
  --aptopt='APT::Install-Recommends "false"' \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --dpkgopt='path-exclude=/usr/share/bug/*' \
  --setup-hook="$pin_hook" \
  --setup-hook="$tirfs_hook" \
  --include="$(IFS=,; echo "${all_pkgs[*]}")" \
  --customize-hook="\"$HERE/customize-guest.sh\" \"\$1\"" \
  "$SUITE" "$root" "${sources[@]}"
t1=$(date +%s)
log "tree ready in $((t1 - t0)) s ($(du -sh --one-file-system "$root" | cut -f1))"

kernels=("$root"/boot/vmlinuz-*)
{ [ ${#kernels[@]} -eq 1 ] && [ -f "${kernels[0]}" ]; } || die "expected one kernel in /boot, found: ${kernels[*]}"
kver="${kernels[0]##*/vmlinuz-}"
[ -s "$root/boot/initrd.img-$kver" ] || die "no initramfs for $kver"
root_uuid="$NOTAVM_ROOT_UUID"
cmdline="$NOTAVM_CMDLINE"

# ---------------------------------------------------------------- disk image
# MBR, partition 1: FAT16 /boot for SYSLINUX (64 MiB, bootable), partition 2: ext4 root.
mib=$((1024 * 1024))
disk_bytes=$((disk_gb * 1024 * mib))
p1_start=$((1 * mib)); p1_size=$((64 * mib))
p2_start=$((p1_start + p1_size)); p2_size=$((disk_bytes - p2_start))

boot="$work/boot.fat"
truncate -s "$p1_size" "$boot"
mkfs.fat -F 16 -n NOTAVMBOOT "$boot" >/dev/null
syslinux --install "$boot"
cat > "$work/syslinux.cfg" <<EOF
DEFAULT notavm
PROMPT 0
TIMEOUT 0
LABEL notavm
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND $cmdline
EOF
export MTOOLS_SKIP_CHECK=1
mcopy -i "$boot" "$root/boot/vmlinuz-$kver" ::/vmlinuz
mcopy -i "$boot" "$root/boot/initrd.img-$kver" ::/initrd.img
mcopy -i "$boot" "$work/syslinux.cfg" ::/syslinux.cfg

rootfs="$work/root.ext4"
truncate -s "$p2_size" "$rootfs"
# -d copies the tree (owners, modes, xattrs, hard links); no mount, no loop device.
mke2fs -q -t ext4 -L notavm-root -U "$root_uuid" -m 1 -J size=32 \
  -E lazy_itable_init=0,lazy_journal_init=0 -d "$root" "$rootfs"
e2fsck -fn "$rootfs" >/dev/null || die "fresh ext4 image does not check clean"

raw="$work/disk.raw"
truncate -s "$disk_bytes" "$raw"
sfdisk --quiet --no-reread --no-tell-kernel "$raw" <<EOF
label: dos
label-id: 0x6e6f7461
start=$((p1_start / 512)), size=$((p1_size / 512)), type=6, bootable
start=$((p2_start / 512)), size=$((p2_size / 512)), type=83
EOF
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
dd if="$boot" of="$raw" bs=1M seek=$((p1_start / mib)) conv=notrunc,sparse status=none
dd if="$rootfs" of="$raw" bs=1M seek=$((p2_start / mib)) conv=notrunc,sparse status=none
rm -f "$boot" "$rootfs"

pkg="$work/box"
mkdir -p "$pkg"
qemu-img convert -f raw -O qcow2 -o cluster_size=65536 "$raw" "$pkg/box.img"
rm -f "$raw"

build_id="$(date -u +%Y%m%dT%H%M%SZ)-${want_hash:0:12}"
cat > "$pkg/metadata.json" <<EOF
{"provider":"libvirt","format":"qcow2","virtual_size":$disk_gb,"notavm_build":"$build_id"}
EOF
cp "$HERE/box.Vagrantfile" "$pkg/Vagrantfile"
cat > "$pkg/info.json" <<EOF
{"name":"notavm/debian12","kernel":"$kver","packages":"${all_pkgs[*]}","built":"$build_id"}
EOF

tmpbox="$work/$BOX_FILE_NAME"
tar -C "$pkg" -cf "$tmpbox" metadata.json info.json Vagrantfile box.img
mv -f "$tmpbox" "$box"
printf '%s\n' "$want_hash" > "$stamp"
printf '{"notavm_build":"%s"}\n' "$build_id" > "$box.id"
# The kernel beside the box: the top-level Vagrantfile boots it for a few seconds to
# find out whether KVM really works on this host.
cp -f "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
t2=$(date +%s)
log "built $box ($(du -h "$box" | cut -f1), kernel $kver) in $((t2 - t0)) s"

[ $add -eq 1 ] && add_box
exit 0
