import pytest
import requests

from notavm.errors import DockerUnavailable, TargetLost
from notavm.targets.container import _daemon_errors, hardening


def test_a_daemon_gone_mid_call_becomes_one_target_lost_error():
    @_daemon_errors
    def start() -> None:
        raise requests.exceptions.ConnectionError("connection refused")

    with pytest.raises(DockerUnavailable, match="stopped answering") as info:
        start()
    assert isinstance(info.value, TargetLost)


def test_hardening_is_complete():
    options = hardening()
    assert options["network_mode"] == "none"
    assert options["cap_drop"] == ["ALL"]
    assert options["read_only"] is True
    assert "no-new-privileges" in options["security_opt"]
    assert options["pids_limit"] > 0 and options["mem_limit"]
