"""The experiment: every selected example on every selected target, probed, timed, measured,
each finished run saved before the next one starts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from notavm import probe
from notavm.errors import NotavmError, TargetLost
from notavm.examples import Example
from notavm.measure import measure
from notavm.probe import ProbeFacts
from notavm.results import ResultsFile, Run
from notavm.targets.base import Target

GO_VERSION = re.compile(rb"go1\.\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Settings:
    repeat: int = 5
    warmup: int = 1
    timeout: float = 60.0


def static_runtime(binary: Path) -> str:
    """What a static binary carries instead of an interpreter: Go links its runtime in."""
    match = GO_VERSION.search(binary.read_bytes())
    if match:
        return f"Go {match.group().decode()} runtime, linked into the binary"
    return "none: a static binary that talks to the kernel directly"


def runtime_version(target: Target, example: Example, program_dir: Path) -> str | None:
    if example.version_command is None:
        return static_runtime(program_dir / Path(example.command[0]).name)
    result = target.run_command(example, example.version_command)
    text = (result.stdout.strip() or result.stderr.strip()).splitlines()
    return text[0] if text and result.exit_code == 0 else None


def execute(target: Target, example: Example, reference: ProbeFacts | None,
            settings: Settings, program_dir: Path) -> Run:
    """One example on one target. Expected failures end up in run.error, not as exceptions."""
    run = Run(example=example.name, target=target.name,
              expected_exit_code=example.expected_exit_code,
              expected_stdout=example.expected_stdout, exit_code_note=example.exit_code_note,
              timing=target.timing)
    if reason := target.skip_reason(example):
        run.skipped = reason
        return run
    try:
        probed_run = target.probe_run(example)
        probed = probe.parse(probed_run.stdout)
        facts = probed.facts
        run.facts = facts
        run.kernel = {"release": facts.kernel.release, "version": facts.kernel.version,
                      "boot_id": facts.kernel.boot_id}
        run.namespaces = facts.namespaces
        run.cgroup = facts.cgroup
        run.exit_code = probed_run.exit_code
        run.stdout = probed.program_stdout
        run.stderr = probed_run.stderr
        if reference is not None:
            run.same_kernel_as_host = probe.shares_kernel(facts, reference)
            run.namespaces_differing_from_host = probe.namespaces_differing(facts, reference)
        measured = measure(lambda: target.timed_start(example), settings.repeat, settings.warmup)
        run.startup_s = measured.startup
        run.first_output_s = measured.first_output
        run.sample_exit_codes = measured.exit_codes
        run.disk = target.disk_use(example)
        run.disk_bytes = run.disk.total_bytes
        run.runtime_version = runtime_version(target, example, program_dir)
    except probe.ProbeOutputError as exc:
        run.error = f"probe failed: {exc}"
    except TargetLost:
        raise
    except NotavmError as exc:
        run.error = str(exc)
    return run


Progress = Callable[[str], None]


def lost_run(target: Target, example: Example, reason: str) -> Run:
    return Run(example=example.name, target=target.name,
               expected_exit_code=example.expected_exit_code,
               expected_stdout=example.expected_stdout, exit_code_note=example.exit_code_note,
               timing=target.timing, error=reason)


def run_all(targets: list[Target], examples: list[Example], settings: Settings,
            results: ResultsFile, reference: ProbeFacts | None,
            program_dir: Callable[[Example], Path], progress: Progress,
            lost: dict[str, str] | None = None) -> dict[str, str]:
    """Every example on every target. A target that goes away (daemon stopped, VM gone)
    fails its remaining runs with one clear message; the other targets go on. Returns the
    lost targets and why."""
    lost = dict(lost or {})
    for example in examples:
        for target in targets:
            if target.name in lost:
                results.add(lost_run(target, example, lost[target.name]))
                continue
            progress(f"{example.name} on {target.name}")
            try:
                run = execute(target, example, reference, settings, program_dir(example))
            except TargetLost as exc:
                lost[target.name] = str(exc)
                run = lost_run(target, example, str(exc))
            results.add(run)
    return lost
