import pytest

from notavm import probe

HOST = """kernel.release=6.1.0-18-amd64
kernel.version=#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1
kernel.machine=x86_64
hostname=lab
kernel.boot_id=11d091e8-0efd-4127-933b-a2340536d4a7
uptime=522.13 1000.2
pid=4242
ns.pid=pid:[4026531836]
ns.mnt=mnt:[4026531832]
ns.net=net:[4026531833]
cgroup=4:memory:/user.slice
cgroup=0::/
cgroup.version=1 (hybrid)
limit.memory=9223372036854771712
limit.cpu=max 100000
visible_process_count=88
visible_processes=1:systemd 2:kthreadd
mem_total_bytes=25276203008
cpus.online=2
cpus.allowed=2
status.Uid=0\t0\t0\t0
status.CapEff=000001ffffffffff
status.NoNewPrivs=0
status.Seccomp=0
--notavm-probe-end--
Hello world!
"""


def with_values(text: str, **changes: str) -> str:
    lines = []
    for line in text.splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={changes[key]}" if key in changes else line)
    return "\n".join(lines) + "\n"


def test_parse_splits_facts_from_program_output():
    parsed = probe.parse(HOST)
    assert parsed.program_stdout == "Hello world!\n"
    facts = parsed.facts
    assert facts.kernel.release == "6.1.0-18-amd64"
    assert facts.kernel.boot_id == "11d091e8-0efd-4127-933b-a2340536d4a7"
    assert facts.namespaces == {"mnt": "mnt:[4026531832]", "net": "net:[4026531833]",
                                "pid": "pid:[4026531836]"}
    assert facts.cgroup == ["4:memory:/user.slice", "0::/"]
    assert facts.limits == {"memory": "unlimited", "cpu": "unlimited"}
    assert facts.capability_count == 41
    assert facts.seccomp == "disabled"
    assert facts.no_new_privs is False
    assert facts.uid == 0
    assert facts.uptime_s == pytest.approx(522.13)
    assert facts.visible_processes == ["1:systemd", "2:kthreadd"]


def test_parse_keeps_program_output_that_looks_like_probe_lines():
    parsed = probe.parse(HOST.replace("Hello world!\n", "pid=1\nHello\n"))
    assert parsed.program_stdout == "pid=1\nHello\n"
    assert parsed.facts.pid == 4242


def test_parse_without_marker_says_the_probe_did_not_run():
    with pytest.raises(probe.ProbeOutputError, match="marker"):
        probe.parse("Hello world!\n")


def test_parse_requires_the_kernel_facts():
    text = "\n".join(x for x in HOST.splitlines() if not x.startswith("kernel.boot_id")) + "\n"
    with pytest.raises(probe.ProbeOutputError, match="boot_id"):
        probe.parse(text)


@pytest.mark.parametrize(("kind", "raw", "shown"), [
    ("memory", "268435456", "256 MiB"),
    ("memory", "max", "unlimited"),
    ("memory", "9223372036854771712", "unlimited"),
    ("pids", "64", "64"),
    ("pids", "max", "unlimited"),
    ("cpu", "150000 100000", "1.5 CPUs"),
    ("cpu", "max 100000", "unlimited"),
])
def test_format_limit(kind, raw, shown):
    assert probe.format_limit(kind, raw) == shown


def test_container_namespaces_are_compared_on_the_shared_kernel():
    host = probe.parse(HOST).facts
    container = probe.parse(with_values(HOST, **{"ns.pid": "pid:[4026532179]"})).facts
    assert probe.shares_kernel(container, host)
    assert probe.namespaces_differing(container, host) == ["pid"]


def test_equal_namespace_numbers_on_another_kernel_are_not_sharing():
    host = probe.parse(HOST).facts
    # A VM's initial namespaces carry the very same numbers as the host's.
    vm = probe.parse(with_values(HOST, **{"kernel.boot_id": "0b5c-other-kernel"})).facts
    assert vm.namespaces == host.namespaces
    assert not probe.shares_kernel(vm, host)
    assert probe.namespaces_differing(vm, host) is None
