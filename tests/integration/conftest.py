import json

import pytest
from typer.testing import CliRunner

from notavm.cli import app
from notavm.docker_daemon import LABEL, connect

from ..conftest import docker_reason, require


@pytest.fixture(scope="session")
def docker_client():
    require(docker_reason())
    return connect()


@pytest.fixture(scope="session")
def built_images(docker_client):
    """`notavm images build`, for real: bootstraps the bases if needed and builds all images."""
    result = CliRunner().invoke(app, ["images", "build"])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="session")
def container_results(built_images, tmp_path_factory):
    """One real run of every example on host and container, as a user would start it."""
    path = tmp_path_factory.mktemp("results") / "results.json"
    result = CliRunner().invoke(app, ["run", "--target", "host,container", "--repeat", "3",
                                      "--warmup", "1", "--json", str(path)])
    return result, json.loads(path.read_text())


@pytest.fixture(autouse=True)
def no_leftover_containers(request):
    """Every integration test must leave no labelled container or volume behind."""
    yield
    if request.node.get_closest_marker("docker") is None:
        return
    client = connect()
    containers = client.containers.list(all=True, filters={"label": LABEL})
    volumes = client.volumes.list(filters={"label": LABEL})
    assert not containers and not volumes, f"left behind: {containers} {volumes}"
