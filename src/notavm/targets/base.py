"""The small contract every target fulfils; the experiment runner only speaks this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from notavm.examples import Example
from notavm.measure import Sample
from notavm.results import DiskUse


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str


class Target(ABC):
    name: ClassVar[str]
    # What one startup sample measures, and with which clock; copied into every run.
    timing: ClassVar[str]

    def prepare(self, examples: list[Example]) -> None:  # noqa: B027 - optional hook
        """Get everything ready before the first run (images, programs, a VM...)."""

    def skip_reason(self, example: Example) -> str | None:
        """Why this example cannot run here (a missing runtime), or None."""
        return None

    @abstractmethod
    def probe_self(self) -> ExecResult:
        """The probe alone: what a process placed like the programs sees."""

    @abstractmethod
    def probe_run(self, example: Example) -> ExecResult:
        """The probe, which then execs the example's command as the same process."""

    @abstractmethod
    def run_command(self, example: Example, argv: tuple[str, ...]) -> ExecResult:
        """Any command placed like the example's program (used for runtime versions)."""

    @abstractmethod
    def timed_start(self, example: Example) -> Sample:
        """One start of the unmodified program, timed."""

    @abstractmethod
    def disk_use(self, example: Example) -> DiskUse:
        """The bytes this target needs to run the example."""

    def describe(self) -> dict[str, Any]:
        """What holds for all of this target's runs, for the results file's `targets`."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release and remove whatever the target created. Must be safe to call twice."""
