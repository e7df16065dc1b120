"""The host: plain child processes of the harness, the reference every column is read against."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Final

from notavm.errors import RunFailed
from notavm.examples import Example
from notavm.images import ProgramStore, program_bytes
from notavm.measure import Sample
from notavm.results import DiskUse
from notavm.targets.base import ExecResult, Target

# Runtimes are looked up on the system's PATH, not the caller's: version-manager shims
# (pyenv, nvm...) are scripts that add their own startup time and are not what the
# system itself runs. NOTAVM_HOST_PATH overrides it.
SYSTEM_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def host_path() -> str:
    return os.environ.get("NOTAVM_HOST_PATH", SYSTEM_PATH)


def run_process(argv: list[str], cwd: Path, timeout: float) -> tuple[ExecResult, Sample]:
    """Start a process, collect its output, and time it on the monotonic clock:
    from just before fork/exec to its exit, and to the first byte on stdout or stderr."""
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PATH": host_path()},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise RunFailed(f"cannot start {argv[0]}: {exc.strerror}") from exc
    first: float | None = None
    chunks: dict[int, list[bytes]] = {1: [], 2: []}
    deadline = start + timeout
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, 1)
        sel.register(proc.stderr, selectors.EVENT_READ, 2)
        while sel.get_map():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                proc.kill()
                proc.wait()
                raise RunFailed(f"{' '.join(argv)} timed out after {timeout:g} s; it was killed")
            for key, _ in sel.select(remaining):
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                if first is None:
                    first = time.perf_counter() - start
                chunks[key.data].append(data)
    exit_code = proc.wait()
    elapsed = time.perf_counter() - start
    proc.stdout.close()
    proc.stderr.close()
    result = ExecResult(exit_code, b"".join(chunks[1]).decode(errors="replace"),
                        b"".join(chunks[2]).decode(errors="replace"))
    return result, Sample(elapsed, first, exit_code)


class HostTarget(Target):
    name = "host"
    timing = ("perf_counter (monotonic) in the harness, from just before fork/exec of the "
              "program to its exit as seen by wait(); first output: to the first byte read "
              "from its stdout or stderr pipe")

    def __init__(self, store: ProgramStore, timeout: float) -> None:
        self.store = store
        self.timeout = timeout
        self._probe: Path | None = None

    def prepare(self, examples: list[Example]) -> None:
        self._probe = self.store.probe()
        for example in examples:
            self.store.program_dir(example)

    def _probe_path(self) -> Path:
        if self._probe is None:
            self._probe = self.store.probe()
        return self._probe

    def describe(self) -> dict[str, Any]:
        return {"path": host_path()}

    def skip_reason(self, example: Example) -> str | None:
        if example.runtime and shutil.which(example.runtime, path=host_path()) is None:
            return f"{example.runtime} is not installed on this host (searched {host_path()})"
        return None

    def _run(self, example: Example, argv: list[str]) -> ExecResult:
        return run_process(argv, self.store.program_dir(example), self.timeout)[0]

    def probe_self(self) -> ExecResult:
        return run_process([str(self._probe_path())], Path("/"), self.timeout)[0]

    def probe_run(self, example: Example) -> ExecResult:
        return self._run(example, [str(self._probe_path()), "--", *example.command])

    def run_command(self, example: Example, argv: tuple[str, ...]) -> ExecResult:
        return self._run(example, list(argv))

    def timed_start(self, example: Example) -> Sample:
        return run_process(list(example.command), self.store.program_dir(example), self.timeout)[1]

    def disk_use(self, example: Example) -> DiskUse:
        program = program_bytes(self.store.program_dir(example))
        runtime = 0
        what = "the program's files"
        if example.runtime and (path := shutil.which(example.runtime, path=host_path())):
            real = os.path.realpath(path)
            runtime = os.stat(real).st_size
            what = f"the program's files and its interpreter ({real})"
        return DiskUse(total_bytes=program + runtime, program_bytes=program,
                       runtime_bytes=runtime, base_bytes=0, what=what)
