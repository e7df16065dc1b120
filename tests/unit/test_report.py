import io

from rich.console import Console
from typer.testing import CliRunner

from notavm.cli import app
from notavm.report import terminal
from notavm.report.facts import comparison_rows, human_bytes, summary_cells

NS = {"pid": "pid:[4026531836]", "mnt": "mnt:[4026531832]", "user": "user:[4026531837]"}


def run(target, boot_id, namespaces, same, differing, **extra):
    return {
        "example": "nasm", "target": target, "exit_code": 1, "expected_exit_code": 1,
        "stdout": "Hello world!\n", "expected_stdout": "Hello world!\n",
        "kernel": {"release": "6.1.0", "version": "#1", "boot_id": boot_id},
        "namespaces": namespaces, "same_kernel_as_host": same,
        "namespaces_differing_from_host": differing, "cgroup": ["0::/"],
        "facts": {"pid": 1, "limits": {"memory": "256 MiB"}},
        "startup_s": {"median": 0.2, "stdev": 0.01, "samples": [0.2, 0.2]},
        "first_output_s": None, "disk_bytes": 324,
        "disk": {"total_bytes": 324, "program_bytes": 324, "runtime_bytes": 0, "base_bytes": 0},
        "error": None, "skipped": None, "exit_code_note": "ebx still holds 1", **extra,
    }


RUNS = [
    run("host", "aaa", NS, None, []),
    run("container", "aaa", {**NS, "pid": "pid:[4026532179]"}, True, ["pid"]),
    run("vm", "bbb", NS, False, None),  # the VM's own kernel, same initial numbers
]


def rows():
    return dict(comparison_rows(RUNS))


def test_kernel_row_says_shared_versus_own():
    kernel = rows()["kernel"]
    assert kernel["container"].startswith("SHARED")
    assert kernel["vm"].startswith("OWN")


def test_namespace_numbers_on_another_kernel_are_labelled_not_compared():
    pid = rows()["pid ns"]
    assert pid["container"] == "4026532179 (own)"
    assert pid["vm"] == "4026531836 (own kernel's)"
    assert rows()["user ns"]["container"] == "4026531837 (host)"


def test_summary_cells():
    assert summary_cells(RUNS[1]) == ["1", "200.0 ms", "324 B", "shared"]
    assert summary_cells(RUNS[2])[3] == "own"
    assert summary_cells({**RUNS[0], "skipped": "no python2"})[0] == "skipped"
    assert summary_cells({**RUNS[1], "exit_code": 0})[0] == "0 (expected 1)"


def test_human_bytes():
    assert human_bytes(324) == "324 B"
    assert human_bytes(1_216_512) == "1.2 MiB"


def test_render_prints_tables_note_and_vm_boot():
    buffer = io.StringIO()
    document = {"runs": RUNS, "targets": {"vm": {"boot": {
        "vagrant_up_s": 20.0, "before_kernel_s": 5.0, "kernel_s": 2.0,
        "userspace_until_sshd_s": 8.0, "vagrant_after_sshd_s": 5.0}}}}
    terminal.render(document, Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert "note: ebx still holds 1" in text
    assert "summary" in text
    assert "VM boot: vagrant up 20.0 s" in text


def test_unknown_target_is_one_clear_line():
    result = CliRunner().invoke(app, ["run", "--target", "host,lxc"])
    assert result.exit_code == 1
    assert "unknown target lxc; valid targets: host, container, vm" in result.output
