"""The Vagrant box: built locally from Debian packages by vagrant/build-box.sh, cached, and
added to Vagrant. A user who names a public box (NOTAVM_BOX) skips all of this."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from notavm.errors import VmUnavailable
from notavm.examples import Example
from notavm.vagrant import BOX_NAME, box_name, project_dir

BUILD_TIMEOUT_S: Final = 1800


def packages(examples: Iterable[Example]) -> list[str]:
    """The Debian packages the VM needs, as `name` or `name/suite` for another suite."""
    wanted: list[str] = []
    for example in examples:
        for package in example.vm_packages:
            spec = package if example.vm_suite == "bookworm" else f"{package}/{example.vm_suite}"
            if spec not in wanted:
                wanted.append(spec)
    return wanted


def build(package_list: list[str], force: bool = False) -> Path:
    """Build (unless cached) and add the box; returns the box file."""
    script = project_dir() / "vagrant" / "build-box.sh"
    args = ["bash", str(script), "--add", *(["--force"] if force else [])]
    for package in package_list:
        args += ["--package", package]
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=None, text=True,
                              timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise VmUnavailable("building the box took over 30 minutes; see the log above") from exc
    if proc.returncode != 0:
        raise VmUnavailable(f"building the box failed (exit {proc.returncode}); see the "
                            f"build-box log above, fix it and rerun `notavm vm box`")
    path = subprocess.run(["bash", str(script), "--print-path"], capture_output=True,
                          text=True, check=False).stdout.strip()
    return Path(path)


def is_added(name: str) -> bool:
    if shutil.which("vagrant") is None:
        raise VmUnavailable("vagrant is not installed; run scripts/setup.sh")
    listing = subprocess.run(["vagrant", "box", "list", "--machine-readable"],
                             capture_output=True, text=True, check=False).stdout
    return any(line.split(",")[2:4] == ["box-name", name] for line in listing.splitlines())


def ensure_added(examples: Iterable[Example]) -> None:
    """Before a `vagrant up`: the local box must exist, unless the user named another box."""
    if box_name() != BOX_NAME or is_added(BOX_NAME):
        return
    build(packages(examples))
