"""Prerequisite checks: each says what is missing and how to get it."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notavm.docker_daemon import connect
from notavm.errors import NotavmError
from notavm.images import cache_dir

MIN_FREE_BYTES: Final = 5 * 2**30


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def check_docker() -> Check:
    try:
        client = connect(timeout=10)
    except NotavmError as exc:
        return Check("docker daemon", False, str(exc),
                     "scripts/setup.sh (installs docker.io and starts dockerd)")
    version = client.version()
    return Check("docker daemon", True,
                 f"Docker {version.get('Version')} (API {version.get('ApiVersion')})")


def check_command(name: str, package: str, purpose: str, required: bool = True) -> Check:
    path = shutil.which(name)
    if path:
        return Check(name, True, path, required=required)
    return Check(name, False, f"not found ({purpose})", f"apt-get install {package}",
                 required=required)


def check_disk(path: Path, what: str) -> Check:
    existing = path
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    ok = free >= MIN_FREE_BYTES
    return Check(f"free space ({what})", ok, f"{free / 2**30:.1f} GiB free at {existing}",
                 "" if ok else f"free at least {MIN_FREE_BYTES // 2**30} GiB there")


def docker_checks() -> list[Check]:
    return [
        check_docker(),
        check_command("mmdebstrap", "mmdebstrap", "bootstraps base images when no registry answers"),
        check_disk(Path("/var/lib/docker"), "Docker images"),
        check_disk(cache_dir(), "notavm cache"),
    ]


def check_libvirt() -> Check:
    if shutil.which("virsh") is None:
        return Check("libvirt daemon", False, "virsh not found", "scripts/setup.sh",
                     required=False)
    proc = subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        return Check("libvirt daemon", False, "libvirtd does not answer on qemu:///system",
                     "scripts/setup.sh (starts virtlogd and libvirtd)", required=False)
    return Check("libvirt daemon", True, proc.stdout.strip().splitlines()[-1], required=False)


def check_vagrant_libvirt() -> Check:
    proc = subprocess.run(["vagrant", "plugin", "list"], capture_output=True, text=True,
                          check=False) if shutil.which("vagrant") else None
    ok = proc is not None and "vagrant-libvirt" in proc.stdout
    return Check("vagrant-libvirt", ok, "installed" if ok else "plugin missing",
                 "" if ok else "apt-get install vagrant-libvirt (scripts/setup.sh)",
                 required=False)


def check_kvm() -> Check:
    usable = os.access("/dev/kvm", os.R_OK | os.W_OK)
    detail = ("/dev/kvm present; the Vagrantfile still tries a KVM guest for real before "
              "using it" if usable else "no usable /dev/kvm: the VM runs under QEMU emulation")
    return Check("kvm", True, detail, required=False)


def vm_checks() -> list[Check]:
    return [
        check_command("vagrant", "vagrant", "drives the VM's life cycle", required=False),
        check_vagrant_libvirt(),
        check_libvirt(),
        check_command("qemu-system-x86_64", "qemu-system-x86", "runs the VM", required=False),
        check_command("qemu-img", "qemu-utils", "builds the box and reads the VM disk",
                      required=False),
        check_kvm(),
    ]


def all_checks() -> list[Check]:
    return docker_checks() + vm_checks()
