"""A Vagrant VM: Vagrant for its life cycle, one paramiko connection for everything inside.

The VM runs the very same files as the containers and the host (copied in over SFTP from
the program store) under the interpreters of its own Debian, and the same probe."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from notavm import box
from notavm.errors import NotavmError, VmUnavailable
from notavm.examples import Example
from notavm.images import ProgramStore, program_bytes
from notavm.measure import Sample, summarize
from notavm.probe import PROBE_BINARY
from notavm.results import DiskUse
from notavm.targets.base import ExecResult, Target
from notavm.vagrant import Vagrant, box_name
from notavm.vm_ssh import SshSession

REMOTE_ROOT: Final = "/tmp/notavm"
REMOTE_PROBE: Final = f"{REMOTE_ROOT}/{PROBE_BINARY}"
# Start times of init and of the first sshd, in clock ticks since the guest kernel started.
BOOT_QUERY: Final = (
    "getconf CLK_TCK; cut -d' ' -f1 /proc/uptime; cut -d' ' -f22 /proc/1/stat; "
    "for d in /proc/[0-9]*; do [ \"$(cat $d/comm 2>/dev/null)\" = sshd ] && "
    "cut -d' ' -f22 $d/stat; done | sort -n | head -1"
)
STATES_BOOTED: Final = ("running",)
BASELINE_RUNS: Final = 5


def boot_split(up_start: float, up_end: float, query_time: float, output: str) -> dict[str, float]:
    """Split `vagrant up` into: before the guest kernel started (Vagrant, the provider,
    QEMU, firmware), the kernel until init, userspace until sshd started, and Vagrant's own
    wait after that until `vagrant up` returned. All in seconds; the parts add up."""
    tick, uptime, init, sshd = output.split()[:4]
    hz = float(tick)
    kernel_start = query_time - float(uptime)  # on the harness's monotonic clock
    kernel_s = int(init) / hz
    sshd_s = int(sshd) / hz
    return {
        "vagrant_up_s": up_end - up_start,
        "before_kernel_s": kernel_start - up_start,
        "kernel_s": kernel_s,
        "userspace_until_sshd_s": sshd_s - kernel_s,
        "vagrant_after_sshd_s": up_end - (kernel_start + sshd_s),
    }


def _libvirt_disk(domain: str) -> dict[str, int] | None:
    """Allocated bytes of the VM's whole disk chain (overlay + box volume), virtual size."""
    try:
        listing = subprocess.run(["virsh", "-c", "qemu:///system", "domblklist", domain,
                                  "--details"], capture_output=True, text=True, timeout=30)
        paths = [line.split()[-1] for line in listing.stdout.splitlines()
                 if line.split()[:2] == ["file", "disk"]]
        if not paths:
            return None
        info = subprocess.run(["qemu-img", "info", "-U", "--output=json", "--backing-chain",
                               paths[0]], capture_output=True, text=True, timeout=30)
        chain = json.loads(info.stdout)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return None
    return {"allocated_bytes": sum(int(i.get("actual-size", 0)) for i in chain),
            "virtual_bytes": int(chain[0]["virtual-size"])}


def _box_bytes(box: str) -> int | None:
    home = Path(os.environ.get("VAGRANT_HOME", Path.home() / ".vagrant.d"))
    folder = home / "boxes" / box.replace("/", "-VAGRANTSLASH-")
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    return sum(p.stat().st_size for p in files) or None


class VmTarget(Target):
    name = "vm"
    timing = ("perf_counter (monotonic) in the harness, from opening an exec channel on the "
              "already open SSH connection (paramiko) to the program's exit status arriving; "
              "includes the guest's sshd starting the login shell that execs the program. "
              "First output: to the first byte of its stdout. The VM's boot is reported "
              "separately, once per run.")

    def __init__(self, store: ProgramStore, timeout: float, keep_vm: bool = False,
                 vagrant: Vagrant | None = None, report: Callable[[str], None] | None = None):
        self.store = store
        self.timeout = timeout
        self.keep_vm = keep_vm
        self.vagrant = vagrant or Vagrant()
        self.report = report or (lambda _m: None)
        self.session: SshSession | None = None
        self.initial_state: str | None = None
        self.info: dict[str, Any] = {}
        self.runtimes: set[str] = set()
        self.package_sizes: dict[str, int] = {}

    # -- life cycle -------------------------------------------------------------
    def prepare(self, examples: list[Example]) -> None:
        self.initial_state = self.vagrant.status()
        self.info["state_before"] = self.initial_state
        up: tuple[float, float] | None = None
        if self.initial_state in STATES_BOOTED:
            self.report("reusing the VM that is already running")
            self.info["reused"] = True
        else:
            self.report("building the VM box (first time: a few minutes)")
            box.ensure_added(examples)
            self.report("booting the VM (vagrant up)")
            up = self.vagrant.up()
            self.info["reused"] = False
        self.session = SshSession(self.vagrant.ssh_config(), self.timeout)
        self.session.connect()
        if up is not None:
            query_start = time.monotonic()
            result, _ = self.session.exec(BOOT_QUERY)
            query_time = (query_start + time.monotonic()) / 2
            self.info["boot"] = boot_split(up[0], up[1], query_time, result.stdout)
        self._upload(examples)
        self._inventory(examples)
        # What an exec costs before any program runs (channel, sshd, login shell), measured
        # like hyperfine measures its shell: reported beside the startups, not subtracted.
        baseline = [self.session.exec("true")[1].seconds for _ in range(BASELINE_RUNS)]
        self.info["exec_baseline_s"] = asdict(summarize(baseline))

    def _upload(self, examples: list[Example]) -> None:
        assert self.session is not None
        self.report("copying the probe and the programs into the VM")
        dirs = " ".join(shlex.quote(self._dir(e)) for e in examples)
        self._check(f"mkdir -p {REMOTE_ROOT} {dirs}")
        self.session.put(self.store.probe(), REMOTE_PROBE, 0o755)
        for example in examples:
            local = self.store.program_dir(example)
            for path in sorted(local.rglob("*")):
                if path.is_file() and path.name != ".image-id":
                    remote = f"{self._dir(example)}/{path.relative_to(local)}"
                    self.session.put(path, remote, path.stat().st_mode & 0o777)

    def _inventory(self, examples: list[Example]) -> None:
        """Which runtimes the VM has, the installed size of each, the VM's disk."""
        runtimes = sorted({e.runtime for e in examples if e.runtime})
        found = self._check(" ; ".join(f"command -v {shlex.quote(r)} || true" for r in runtimes))
        self.runtimes = {Path(line).name for line in found.split()}
        packages = sorted({p.split("/")[0] for e in examples for p in e.vm_packages})
        if packages:
            sizes = self._exec(
                "dpkg-query -W -f='${Package} ${Installed-Size}\\n' "
                + " ".join(shlex.quote(p) for p in packages) + " 2>/dev/null")[0].stdout
            for line in sizes.splitlines():
                name, _, kib = line.partition(" ")
                if kib.strip().isdigit():
                    self.package_sizes[name] = int(kib) * 1024
        domain = self.vagrant.machine_id()
        self.info["disk"] = _libvirt_disk(domain) if domain else None
        self.info["box"] = {"name": box_name(), "bytes": _box_bytes(box_name())}
        self.info["runtime_packages_bytes"] = self.package_sizes

    def describe(self) -> dict[str, Any]:
        return dict(self.info)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.initial_state is None or self.initial_state in STATES_BOOTED or self.keep_vm:
            return
        state, self.initial_state = self.initial_state, None
        self.report("putting the VM back as it was")
        try:
            if state in ("not_created", "not created"):
                self.vagrant.destroy()
            else:
                self.vagrant.halt()
        except NotavmError:
            pass  # reported by `notavm vm status`; the run's results stand

    # -- running ----------------------------------------------------------------
    def _dir(self, example: Example) -> str:
        return f"{REMOTE_ROOT}/{example.name}"

    def _check(self, command: str) -> str:
        assert self.session is not None
        result, _ = self.session.exec(command)
        if result.exit_code != 0:
            raise VmUnavailable(f"`{command[:60]}` failed in the VM: {result.stderr.strip()}")
        return result.stdout

    def _in_dir(self, example: Example, argv: tuple[str, ...]) -> str:
        return f"cd {shlex.quote(self._dir(example))} && exec {shlex.join(argv)}"

    def _exec(self, command: str) -> tuple[ExecResult, Sample]:
        if self.session is None:
            raise VmUnavailable("the VM is not connected")
        return self.session.exec(command)

    def skip_reason(self, example: Example) -> str | None:
        if example.runtime and example.runtime not in self.runtimes:
            return f"{example.runtime} is not installed in the VM"
        return None

    def probe_self(self) -> ExecResult:
        return self._exec(REMOTE_PROBE)[0]

    def probe_run(self, example: Example) -> ExecResult:
        return self._exec(self._in_dir(example, (REMOTE_PROBE, "--", *example.command)))[0]

    def run_command(self, example: Example, argv: tuple[str, ...]) -> ExecResult:
        return self._exec(self._in_dir(example, argv))[0]

    def timed_start(self, example: Example) -> Sample:
        return self._exec(self._in_dir(example, example.command))[1]

    def disk_use(self, example: Example) -> DiskUse:
        program = program_bytes(self.store.program_dir(example))
        runtime = sum(self.package_sizes.get(p.split("/")[0], 0) for p in example.vm_packages)
        disk = self.info.get("disk") or {}
        allocated = int(disk.get("allocated_bytes", 0))
        return DiskUse(
            total_bytes=max(allocated, program + runtime),
            program_bytes=program,
            runtime_bytes=runtime,
            base_bytes=max(allocated - program - runtime, 0),
            what=("the VM's whole disk as allocated (box volume + overlay): the guest OS and "
                  "kernel it needs, with the runtime's installed packages and the program"),
        )
