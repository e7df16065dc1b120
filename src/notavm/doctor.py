"""Prerequisite checks: each says what is missing and how to get it."""

from __future__ import annotations

import shutil
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


def all_checks() -> list[Check]:
    return docker_checks()
