import pytest

from notavm import box
from notavm.errors import VmUnavailable
from notavm.examples import load_catalogue
from notavm.targets.vm import boot_split
from notavm.vagrant import parse_ssh_config, parse_status

SSH_CONFIG = """Host default
  HostName 127.0.0.1
  User vagrant
  Port 2222
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /work/main/.vagrant/machines/default/libvirt/private_key
  IdentityFile /root/.vagrant.d/insecure_private_key
  IdentitiesOnly yes
  LogLevel FATAL
"""


def test_ssh_config_gives_address_user_and_every_key():
    config = parse_ssh_config(SSH_CONFIG)
    assert (config.host, config.port, config.user) == ("127.0.0.1", 2222, "vagrant")
    assert config.identity_files == (
        "/work/main/.vagrant/machines/default/libvirt/private_key",
        "/root/.vagrant.d/insecure_private_key",
    )


def test_ssh_config_without_address_is_a_clear_error():
    with pytest.raises(VmUnavailable, match="is the VM up"):
        parse_ssh_config("Host default\n")


def test_status_from_machine_readable_output():
    text = ("1733325000,default,metadata,provider,libvirt\n"
            "1733325000,default,provider-name,libvirt\n"
            "1733325000,default,state,running\n"
            "1733325000,default,state-human-short,running\n")
    assert parse_status(text) == "running"
    assert parse_status("") == "unknown"


def test_boot_split_parts_add_up():
    # vagrant up ran from t=100 to t=130; at t=131 the guest had been up 20 s,
    # init started 2.5 s and sshd 9 s after the kernel (100 ticks per second).
    split = boot_split(100.0, 130.0, 131.0, "100\n20.00\n250\n900\n")
    assert split["before_kernel_s"] == pytest.approx(11.0)
    assert split["kernel_s"] == pytest.approx(2.5)
    assert split["userspace_until_sshd_s"] == pytest.approx(6.5)
    assert split["vagrant_after_sshd_s"] == pytest.approx(10.0)
    parts = sum(v for k, v in split.items() if k != "vagrant_up_s")
    assert parts == pytest.approx(split["vagrant_up_s"])


def test_box_packages_come_from_the_manifests_with_their_suite():
    wanted = box.packages(load_catalogue().values())
    assert "python3-minimal" in wanted
    assert "python2.7-minimal/bullseye" in wanted
    assert not any(p.startswith("golang") for p in wanted)
