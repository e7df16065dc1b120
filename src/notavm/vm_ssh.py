"""One persistent SSH connection to the VM (paramiko), one exec channel per command."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Final

import paramiko

from notavm.errors import RunFailed, VmUnavailable
from notavm.measure import Sample
from notavm.targets.base import ExecResult
from notavm.vagrant import SshConfig

CONNECT_TIMEOUT_S: Final = 15
LIVENESS_TIMEOUT_S: Final = 10


class PinOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Accept the host key of a VM the harness itself started, once, and pin it: any later
    connection in the same run must present the very same key."""

    def __init__(self) -> None:
        self.pinned: paramiko.PKey | None = None

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        if self.pinned is None:
            self.pinned = key
        elif self.pinned != key:
            raise paramiko.SSHException(f"the VM's host key changed during the run ({hostname})")


class SshSession:
    def __init__(self, config: SshConfig, timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        self.policy = PinOnFirstUse()
        self.client: paramiko.SSHClient | None = None

    def connect(self) -> None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(self.policy)
        keys = [k for k in self.config.identity_files if Path(k).exists()]
        try:
            client.connect(self.config.host, port=self.config.port, username=self.config.user,
                           key_filename=keys or None,  # type: ignore[arg-type] # a list works too timeout=CONNECT_TIMEOUT_S,
                           banner_timeout=CONNECT_TIMEOUT_S, auth_timeout=CONNECT_TIMEOUT_S,
                           allow_agent=False, look_for_keys=False)
        except (paramiko.SSHException, OSError) as exc:
            raise VmUnavailable(f"cannot reach the VM over SSH at {self.config.host}:"
                                f"{self.config.port} ({exc}); check `notavm vm status`") from exc
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _transport(self) -> paramiko.Transport:
        transport = self.client.get_transport() if self.client else None
        if transport is None or not transport.is_active():
            raise VmUnavailable("the SSH connection to the VM dropped (was the VM stopped?)")
        return transport

    def exec(self, command: str, timeout: float | None = None) -> tuple[ExecResult, Sample]:
        """Run one shell command; timed with perf_counter from opening the channel on the
        open connection to the exit status, and to the first byte of stdout."""
        limit = timeout or self.timeout
        try:
            start = time.perf_counter()
            channel = self._transport().open_session(timeout=limit)
            channel.settimeout(limit)
            channel.exec_command(command)
            first: float | None = None
            out: list[bytes] = []
            while chunk := channel.recv(65536):
                if first is None:
                    first = time.perf_counter() - start
                out.append(chunk)
            code = channel.recv_exit_status()
            elapsed = time.perf_counter() - start
            err: list[bytes] = []
            while chunk := channel.recv_stderr(65536):
                err.append(chunk)
            channel.close()
        except TimeoutError as exc:
            if not self._alive():
                raise VmUnavailable(f"the VM stopped answering over SSH (no reply to "
                                    f"`{command[:40]}` within {limit:g} s)") from exc
            raise RunFailed(f"`{command[:60]}` did not finish within {limit:g} s in the VM") from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            reason = str(exc) or type(exc).__name__
            raise VmUnavailable(f"the SSH connection to the VM dropped ({reason})") from exc
        result = ExecResult(code, b"".join(out).decode(errors="replace"),
                            b"".join(err).decode(errors="replace"))
        return result, Sample(elapsed, first, code)

    def _alive(self) -> bool:
        """Does the VM still run a trivial command within a few seconds?"""
        try:
            channel = self._transport().open_session(timeout=LIVENESS_TIMEOUT_S)
            channel.settimeout(LIVENESS_TIMEOUT_S)
            channel.exec_command("true")
            return channel.recv_exit_status() == 0 if channel.status_event.wait(
                LIVENESS_TIMEOUT_S) else False
        except (paramiko.SSHException, OSError, EOFError, VmUnavailable):
            return False

    def put(self, local: Path, remote: str, mode: int) -> None:
        try:
            sftp = self.client.open_sftp() if self.client else None
            if sftp is None:
                raise VmUnavailable("not connected to the VM")
            with sftp:
                sftp.put(str(local), remote)
                sftp.chmod(remote, mode)
        except (paramiko.SSHException, OSError) as exc:
            raise VmUnavailable(f"cannot copy {local.name} into the VM ({exc})") from exc
