"""The container side for real: real images, real containers, real facts."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from notavm.cli import app
from notavm.docker_daemon import LABEL, new_session_id
from notavm.errors import BuildFailed, RunFailed
from notavm.examples import Example, load_catalogue
from notavm.images import ProgramStore, build_all, raise_for_failures
from notavm.targets.container import ContainerTarget

pytestmark = pytest.mark.docker


def runs_on(document, target):
    return {r["example"]: r for r in document["runs"] if r["target"] == target}


def test_run_succeeds_and_prints_both_columns(container_results):
    result, document = container_results
    assert result.exit_code == 0, result.output
    assert "summary" in result.output
    assert document["complete"] is True
    assert len(runs_on(document, "container")) == 7


def test_containers_run_on_the_hosts_very_kernel(container_results):
    _, document = container_results
    host = os.uname().release
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip()
    for name, run in runs_on(document, "container").items():
        assert run["kernel"]["release"] == host, name
        assert run["kernel"]["boot_id"] == boot_id, name
        assert run["same_kernel_as_host"] is True


def test_containers_have_their_own_pid_mount_and_net_namespaces(container_results):
    _, document = container_results
    own_pid_ns = os.readlink("/proc/self/ns/pid")
    for name, run in runs_on(document, "container").items():
        assert run["namespaces"]["pid"] != own_pid_ns, name
        assert {"pid", "mnt", "net", "uts", "ipc"} <= set(run["namespaces_differing_from_host"])
        assert run["facts"]["pid"] == 1  # the program is pid 1 of its own pid namespace
        assert run["facts"]["visible_process_count"] == 1


def test_containers_are_hardened_and_the_probe_shows_it(container_results):
    _, document = container_results
    for name, run in runs_on(document, "container").items():
        facts = run["facts"]
        assert facts["capability_count"] == 0, name
        assert facts["no_new_privs"] is True
        assert facts["limits"]["memory"] == "256 MiB"
        assert facts["limits"]["pids"] == "64"
        assert any("docker" in line for line in run["cgroup"]) or facts["cgroup_version"] == "2"


def test_every_program_prints_its_greeting_and_nasm_exits_1(container_results):
    _, document = container_results
    catalogue = load_catalogue()
    for run in document["runs"]:
        if run["skipped"]:
            continue
        example = catalogue[run["example"]]
        assert run["error"] is None, run
        assert run["stdout"] == example.expected_stdout
        assert run["exit_code"] == example.expected_exit_code
        assert set(run["sample_exit_codes"]) == {example.expected_exit_code}
    assert runs_on(document, "container")["nasm"]["exit_code"] == 1


def test_host_runs_the_same_binaries(container_results):
    _, document = container_results
    host, container = runs_on(document, "host"), runs_on(document, "container")
    for name in ("golang", "golang-stripped", "nasm"):
        assert host[name]["skipped"] is None
        assert host[name]["disk"]["program_bytes"] == container[name]["disk"]["program_bytes"]
    assert host["bash"]["skipped"] is None and host["python3"]["skipped"] is None
    assert host["golang"]["runtime_version"] == container["golang"]["runtime_version"]
    assert host["golang"]["runtime_version"].startswith("Go go1.")


def test_startup_statistics_are_kept_with_raw_samples(container_results):
    _, document = container_results
    for run in runs_on(document, "container").values():
        stats = run["startup_s"]
        assert len(stats["samples"]) == 3
        assert stats["min"] <= stats["median"] <= stats["max"]
        assert run["first_output_s"]["median"] <= stats["max"]


def test_image_sizes_nasm_tiny_and_stripped_go_smaller(container_results):
    _, document = container_results
    container = runs_on(document, "container")
    assert container["nasm"]["disk_bytes"] < 1024
    assert container["golang-stripped"]["disk_bytes"] < container["golang"]["disk_bytes"]
    python3 = container["python3"]["disk"]
    assert python3["base_bytes"] > 0 and python3["runtime_bytes"] > 0
    assert python3["total_bytes"] == (python3["base_bytes"] + python3["runtime_bytes"]
                                      + python3["program_bytes"])


def test_results_file_describes_the_host(container_results):
    _, document = container_results
    host = document["host"]
    assert host["docker_version"]
    assert host["kernel_release"] == os.uname().release
    assert host["memory_bytes"] > 0 and host["cpu_cores_logical"] >= 1


def test_image_cmd_matches_the_manifest(built_images, docker_client):
    for example in load_catalogue().values():
        image = docker_client.images.get(example.image)
        assert tuple(image.attrs["Config"]["Cmd"]) == example.command


def test_a_container_that_does_not_exit_is_killed(built_images, docker_client):
    session = new_session_id()
    target = ContainerTarget(docker_client, ProgramStore(docker_client, session), session, timeout=2)
    bash = load_catalogue()["bash"]
    try:
        with pytest.raises(RunFailed, match="did not exit within 2 s"):
            target.run_command(bash, ("sleep", "60"))
    finally:
        target.close()


def test_unknown_example_is_one_clear_line():
    result = CliRunner().invoke(app, ["run", "-e", "cobol"])
    assert result.exit_code == 1
    assert "unknown example cobol; valid examples: bash, python2" in result.output
    assert "Traceback" not in result.output


def test_unreachable_daemon_is_one_clear_line(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    proc = subprocess.run([sys.executable, "-m", "notavm", "run", "-e", "nasm"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "Docker daemon is not reachable" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ctrl_c_removes_every_container_and_keeps_finished_runs(built_images, docker_client,
                                                                 tmp_path):
    path = tmp_path / "partial.json"
    proc = subprocess.Popen([sys.executable, "-m", "notavm", "run", "--target", "container",
                             "--repeat", "50", "--json", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    # Interrupt once the first run is saved and more containers are being started.
    while time.monotonic() < deadline:
        if path.exists() and '"example": "bash"' in path.read_text():
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the run never saved its first result")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []
    assert docker_client.volumes.list(filters={"label": LABEL}) == []
    saved = json.loads(path.read_text())
    assert saved["complete"] is False
    assert saved["runs"][0]["example"] == "bash" and saved["runs"][0]["error"] is None


def test_a_failing_build_does_not_stop_the_others(built_images, docker_client, tmp_path):
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    (broken_dir / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nRUN echo 'compiler says no' >&2 && false\n")
    broken = Example(name="broken", description="", directory=broken_dir, command=("true",),
                     expected_stdout="", expected_exit_code=0)
    outcomes = build_all(docker_client, [broken, load_catalogue()["nasm"]], lambda _m: None)
    by_tag = {o.tag: o for o in outcomes}
    assert not by_tag["notavm/broken:latest"].ok
    assert "returned a non-zero code" in by_tag["notavm/broken:latest"].log_tail
    assert by_tag["notavm/nasm:latest"].ok and by_tag["notavm/probe:latest"].ok
    with pytest.raises(BuildFailed, match="notavm/broken:latest"):
        raise_for_failures(outcomes)
