"""Docker containers, driven only through the Docker SDK, each one hardened and labelled."""

from __future__ import annotations

import contextlib
import functools
import io
import tarfile
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound
from docker.models.containers import Container

from notavm.docker_daemon import remove_labelled, session_labels
from notavm.errors import DockerUnavailable, NotavmError, RunFailed
from notavm.examples import Example
from notavm.images import PROBE_IMAGE, ProgramStore, ensure_images, program_bytes
from notavm.measure import Sample
from notavm.probe import PROBE_BINARY
from notavm.results import DiskUse
from notavm.targets.base import ExecResult, Target

PROBE_MOUNT: Final = "/.notavm"
MEMORY_LIMIT: Final = "256m"
PIDS_LIMIT: Final = 64
DAEMON_GONE: Final = ("the Docker daemon stopped answering during the run; start it again "
                      "(scripts/setup.sh) and rerun")


def hardening() -> dict[str, Any]:
    """No network, no capabilities, read-only root, no privilege gain, pids and memory caps."""
    return {
        "network_mode": "none",
        "cap_drop": ["ALL"],
        "read_only": True,
        "security_opt": ["no-new-privileges"],
        "pids_limit": PIDS_LIMIT,
        "mem_limit": MEMORY_LIMIT,
    }


F = TypeVar("F", bound=Callable[..., Any])


def _daemon_errors(method: F) -> F:
    """A daemon that stops answering mid-run is one clear error for the container column."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except requests.exceptions.ConnectionError as exc:
            raise DockerUnavailable(DAEMON_GONE) from exc
    return wrapper  # type: ignore[return-value]


class ContainerTarget(Target):
    name = "container"
    timing = ("perf_counter (monotonic) in the harness, from the Docker API start request of "
              "an already created container to the return of its wait request (the container "
              "has exited); first output: to the first byte on an attach stream opened before "
              "the start. Creation and removal are not timed.")

    def __init__(self, client: docker.DockerClient, store: ProgramStore, session: str,
                 timeout: float, report: Any = None) -> None:
        self.client = client
        self.store = store
        self.session = session
        self.timeout = timeout
        self.report = report or (lambda _msg: None)
        self.probe_volume = f"notavm-probe-{session}"
        self._volume_ready = False

    # -- set-up and tear-down -------------------------------------------------
    def prepare(self, examples: list[Example]) -> None:
        ensure_images(self.client, examples, self.report)
        self._ensure_probe_volume()

    def _ensure_probe_volume(self) -> None:
        """Put the probe binary into a volume that the probe runs mount read-only.

        put_archive cannot write into a read-only root filesystem, so the copy goes
        through a helper container (created, never started) that mounts the volume."""
        if self._volume_ready:
            return
        probe = self.store.probe()
        self.client.volumes.create(self.probe_volume, labels=session_labels(self.session))
        helper = self.client.containers.create(
            PROBE_IMAGE, labels=session_labels(self.session), network_disabled=True,
            volumes={self.probe_volume: {"bind": PROBE_MOUNT, "mode": "rw"}},
        )
        try:
            archive = io.BytesIO()
            with tarfile.open(fileobj=archive, mode="w") as tar:
                info = tar.gettarinfo(str(probe), arcname=PROBE_BINARY)
                info.mode = 0o755
                info.uid = info.gid = 0
                with probe.open("rb") as f:
                    tar.addfile(info, f)
            if not helper.put_archive(PROBE_MOUNT, archive.getvalue()):
                raise NotavmError("could not copy the probe into its volume")
        finally:
            helper.remove(force=True)
        self._volume_ready = True

    def describe(self) -> dict[str, Any]:
        return {"hardening": hardening()}

    def close(self) -> None:
        # If the daemon went away, nothing of ours can be left running on it.
        with contextlib.suppress(DockerException):
            remove_labelled(self.client, self.session)
        self._volume_ready = False

    # -- running --------------------------------------------------------------
    def _create(self, example: Example, **kwargs: Any) -> Container:
        try:
            return self.client.containers.create(
                example.image, labels=session_labels(self.session), **hardening(), **kwargs
            )
        except ImageNotFound as exc:
            raise NotavmError(f"image {example.image} is missing; run `notavm images build`") from exc

    def _wait(self, container: Container, what: str) -> int:
        try:
            return int(container.wait(timeout=self.timeout)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
            # The SDK reports a wait that timed out as either; only a ping tells a slow
            # container from a daemon that went away.
            try:
                self.client.ping()
            except (DockerException, requests.exceptions.RequestException):
                raise DockerUnavailable(DAEMON_GONE) from exc
            with contextlib.suppress(DockerException):
                container.kill()
            raise RunFailed(f"{what} did not exit within {self.timeout:g} s; its container "
                            "was killed") from exc

    def _run_to_end(self, example: Example, **kwargs: Any) -> ExecResult:
        container = self._create(example, **kwargs)
        try:
            container.start()
            code = self._wait(container, example.name)
            out = container.logs(stdout=True, stderr=False).decode(errors="replace")
            err = container.logs(stdout=False, stderr=True).decode(errors="replace")
            return ExecResult(code, out, err)
        except APIError as exc:
            raise RunFailed(f"{example.name}: Docker refused the run: {exc.explanation}") from exc
        finally:
            container.remove(force=True)

    def probe_self(self) -> ExecResult:
        raise NotavmError("the container target is probed per example")

    @_daemon_errors
    def probe_run(self, example: Example) -> ExecResult:
        self._ensure_probe_volume()
        return self._run_to_end(
            example,
            entrypoint=[f"{PROBE_MOUNT}/{PROBE_BINARY}", "--"],
            command=list(example.command),
            volumes={self.probe_volume: {"bind": PROBE_MOUNT, "mode": "ro"}},
        )

    @_daemon_errors
    def run_command(self, example: Example, argv: tuple[str, ...]) -> ExecResult:
        return self._run_to_end(example, command=list(argv))

    @_daemon_errors
    def timed_start(self, example: Example) -> Sample:
        container = self._create(example)
        try:
            first: list[float] = []
            socket = container.attach_socket(params={"stdout": 1, "stderr": 1, "stream": 1})
            reader = threading.Thread(target=_note_first_byte, args=(socket, first), daemon=True)
            reader.start()
            start = time.perf_counter()
            container.start()
            code = self._wait(container, example.name)
            elapsed = time.perf_counter() - start
            reader.join(timeout=5)
            socket.close()
            first_output = first[0] - start if first else None
            return Sample(elapsed, first_output, code)
        finally:
            container.remove(force=True)

    @_daemon_errors
    def disk_use(self, example: Example) -> DiskUse:
        image = self.client.images.get(example.image)
        total = int(image.attrs["Size"])
        program = program_bytes(self.store.program_dir(example))
        base = 0
        if example.base_image:
            base = int(self.client.images.get(example.base_image).attrs["Size"])
        layers = [
            {"id": layer.get("Id", ""), "created_by": layer.get("CreatedBy", ""),
             "size": int(layer.get("Size", 0))}
            for layer in image.history()
        ]
        return DiskUse(total_bytes=total, program_bytes=program,
                       runtime_bytes=max(total - base - program, 0), base_bytes=base,
                       what=f"image {example.image} as Docker reports it", layers=layers)


def _note_first_byte(socket: Any, first: list[float]) -> None:
    raw = getattr(socket, "_sock", socket)
    try:
        if raw.recv(1):
            first.append(time.perf_counter())
    except OSError:
        pass
