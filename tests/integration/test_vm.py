"""The VM side for real: the real Vagrant, libvirt and QEMU, the real box, over paramiko."""

import json
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from notavm.cli import app
from notavm.docker_daemon import LABEL
from notavm.examples import load_catalogue
from notavm.vagrant import Vagrant

from ..conftest import require, vm_reason

pytestmark = [pytest.mark.docker, pytest.mark.vm]


@pytest.fixture(scope="module")
def vagrant(built_images):
    require(vm_reason())
    return Vagrant()


@pytest.fixture(scope="module")
def vm_was_up(vagrant):
    return vagrant.status() == "running"


def libvirt_domains():
    out = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def vm_results(vagrant, vm_was_up, tmp_path_factory):
    path = tmp_path_factory.mktemp("vm") / "results.json"
    result = CliRunner().invoke(app, ["run", "--repeat", "2", "--warmup", "0",
                                      "--json", str(path)])
    return result, json.loads(path.read_text())


def runs_on(document, target):
    return {r["example"]: r for r in document["runs"] if r["target"] == target}


def test_all_three_columns_and_a_clean_exit(vm_results):
    result, document = vm_results
    assert result.exit_code == 0, result.output
    assert {r["target"] for r in document["runs"]} == {"host", "container", "vm"}
    assert "VM boot" in result.output or "reused" in result.output


def test_the_vm_runs_its_own_kernel(vm_results):
    _, document = vm_results
    with open("/proc/sys/kernel/random/boot_id") as f:
        host_boot_id = f.read().strip()
    for name, run in runs_on(document, "vm").items():
        assert run["kernel"]["boot_id"] != host_boot_id, name
        assert run["same_kernel_as_host"] is False
        # Namespace ids are not compared across kernels, even where the numbers match.
        assert run["namespaces_differing_from_host"] is None
    container = runs_on(document, "container")
    assert all(r["same_kernel_as_host"] for r in container.values())


def test_the_vm_runs_all_seven_as_expected(vm_results):
    _, document = vm_results
    catalogue = load_catalogue()
    vm = runs_on(document, "vm")
    assert set(vm) == set(catalogue)
    for name, run in vm.items():
        assert run["skipped"] is None and run["error"] is None, run
        assert run["stdout"] == catalogue[name].expected_stdout, name
        assert run["exit_code"] == catalogue[name].expected_exit_code, name
    assert vm["nasm"]["exit_code"] == 1
    assert vm["python2"]["runtime_version"].startswith("Python 2.7")


def test_vm_runs_have_the_same_fields_as_container_runs(vm_results):
    _, document = vm_results
    vm, container = runs_on(document, "vm"), runs_on(document, "container")
    for name in vm:
        assert set(vm[name]) == set(container[name])
        assert set(vm[name]["facts"]) == set(container[name]["facts"])
        assert len(vm[name]["startup_s"]["samples"]) == 2


def test_vm_sees_its_own_machine(vm_results):
    _, document = vm_results
    vm = runs_on(document, "vm")["bash"]["facts"]
    host = runs_on(document, "host")["bash"]["facts"]
    assert vm["mem_total_bytes"] < host["mem_total_bytes"]
    assert vm["hostname"] != host["hostname"]


def test_boot_split_and_disk_are_recorded(vm_results, vm_was_up):
    _, document = vm_results
    info = document["targets"]["vm"]
    assert info["reused"] is vm_was_up
    if not vm_was_up:
        boot = info["boot"]
        parts = (boot["before_kernel_s"] + boot["kernel_s"] + boot["userspace_until_sshd_s"]
                 + boot["vagrant_after_sshd_s"])
        assert parts == pytest.approx(boot["vagrant_up_s"], abs=0.5)
        assert boot["kernel_s"] > 0 and boot["userspace_until_sshd_s"] > 0
    assert info["exec_baseline_s"]["median"] > 0 and len(info["exec_baseline_s"]["samples"]) == 5
    assert info["disk"]["allocated_bytes"] > 0
    assert info["disk"]["virtual_bytes"] >= info["disk"]["allocated_bytes"] // 2
    nasm = runs_on(document, "vm")["nasm"]["disk"]
    assert nasm["program_bytes"] == 324 and nasm["total_bytes"] > 10 * 2**20


def test_the_vm_is_left_as_it_was_found(vm_results, vagrant, vm_was_up):
    assert (vagrant.status() == "running") is vm_was_up
    if not vm_was_up:
        assert libvirt_domains() == []


def test_killing_the_vm_mid_run_fails_only_the_vm_column(vagrant, vm_was_up, docker_client,
                                                         tmp_path):
    if vm_was_up:
        pytest.skip("a VM was already running before the tests; it is not ours to kill")
    path = tmp_path / "killed.json"
    proc = subprocess.Popen([sys.executable, "-m", "notavm", "run", "--repeat", "2",
                             "--warmup", "0", "--timeout", "20", "--json", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and '"target": "vm"' in path.read_text():
            break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"no VM run was ever saved: {proc.communicate()[1][-2000:]}")
    for domain in libvirt_domains():
        subprocess.run(["virsh", "-c", "qemu:///system", "destroy", domain], check=True,
                       capture_output=True)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr
    assert "incomplete" in stderr
    document = json.loads(path.read_text())
    vm = runs_on(document, "vm")
    assert vm["bash"]["error"] is None  # finished before the kill
    assert any(r["error"] for r in vm.values())
    assert all(r["error"] is None for r in runs_on(document, "container").values())
    assert len(runs_on(document, "container")) == 7 and len(runs_on(document, "host")) == 7
    assert "summary" in stdout
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []
    assert vagrant.status() == "not_created"
    assert libvirt_domains() == []
