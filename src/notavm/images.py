"""Building the images: base images (pulled, or bootstrapped from Debian packages when no
registry answers), the probe image, and one image per example.

Also the program store: the files under /app of each built image, copied out once so
the host and the VM run the very same programs as the containers.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import docker
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from notavm.docker_daemon import session_labels
from notavm.errors import BuildFailed, NotavmError
from notavm.examples import Example, base_images
from notavm.probe import PROBE_BINARY

PROBE_IMAGE: Final = "notavm/probe:latest"
PROBE_CONTEXT: Final = Path(__file__).parent / "probe"
PROGRAM_DIR_IN_IMAGE: Final = "/app"
LOG_TAIL_LINES: Final = 15

# Trimmed like Debian's own -slim images: no manuals, docs, locales or apt lists, no
# usrmerge (which would pull in Perl), and apt told not to keep downloaded packages in
# image layers (the docker-clean file the official images carry).
APT_DOCKER_CLEAN: Final = (
    'APT::Keep-Downloaded-Packages "false";',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    'Acquire::Languages "none";',
)
MMDEBSTRAP_TRIM: Final = (
    "--hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-include=/usr/share/locale/locale.alias",
    "--customize-hook=printf '%s\\n' "
    + " ".join(shlex.quote(line) for line in APT_DOCKER_CLEAN)
    + ' > "$1"/etc/apt/apt.conf.d/docker-clean',
    '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
)

Report = Callable[[str], None]


def cache_dir() -> Path:
    root = os.environ.get("NOTAVM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "notavm"
    )
    return Path(root)


@dataclass(frozen=True)
class BuildOutcome:
    tag: str
    ok: bool
    seconds: float
    log_tail: str = ""


def debian_suite(tag: str) -> str | None:
    """`debian:bookworm-slim` -> `bookworm`; None for images that are not a Debian base."""
    repo, _, version = tag.partition(":")
    if repo not in ("debian", "docker.io/debian", "library/debian") or not version:
        return None
    return version.removesuffix("-slim")


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def ensure_base_image(client: docker.DockerClient, tag: str, report: Report) -> None:
    if image_exists(client, tag):
        return
    if os.environ.get("NOTAVM_NO_PULL") != "1":
        report(f"pulling {tag}")
        try:
            client.images.pull(tag)
            return
        except DockerException:
            report(f"no registry answered for {tag}; bootstrapping it from Debian packages")
    suite = debian_suite(tag)
    if suite is None:
        raise NotavmError(f"cannot pull {tag} and only Debian bases can be bootstrapped; "
                          f"load it with `docker load` first")
    bootstrap_debian(client, tag, suite, report)


def bootstrap_debian(client: docker.DockerClient, tag: str, suite: str, report: Report) -> None:
    """mmdebstrap a minimal Debian tree from the host's apt configuration and import it."""
    if shutil.which("mmdebstrap") is None:
        raise NotavmError("mmdebstrap is missing: apt-get install mmdebstrap (scripts/setup.sh)")
    repo, _, version = tag.partition(":")
    with tempfile.TemporaryDirectory(prefix="notavm-base-") as tmp:
        tarball = Path(tmp) / f"{suite}.tar"
        report(f"mmdebstrap {suite} for {tag}")
        proc = subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--format=tar", "--quiet", *MMDEBSTRAP_TRIM,
             suite, str(tarball)],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise NotavmError(f"mmdebstrap {suite} failed: {_tail(proc.stderr)}")
        report(f"importing {tag}")
        client.api.import_image(src=str(tarball), repository=repo, tag=version,
                                changes=['CMD ["bash"]'])


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def build_image(client: docker.DockerClient, context: Path, tag: str, report: Report) -> BuildOutcome:
    start = time.monotonic()
    log: list[str] = []
    try:
        for chunk in client.api.build(path=str(context), tag=tag, rm=True, forcerm=True,
                                      decode=True, labels={"notavm": "1"}):
            if "stream" in chunk:
                line = chunk["stream"].rstrip()
                if line:
                    log.append(line)
                    if line.startswith("Step "):
                        report(f"{tag}: {line}")
            if "error" in chunk:
                log.append(chunk["error"].rstrip())
                return BuildOutcome(tag, False, time.monotonic() - start, _tail("\n".join(log)))
    except (APIError, BuildError) as exc:
        log.append(str(exc))
        return BuildOutcome(tag, False, time.monotonic() - start, _tail("\n".join(log)))
    return BuildOutcome(tag, True, time.monotonic() - start)


def build_all(client: docker.DockerClient, examples: Iterable[Example], report: Report,
              rebuild: bool = True) -> list[BuildOutcome]:
    """Build the probe and every example; a failed build does not stop the others."""
    jobs: list[tuple[Path, str]] = [(PROBE_CONTEXT, PROBE_IMAGE)]
    jobs += [(e.directory, e.image) for e in examples]
    outcomes: list[BuildOutcome] = []
    for context, tag in jobs:
        if not rebuild and image_exists(client, tag):
            continue
        dockerfile = (context / "Dockerfile").read_text()
        try:
            for base in base_images(dockerfile):
                ensure_base_image(client, base, report)
        except NotavmError as exc:
            outcomes.append(BuildOutcome(tag, False, 0.0, str(exc)))
            continue
        report(f"building {tag}")
        outcomes.append(build_image(client, context, tag, report))
    return outcomes


def raise_for_failures(outcomes: list[BuildOutcome]) -> None:
    failed = [o for o in outcomes if not o.ok]
    if failed:
        details = "; ".join(f"{o.tag}: {o.log_tail.splitlines()[-1] if o.log_tail else '?'}"
                            for o in failed)
        raise BuildFailed(f"{len(failed)} image build(s) failed ({details}); "
                          "see the log tails above and rerun `notavm images build`")


def ensure_images(client: docker.DockerClient, examples: Iterable[Example], report: Report) -> None:
    """Build whatever is missing (used by `notavm run`, so a fresh machine needs one command)."""
    raise_for_failures(build_all(client, examples, report, rebuild=False))


def copy_out(client: docker.DockerClient, image: str, path: str, dest: Path, session: str) -> None:
    """Copy `path` out of an image through a created (never started) container."""
    container = client.containers.create(image, labels=session_labels(session),
                                         network_disabled=True)
    try:
        stream, _ = container.get_archive(path)
        buffer = io.BytesIO(b"".join(stream))
    finally:
        container.remove(force=True)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=buffer) as tar:
        tar.extractall(dest, filter="tar")


class ProgramStore:
    """The programs and the probe, copied out of the images into the cache, refreshed
    whenever the image they came from changes."""

    def __init__(self, client: docker.DockerClient, session: str, root: Path | None = None):
        self.client = client
        self.session = session
        self.root = root or cache_dir()

    def _fresh(self, image: str, path: str, dest: Path) -> Path:
        image_id = self.client.images.get(image).id
        stamp = dest / ".image-id"
        if not (stamp.exists() and stamp.read_text() == image_id):
            copy_out(self.client, image, path, dest, self.session)
            stamp.write_text(image_id)
        return dest

    def program_dir(self, example: Example) -> Path:
        """The example's /app folder; the command runs with this as its working directory."""
        return self._fresh(example.image, PROGRAM_DIR_IN_IMAGE + "/.",
                           self.root / "programs" / example.name)

    def probe(self) -> Path:
        return self._fresh(PROBE_IMAGE, "/" + PROBE_BINARY, self.root / "probe") / PROBE_BINARY


def program_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*")
               if p.is_file() and not p.is_symlink() and p.name != ".image-id")
