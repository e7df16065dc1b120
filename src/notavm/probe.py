"""What the probe reads inside a target, and how its raw text becomes facts.

The probe (probe/probe.c) is a static binary that prints `key=value` lines, a marker
line, and then execs the program, so the facts come from the very process that runs
the hello-world: same pid, namespaces, cgroups and credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

MARKER: Final = "--notavm-probe-end--"
PROBE_BINARY: Final = "notavm-probe"
NAMESPACE_TYPES: Final = (
    "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "user", "uts",
)
SECCOMP_MODES: Final = {"0": "disabled", "1": "strict", "2": "filter"}
UNLIMITED_MEMORY_THRESHOLD: Final = 1 << 62  # cgroup v1 prints ~2^63 rounded to a page


class ProbeOutputError(ValueError):
    pass


@dataclass(frozen=True)
class KernelFacts:
    release: str
    version: str
    boot_id: str


@dataclass(frozen=True)
class ProbeFacts:
    kernel: KernelFacts
    machine: str = ""
    uptime_s: float | None = None
    hostname: str = ""
    pid: int | None = None
    namespaces: dict[str, str] = field(default_factory=dict)
    cgroup: list[str] = field(default_factory=list)
    cgroup_version: str = ""
    limits: dict[str, str] = field(default_factory=dict)
    visible_process_count: int | None = None
    visible_processes: list[str] = field(default_factory=list)
    mem_total_bytes: int | None = None
    cpus_online: int | None = None
    cpus_allowed: int | None = None
    capabilities_effective: str = ""
    capability_count: int | None = None
    seccomp: str = ""
    no_new_privs: bool | None = None
    uid: int | None = None


@dataclass(frozen=True)
class ProbedOutput:
    facts: ProbeFacts
    program_stdout: str


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def format_limit(kind: str, raw: str) -> str:
    """A cgroup limit as a reader wants it: 'unlimited', '256 MiB', '64', '1.5 CPUs'."""
    raw = raw.strip()
    if kind == "memory":
        if raw == "max" or (raw.isdigit() and int(raw) >= UNLIMITED_MEMORY_THRESHOLD):
            return "unlimited"
        return f"{int(raw) / 2**20:g} MiB" if raw.isdigit() else raw
    if kind == "pids":
        return "unlimited" if raw == "max" else raw
    if kind == "cpu":
        quota, _, period = raw.partition(" ")
        if quota in ("max", "-1") or not period:
            return "unlimited"
        return f"{int(quota) / int(period):g} CPUs"
    return raw


def parse(text: str) -> ProbedOutput:
    """Split the probe's report from the program's stdout and turn the report into facts."""
    head, sep, tail = text.partition(MARKER + "\n")
    if not sep:
        raise ProbeOutputError("the probe's end marker is missing: the probe did not run")
    values: dict[str, str] = {}
    cgroup: list[str] = []
    namespaces: dict[str, str] = {}
    limits: dict[str, str] = {}
    for line in head.splitlines():
        key, eq, value = line.partition("=")
        if not eq:
            raise ProbeOutputError(f"unexpected probe line: {line!r}")
        if key == "cgroup":
            cgroup.append(value)
        elif key.startswith("ns."):
            namespaces[key[3:]] = value
        elif key.startswith("limit."):
            limits[key[6:]] = format_limit(key[6:], value)
        else:
            values[key] = value
    for required in ("kernel.release", "kernel.version", "kernel.boot_id"):
        if required not in values:
            raise ProbeOutputError(f"the probe did not report {required}")
    cap_hex = values.get("status.CapEff", "")
    uptime = values.get("uptime", "").split()
    uid = values.get("status.Uid", "").split()
    facts = ProbeFacts(
        kernel=KernelFacts(
            release=values["kernel.release"],
            version=values["kernel.version"],
            boot_id=values["kernel.boot_id"],
        ),
        machine=values.get("kernel.machine", ""),
        uptime_s=float(uptime[0]) if uptime else None,
        hostname=values.get("hostname", ""),
        pid=_int(values.get("pid")),
        namespaces=dict(sorted(namespaces.items())),
        cgroup=cgroup,
        cgroup_version=values.get("cgroup.version", ""),
        limits=limits,
        visible_process_count=_int(values.get("visible_process_count")),
        visible_processes=values.get("visible_processes", "").split(),
        mem_total_bytes=_int(values.get("mem_total_bytes")),
        cpus_online=_int(values.get("cpus.online")),
        cpus_allowed=_int(values.get("cpus.allowed")),
        capabilities_effective=cap_hex,
        capability_count=bin(int(cap_hex, 16)).count("1") if cap_hex else None,
        seccomp=SECCOMP_MODES.get(values.get("status.Seccomp", ""), values.get("status.Seccomp", "")),
        no_new_privs=values["status.NoNewPrivs"] == "1" if "status.NoNewPrivs" in values else None,
        uid=_int(uid[0]) if uid else None,
    )
    return ProbedOutput(facts=facts, program_stdout=tail)


def shares_kernel(a: ProbeFacts, b: ProbeFacts) -> bool:
    """Two processes run on the same kernel instance exactly when their boot ids match."""
    return a.kernel.boot_id == b.kernel.boot_id


def namespaces_differing(facts: ProbeFacts, reference: ProbeFacts) -> list[str] | None:
    """The namespace types in which `facts` differs from `reference`.

    None when the two run on different kernels: each kernel numbers its own initial
    namespaces with the same fixed inode numbers (4026531836 for pid, ...), so equal
    numbers across kernels say nothing about sharing.
    """
    if not shares_kernel(facts, reference):
        return None
    return [
        ns for ns in facts.namespaces
        if ns in reference.namespaces and facts.namespaces[ns] != reference.namespaces[ns]
    ]
