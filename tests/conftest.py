import functools
import os

import pytest


@functools.cache
def docker_reason() -> str | None:
    """None when a Docker daemon answers, else why not."""
    try:
        from notavm.docker_daemon import connect

        connect(timeout=5)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: no daemon for the tests
        return f"no Docker daemon: {exc}"


def require(reason: str | None) -> None:
    """Skip with the reason, unless CI demands the service (NOTAVM_REQUIRE_INTEGRATION=1)."""
    if reason is None:
        return
    if os.environ.get("NOTAVM_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"integration prerequisites missing: {reason}")
    pytest.skip(reason)


@functools.cache
def vm_reason() -> str | None:
    """None when Vagrant, its libvirt plugin and libvirtd are there, else what is missing."""
    import shutil
    import subprocess

    if shutil.which("vagrant") is None:
        return "vagrant is not installed (scripts/setup.sh)"
    proc = subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True)
    if proc.returncode != 0:
        return "libvirtd does not answer (scripts/setup.sh)"
    return None
