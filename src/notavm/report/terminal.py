"""The terminal report: one side-by-side table per example, then the summary."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from notavm.report.facts import (
    SUMMARY_COLUMNS,
    comparison_rows,
    group_by_example,
    summary_cells,
    targets_in,
)

NOTES = (
    "Same kernel is decided by boot id: equal boot ids mean one kernel instance. Namespace "
    "numbers are only compared on the same kernel; every kernel gives its initial namespaces "
    "the same fixed numbers, so equal numbers on two kernels mean nothing.",
    "Startup, by target: host = fork/exec to exit; container = Docker start request to exit "
    "(container created beforehand); vm = an exec over the already open SSH connection to "
    "the exit status, inside the running VM (its boot, once per run, is reported apart).",
)


def example_table(example: str, runs: list[dict[str, Any]]) -> Table:
    targets = targets_in(runs)
    table = Table(title=f"{example}", box=box.SIMPLE_HEAVY, show_lines=False, title_justify="left")
    table.add_column("fact", style="bold", no_wrap=True)
    for target in targets:
        table.add_column(target, overflow="fold")
    for label, cells in comparison_rows(runs):
        table.add_row(label, *(cells.get(t, "-") for t in targets))
    return table


def summary_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="summary", box=box.SIMPLE_HEAVY, title_justify="left")
    table.add_column("example", style="bold")
    table.add_column("target")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="right" if column != "kernel" else "left")
    order = targets_in(runs)
    for example, example_runs in group_by_example(runs).items():
        for i, run in enumerate(sorted(example_runs, key=lambda r: order.index(r["target"]))):
            table.add_row(example if i == 0 else "", run["target"], *summary_cells(run),
                          end_section=i == len(example_runs) - 1)
    return table


def render(document: dict[str, Any], console: Console, detail: bool = True) -> None:
    runs = document["runs"]
    if detail:
        for example, example_runs in group_by_example(runs).items():
            console.print(example_table(example, example_runs))
            notes = {r["exit_code_note"] for r in example_runs if r.get("exit_code_note")}
            for note in notes:
                console.print(f"  note: {note}")
    console.print(summary_table(runs))
    vm = document.get("targets", {}).get("vm") or {}
    if boot := vm.get("boot"):
        console.print(
            f"VM boot: vagrant up {boot['vagrant_up_s']:.1f} s = before the guest kernel "
            f"(Vagrant, libvirt, QEMU, firmware) {boot['before_kernel_s']:.1f} s + kernel until "
            f"pid 1 {boot['kernel_s']:.1f} s + userspace until sshd started "
            f"{boot['userspace_until_sshd_s']:.1f} s + Vagrant's own wait after that "
            f"{boot['vagrant_after_sshd_s']:.1f} s")
    elif vm.get("reused"):
        console.print("VM: reused a VM that was already running (no boot measured)")
    if baseline := vm.get("exec_baseline_s"):
        console.print(f"VM: an empty command (`true`) over the open SSH connection takes "
                      f"{baseline['median'] * 1000:.1f} ms (median of {len(baseline['samples'])}); "
                      "every VM startup above includes that cost")
    for note in NOTES:
        console.print(note, style="dim")
