"""The catalogue: the seven hello-world programs, read from examples/*/example.toml."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notavm.errors import NotavmError, UnknownExample

# The article's order, which is also the order of every table.
CANONICAL_ORDER: Final = (
    "bash", "python2", "python3", "golang", "golang-stripped", "node", "nasm",
)
IMAGE_PREFIX: Final = "notavm/"


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    directory: Path
    command: tuple[str, ...]
    expected_stdout: str
    expected_exit_code: int
    version_command: tuple[str, ...] | None = None
    exit_code_note: str = ""
    vm_packages: tuple[str, ...] = ()
    vm_suite: str = "bookworm"

    @property
    def image(self) -> str:
        return f"{IMAGE_PREFIX}{self.name}:latest"

    @property
    def runtime(self) -> str | None:
        """The interpreter the command needs on PATH, or None for a program run by path."""
        first = self.command[0]
        return None if "/" in first else first

    @property
    def base_image(self) -> str | None:
        """The image the final stage of the Dockerfile starts from (None for scratch)."""
        return final_base_image((self.directory / "Dockerfile").read_text())


def final_base_image(dockerfile: str) -> str | None:
    base: str | None = None
    for line in dockerfile.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            base = words[1]
    return None if base in (None, "scratch") else base


def base_images(dockerfile: str) -> list[str]:
    """Every external image a Dockerfile starts a stage from (not scratch, not its own stages)."""
    stages: set[str] = set()
    bases: list[str] = []
    for line in dockerfile.splitlines():
        words = line.split()
        if len(words) < 2 or words[0].upper() != "FROM":
            continue
        image = words[1]
        if len(words) >= 4 and words[2].upper() == "AS":
            stages.add(words[3].lower())
        if image != "scratch" and image.lower() not in stages and image not in bases:
            bases.append(image)
    return bases


def default_examples_dir() -> Path:
    if env := os.environ.get("NOTAVM_EXAMPLES"):
        return Path(env)
    for candidate in (Path(__file__).resolve().parents[2] / "examples", Path.cwd() / "examples"):
        if candidate.is_dir():
            return candidate
    raise NotavmError(
        "cannot find the examples/ folder; run notavm from the repository or set NOTAVM_EXAMPLES"
    )


def parse_manifest(directory: Path, text: str) -> Example:
    try:
        data = tomllib.loads(text)
        vm = data.get("vm", {})
        version = data.get("version_command")
        return Example(
            name=data["name"],
            description=data.get("description", ""),
            directory=directory,
            command=tuple(data["command"]),
            expected_stdout=data["expected_stdout"],
            expected_exit_code=int(data["expected_exit_code"]),
            version_command=tuple(version) if version else None,
            exit_code_note=data.get("exit_code_note", ""),
            vm_packages=tuple(vm.get("packages", ())),
            vm_suite=vm.get("suite", "bookworm"),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise NotavmError(f"{directory / 'example.toml'} is malformed ({exc}); fix it") from exc


def load_catalogue(examples_dir: Path | None = None) -> dict[str, Example]:
    root = examples_dir or default_examples_dir()
    found: dict[str, Example] = {}
    for manifest in sorted(root.glob("*/example.toml")):
        example = parse_manifest(manifest.parent, manifest.read_text())
        if example.name != manifest.parent.name:
            raise NotavmError(f"{manifest}: name {example.name!r} must match its folder name")
        found[example.name] = example
    if not found:
        raise NotavmError(f"no examples found under {root}")
    rank = {name: i for i, name in enumerate(CANONICAL_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def select(catalogue: dict[str, Example], names: list[str] | None) -> list[Example]:
    if not names:
        return list(catalogue.values())
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise UnknownExample(
            f"unknown example {', '.join(unknown)}; valid examples: {', '.join(catalogue)}"
        )
    return [catalogue[n] for n in dict.fromkeys(names)]
