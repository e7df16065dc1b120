"""Vagrant, driven through its command line, for the VM's life cycle only: up, status,
halt, destroy, ssh-config. Everything inside the VM goes through vm_ssh (paramiko)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notavm.errors import VmUnavailable
from notavm.examples import default_examples_dir

UP_TIMEOUT_S: Final = 600
BOX_NAME: Final = "notavm/debian12"


def box_name() -> str:
    """The box the Vagrantfile uses: ours, unless the user names another in NOTAVM_BOX."""
    return os.environ.get("NOTAVM_BOX") or BOX_NAME


def project_dir() -> Path:
    """Where the Vagrantfile is (NOTAVM_VAGRANT_DIR overrides)."""
    if env := os.environ.get("NOTAVM_VAGRANT_DIR"):
        return Path(env)
    return default_examples_dir().parent


@dataclass(frozen=True)
class SshConfig:
    host: str
    port: int
    user: str
    identity_files: tuple[str, ...]


def parse_ssh_config(text: str) -> SshConfig:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            values.setdefault(key.lower(), []).append(value.strip().strip('"'))
    try:
        return SshConfig(host=values["hostname"][0], port=int(values["port"][0]),
                         user=values["user"][0], identity_files=tuple(values["identityfile"]))
    except (KeyError, ValueError) as exc:
        raise VmUnavailable(f"vagrant ssh-config gave no usable address ({exc}); "
                            "is the VM up? try `notavm vm status`") from exc


def parse_status(machine_readable: str) -> str:
    """The state of the default machine from `vagrant status --machine-readable`."""
    for line in machine_readable.splitlines():
        fields = line.split(",")
        if len(fields) >= 4 and fields[2] == "state":
            return fields[3]
    return "unknown"


class Vagrant:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or project_dir()

    def _run(self, *args: str, timeout: float = 120) -> str:
        if shutil.which("vagrant") is None:
            raise VmUnavailable("vagrant is not installed; run scripts/setup.sh")
        try:
            proc = subprocess.run(["vagrant", *args], cwd=self.directory, capture_output=True,
                                  text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise VmUnavailable(f"vagrant {args[0]} did not finish within {timeout:g} s") from exc
        if proc.returncode != 0:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
            raise VmUnavailable(f"vagrant {' '.join(args)} failed: {tail}")
        return proc.stdout

    def status(self) -> str:
        return parse_status(self._run("status", "--machine-readable"))

    def up(self) -> tuple[float, float]:
        """Boot the VM; returns when `vagrant up` started and returned (it returns once SSH
        answers), on the monotonic clock."""
        start = time.monotonic()
        self._run("up", timeout=UP_TIMEOUT_S)
        return start, time.monotonic()

    def halt(self) -> None:
        self._run("halt")

    def destroy(self) -> None:
        self._run("destroy", "-f")

    def ssh_config(self) -> SshConfig:
        return parse_ssh_config(self._run("ssh-config"))

    def machine_id(self) -> str | None:
        """The provider's id for the machine (libvirt: the domain's UUID)."""
        for provider in ("libvirt", "virtualbox"):
            path = self.directory / ".vagrant" / "machines" / "default" / provider / "id"
            if path.exists():
                return path.read_text().strip()
        return None

    def version(self) -> str | None:
        try:
            return self._run("--version").strip()
        except VmUnavailable:
            return None
