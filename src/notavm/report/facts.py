"""The rows of the side-by-side comparison, computed from the results document's plain data.

Shared by every output format: each row is a label and one cell of text per target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, dict[str, str]]
RunData = dict[str, Any]


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def ns_id(link: str) -> str:
    """`pid:[4026531836]` -> `4026531836`."""
    return link.partition("[")[2].rstrip("]") or link


def status(run: RunData) -> str:
    if run.get("skipped"):
        return f"skipped: {run['skipped']}"
    if run.get("error"):
        return f"error: {run['error']}"
    code, expected = run.get("exit_code"), run.get("expected_exit_code")
    if code != expected:
        return f"UNEXPECTED exit {code} (expected {expected})"
    if run.get("stdout") != run.get("expected_stdout"):
        return "UNEXPECTED output"
    return f"ok (exit {code}, as expected)"


def kernel_relation(run: RunData) -> str:
    same = run.get("same_kernel_as_host")
    if run["target"] == "host":
        return "the host's kernel"
    if same is None:
        return "-"
    return "SHARED with the host (same boot id)" if same else "OWN kernel (different boot id)"


def namespace_cell(run: RunData, ns: str) -> str:
    ident = ns_id(run["namespaces"].get(ns, "-"))
    differing = run.get("namespaces_differing_from_host")
    if run["target"] == "host":
        return ident
    if differing is None:
        return f"{ident} (own kernel's)"
    return f"{ident} {'(own)' if ns in differing else '(host)'}"


def cgroup_cell(run: RunData) -> str:
    lines = run.get("cgroup") or []
    interesting = [line for line in lines if not line.endswith(":/")]
    return "\n".join(interesting[:3] or lines[:1]) or "-"


def _facts(run: RunData) -> dict[str, Any]:
    return run.get("facts") or {}


def _fact(name: str, fmt: Callable[[Any], str] = str) -> Callable[[RunData], str]:
    def cell(run: RunData) -> str:
        value = _facts(run).get(name)
        return "-" if value is None or value == "" else fmt(value)
    return cell


def _limit(kind: str) -> Callable[[RunData], str]:
    return lambda run: _facts(run).get("limits", {}).get(kind, "not set")


def _startup(run: RunData) -> str:
    stats = run.get("startup_s")
    if not stats:
        return "-"
    return f"{ms(stats['median'])} ± {ms(stats['stdev'])} (n={len(stats['samples'])})"


def _first_output(run: RunData) -> str:
    stats = run.get("first_output_s")
    return ms(stats["median"]) if stats else "-"


def _disk(run: RunData) -> str:
    disk = run.get("disk")
    if not disk:
        return "-"
    parts = f"program {human_bytes(disk['program_bytes'])}"
    if disk["runtime_bytes"]:
        parts += f", runtime {human_bytes(disk['runtime_bytes'])}"
    if disk["base_bytes"]:
        parts += f", base {human_bytes(disk['base_bytes'])}"
    return f"{human_bytes(disk['total_bytes'])} ({parts})"


def _boot_id(run: RunData) -> str:
    kernel = run.get("kernel") or {}
    return str(kernel.get("boot_id", "-"))


ROWS: list[tuple[str, Callable[[RunData], str]]] = [
    ("status", status),
    ("stdout", lambda r: repr(r["stdout"]) if r.get("stdout") is not None else "-"),
    ("kernel", kernel_relation),
    ("kernel release", lambda r: (r.get("kernel") or {}).get("release", "-")),
    ("kernel version", lambda r: (r.get("kernel") or {}).get("version", "-")),
    ("boot id", _boot_id),
    ("uptime", _fact("uptime_s", lambda s: f"{s:.0f} s")),
    ("namespaces unlike host's", lambda r: (
        "not comparable: own kernel" if r.get("same_kernel_as_host") is False
        else "-" if r.get("namespaces_differing_from_host") is None
        else ", ".join(r["namespaces_differing_from_host"]) or "none")),
]
NAMESPACE_ROWS = ("pid", "mnt", "net", "uts", "ipc", "user", "cgroup", "time")
TAIL_ROWS: list[tuple[str, Callable[[RunData], str]]] = [
    ("cgroup version", _fact("cgroup_version")),
    ("cgroup", cgroup_cell),
    ("memory limit", _limit("memory")),
    ("pids limit", _limit("pids")),
    ("cpu limit", _limit("cpu")),
    ("hostname", _fact("hostname")),
    ("own pid", _fact("pid")),
    ("visible processes", _fact("visible_process_count")),
    ("MemTotal", _fact("mem_total_bytes", human_bytes)),
    ("CPUs (online/allowed)", lambda r: f"{_facts(r).get('cpus_online', '-')}/"
                                        f"{_facts(r).get('cpus_allowed', '-')}" if _facts(r) else "-"),
    ("capabilities", _fact("capability_count", lambda n: f"{n} effective")),
    ("seccomp", _fact("seccomp")),
    ("no_new_privs", _fact("no_new_privs", lambda b: "yes" if b else "no")),
    ("runtime", lambda r: r.get("runtime_version") or "-"),
    ("startup median ± sd", _startup),
    ("first output median", _first_output),
    ("disk", _disk),
]


def comparison_rows(runs: list[RunData]) -> list[Row]:
    """Rows for one example: each row maps target -> cell text."""
    rows: list[Row] = []
    has_facts = [r for r in runs if r.get("kernel")]
    for label, cell in ROWS:
        rows.append((label, {r["target"]: cell(r) if r.get("kernel") or label == "status" else "-"
                             for r in runs}))
    if has_facts:
        for ns in NAMESPACE_ROWS:
            rows.append((f"{ns} ns", {r["target"]: namespace_cell(r, ns) if r.get("namespaces")
                                      else "-" for r in runs}))
    for label, cell in TAIL_ROWS:
        rows.append((label, {r["target"]: cell(r) if not r.get("skipped") else "-" for r in runs}))
    return rows


SUMMARY_COLUMNS = ("exit status", "startup median", "disk", "kernel")


def summary_cells(run: RunData) -> list[str]:
    """exit status | startup median | disk use | same kernel as the host, for one run."""
    if run.get("skipped"):
        return ["skipped", "-", "-", "-"]
    if run.get("error"):
        return ["error", "-", "-", "-"]
    code, expected = run.get("exit_code"), run.get("expected_exit_code")
    exit_cell = f"{code}" if code == expected else f"{code} (expected {expected})"
    startup = run.get("startup_s")
    same = run.get("same_kernel_as_host")
    kernel = ("host" if run["target"] == "host" else "-" if same is None
              else "shared" if same else "own")
    return [exit_cell, ms(startup["median"]) if startup else "-",
            human_bytes(run.get("disk_bytes")), kernel]


def group_by_example(runs: list[RunData]) -> dict[str, list[RunData]]:
    grouped: dict[str, list[RunData]] = {}
    for run in runs:
        grouped.setdefault(run["example"], []).append(run)
    return grouped


def targets_in(runs: list[RunData]) -> list[str]:
    order = ["host", "container", "vm"]
    present = {r["target"] for r in runs}
    return [t for t in order if t in present] + sorted(present - set(order))
