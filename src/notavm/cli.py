"""The command line. Parses, calls the library, and turns NotavmError into one line on stderr
and an exit status; it holds no logic of its own beyond wiring."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, Final, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from notavm import __version__, box, doctor, experiment, probe
from notavm.docker_daemon import connect, new_session_id, remove_labelled
from notavm.errors import NotavmError
from notavm.examples import load_catalogue, select
from notavm.hostinfo import describe
from notavm.images import ProgramStore, build_all, ensure_images, raise_for_failures
from notavm.report import terminal
from notavm.results import TARGETS, Document, ResultsFile
from notavm.targets.base import Target
from notavm.targets.container import ContainerTarget
from notavm.targets.host import HostTarget
from notavm.targets.vm import VmTarget
from notavm.vagrant import Vagrant

EXIT_ERROR: Final = 1
EXIT_INCOMPLETE: Final = 3
EXIT_INTERRUPTED: Final = 130

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Show, measure and report why a container is not a virtual machine.")
examples_app = typer.Typer(no_args_is_help=True, help="The hello-world programs.")
images_app = typer.Typer(no_args_is_help=True, help="The Docker images.")
app.add_typer(examples_app, name="examples")
vm_app = typer.Typer(no_args_is_help=True, help="The Vagrant VM.")
app.add_typer(images_app, name="images")
app.add_typer(vm_app, name="vm")

# Tables go to stdout; when that is a file or a pipe they are laid out for a wide page.
out = Console()
if not out.is_terminal:
    out = Console(width=140)
err = Console(stderr=True)
state = {"verbose": False}
F = TypeVar("F", bound=Callable[..., Any])


def cli_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NotavmError as exc:
            if state["verbose"]:
                err.print_exception()
            err.print(f"notavm: error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            err.print("notavm: interrupted; the containers it started were removed",
                      markup=False, highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"notavm {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version.")] = False,
) -> None:
    state["verbose"] = verbose


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("starting")
        yield lambda message: progress.update(task, description=message)


def parse_targets(value: str) -> list[str]:
    names = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in names if t not in TARGETS]
    if unknown or not names:
        raise NotavmError(f"unknown target {', '.join(unknown) or '(none)'}; "
                          f"valid targets: {', '.join(TARGETS)}")
    return [t for t in TARGETS if t in names]


@app.command()
@cli_errors
def run(
    example: Annotated[list[str] | None, typer.Option("--example", "-e",
                       help="An example to run (repeatable); default all.")] = None,
    target: Annotated[str, typer.Option(help="Comma-separated targets.")] = "host,container,vm",
    repeat: Annotated[int, typer.Option(min=1, help="Timed starts per example and target.")] = 5,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed starts before those.")] = 1,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds before a run is killed.")] = 60,
    json_path: Annotated[Path | None, typer.Option("--json",
                         help="Write the results file here (rewritten after every run).")] = None,
    keep_vm: Annotated[bool, typer.Option(help="Leave a VM this run booted running.")] = False,
    brief: Annotated[bool, typer.Option(help="Print only the summary table.")] = False,
) -> None:
    """Run, probe and time the examples on each target and print them side by side."""
    examples = select(load_catalogue(), example)
    target_names = parse_targets(target)
    settings = experiment.Settings(repeat=repeat, warmup=warmup, timeout=timeout)
    session = new_session_id()
    client = connect()
    store = ProgramStore(client, session)
    host = HostTarget(store, timeout)
    targets: list[Target] = []
    for name in target_names:
        if name == "host":
            targets.append(host)
        elif name == "container":
            targets.append(ContainerTarget(client, store, session, timeout))
        elif name == "vm":
            targets.append(VmTarget(store, timeout, keep_vm=keep_vm))
    document = Document(
        host=describe(docker_version=client.version().get("Version"), vagrant=Vagrant().version()
                      if "vm" in target_names else None),
        settings={"repeat": repeat, "warmup": warmup, "timeout_s": timeout,
                  "targets": target_names, "examples": [e.name for e in examples]},
    )
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    lost: dict[str, str] = {}
    try:
        results = ResultsFile(document, json_path)
        with _progress() as report:
            for t in targets:
                if isinstance(t, ContainerTarget | VmTarget):
                    t.report = report
            ensure_images(client, examples, report)
            for t in targets:
                report(f"preparing {t.name}")
                try:
                    t.prepare(examples)
                except NotavmError as exc:
                    lost[t.name] = f"{t.name} not ready: {exc}"
                document.targets[t.name] = t.describe()
            reference = probe.parse(host.probe_self().stdout).facts
            lost = experiment.run_all(targets, examples, settings, results, reference,
                                      store.program_dir, report, lost)
        results.finish()
    finally:
        for t in targets:
            t.close()
        remove_labelled(client, session)
        signal.signal(signal.SIGTERM, previous)
    terminal.render(document.to_json(), out, detail=not brief)
    if json_path:
        err.print(f"results written to {json_path}", highlight=False)
    for reason in lost.values():
        err.print(f"notavm: incomplete: {reason}", markup=False, highlight=False)
    if not all(r.ok or r.skipped for r in document.runs):
        raise typer.Exit(EXIT_INCOMPLETE)


@examples_app.command("list")
@cli_errors
def examples_list() -> None:
    """List the examples and what each one expects."""
    table = Table("name", "command", "expected exit", "description")
    for e in load_catalogue().values():
        table.add_row(e.name, " ".join(e.command), str(e.expected_exit_code), e.description)
    out.print(table)


@images_app.command("build")
@cli_errors
def images_build(
    example: Annotated[list[str] | None, typer.Option("--example", "-e",
                       help="An example to build (repeatable); default all.")] = None,
) -> None:
    """Build the probe and example images, bootstrapping base images when no registry answers."""
    examples = select(load_catalogue(), example)
    client = connect()
    with _progress() as report:
        outcomes = build_all(client, examples, report)
    table = Table("image", "result", "seconds")
    for o in outcomes:
        table.add_row(o.tag, "built" if o.ok else "FAILED", f"{o.seconds:.1f}")
    out.print(table)
    for o in outcomes:
        if not o.ok:
            err.print(f"--- {o.tag}: last lines of the build log ---\n{o.log_tail}",
                      markup=False, highlight=False)
    raise_for_failures(outcomes)


@app.command("doctor")
@cli_errors
def doctor_command() -> None:
    """Check every prerequisite and print the fix for each missing one."""
    checks = doctor.all_checks()
    table = Table("check", "ok", "detail", "fix")
    for c in checks:
        table.add_row(c.name, "yes" if c.ok else ("NO" if c.required else "no (optional)"),
                      c.detail, c.fix)
    out.print(table)
    if any(not c.ok and c.required for c in checks):
        raise NotavmError("some prerequisites are missing; apply the fixes above")


@app.command("cleanup")
@cli_errors
def cleanup() -> None:
    """Remove every container and volume any notavm run left behind."""
    removed = remove_labelled(connect())
    out.print(f"removed {removed} leftover container(s) and volume(s)")


@vm_app.command("box")
@cli_errors
def vm_box(
    force: Annotated[bool, typer.Option(help="Rebuild even when the cached box is current.")] = False,
) -> None:
    """Build the Debian box from Debian packages (cached) and add it to Vagrant."""
    packages = box.packages(load_catalogue().values())
    err.print(f"building the box with {' '.join(packages)} (takes a few minutes the first time)",
              highlight=False)
    out.print(f"box ready: {box.build(packages, force=force)}")


@vm_app.command("up")
@cli_errors
def vm_up() -> None:
    """Boot the VM (or say that it already runs)."""
    vagrant = Vagrant()
    if vagrant.status() == "running":
        out.print("the VM is already running")
        return
    box.ensure_added(load_catalogue().values())
    with _progress() as report:
        report("vagrant up")
        start, end = vagrant.up()
    out.print(f"the VM is up ({end - start:.1f} s for vagrant up)")


@vm_app.command("down")
@cli_errors
def vm_down() -> None:
    """Destroy the VM."""
    Vagrant().destroy()
    out.print("the VM is destroyed")


@vm_app.command("status")
@cli_errors
def vm_status() -> None:
    """The VM's state and where SSH reaches it."""
    vagrant = Vagrant()
    state = vagrant.status()
    out.print(f"state: {state}")
    if state == "running":
        config = vagrant.ssh_config()
        out.print(f"ssh: {config.user}@{config.host}:{config.port}")


def main() -> None:
    app()
