"""The results: dataclasses for one run and the versioned JSON document that holds them.

The document is rewritten atomically after every run (write to a temporary file, then
rename), so an interrupted or crashed run keeps everything finished before it, and a
reader never sees half a file. The format is documented in docs/results-format.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from notavm.errors import NotavmError
from notavm.measure import Stats
from notavm.probe import ProbeFacts

SCHEMA: Final = 1
TARGETS: Final = ("host", "container", "vm")


@dataclass(frozen=True)
class DiskUse:
    """Bytes on disk for one example on one target, and where they go."""

    total_bytes: int
    program_bytes: int
    runtime_bytes: int
    base_bytes: int
    what: str  # what total_bytes measures, in words
    layers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    example: str
    target: str
    expected_exit_code: int
    expected_stdout: str
    exit_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None
    kernel: dict[str, str] | None = None
    namespaces: dict[str, str] | None = None
    namespaces_differing_from_host: list[str] | None = None
    same_kernel_as_host: bool | None = None
    cgroup: list[str] | None = None
    facts: ProbeFacts | None = None
    startup_s: Stats | None = None
    first_output_s: Stats | None = None
    sample_exit_codes: list[int] | None = None
    timing: str | None = None
    disk_bytes: int | None = None
    disk: DiskUse | None = None
    runtime_version: str | None = None
    exit_code_note: str = ""
    error: str | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """Ran, and did what its manifest says: expected stdout and exit status."""
        return (
            self.error is None
            and self.skipped is None
            and self.exit_code == self.expected_exit_code
            and self.stdout == self.expected_stdout
        )


@dataclass
class Document:
    host: dict[str, Any]
    runs: list[Run] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema: int = SCHEMA
    settings: dict[str, Any] = field(default_factory=dict)
    # Per target, what holds for all its runs: the VM's boot split and disk, the
    # containers' hardening, the host's PATH.
    targets: dict[str, Any] = field(default_factory=dict)
    complete: bool = False

    def to_json(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        return {"schema": body.pop("schema"), **body}


def write_atomically(path: Path, document: Document) -> None:
    text = json.dumps(document.to_json(), indent=2, sort_keys=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise NotavmError(f"cannot write results to {path}: {exc.strerror}; free space or pick "
                          "another --json path") from exc


class ResultsFile:
    """Collects runs and, when given a path, rewrites the document after each one."""

    def __init__(self, document: Document, path: Path | None) -> None:
        self.document = document
        self.path = path
        self.save()

    def add(self, run: Run) -> None:
        self.document.runs.append(run)
        self.save()

    def finish(self) -> None:
        self.document.complete = True
        self.save()

    def save(self) -> None:
        if self.path is not None:
            write_atomically(self.path, self.document)


def load(path: Path) -> dict[str, Any]:
    """Read a results file back as plain data, checking only what every reader relies on."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NotavmError(f"cannot read results file {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or "runs" not in data:
        raise NotavmError(f"{path} is not a notavm results file of schema {SCHEMA}")
    return data
