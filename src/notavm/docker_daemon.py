"""The connection to the Docker daemon, and the labels that let every run clean up after itself."""

from __future__ import annotations

import uuid
from typing import Final

import docker
from docker.errors import DockerException, NotFound

from notavm.errors import DockerUnavailable

LABEL: Final = "notavm"
SESSION_LABEL: Final = "notavm.session"
API_TIMEOUT_S: Final = 120


def connect(timeout: int = API_TIMEOUT_S) -> docker.DockerClient:
    """A client for the daemon DOCKER_HOST (or the local socket) names, checked with a ping."""
    try:
        client = docker.from_env(version="auto", timeout=timeout)
        client.ping()
    except DockerException as exc:
        raise DockerUnavailable(
            "the Docker daemon is not reachable; start it (scripts/setup.sh starts dockerd) "
            "or point DOCKER_HOST at one"
        ) from exc
    return client


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def session_labels(session: str) -> dict[str, str]:
    return {LABEL: "1", SESSION_LABEL: session}


def remove_labelled(client: docker.DockerClient, session: str | None = None) -> int:
    """Remove the containers and volumes of one session (or of every notavm session)."""
    selector = f"{SESSION_LABEL}={session}" if session else LABEL
    removed = 0
    for container in client.containers.list(all=True, filters={"label": selector}):
        try:
            container.remove(force=True, v=True)
            removed += 1
        except NotFound:
            pass
    for volume in client.volumes.list(filters={"label": selector}):
        try:
            volume.remove(force=True)
            removed += 1
        except NotFound:
            pass
    return removed
