"""Facts about the machine the harness runs on, for the results file's `host` section."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import psutil


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def describe(docker_version: str | None = None, vagrant: str | None = None) -> dict[str, Any]:
    uname = platform.uname()
    return {
        "hostname": uname.node,
        "cpu_model": cpu_model(),
        "cpu_cores_logical": psutil.cpu_count(logical=True),
        "cpu_cores_physical": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "os": os_name(),
        "kernel_release": uname.release,
        "kernel_version": uname.version,
        "machine": uname.machine,
        "boot_time": psutil.boot_time(),
        "python": platform.python_version(),
        "docker_version": docker_version,
        "vagrant": vagrant,
    }
