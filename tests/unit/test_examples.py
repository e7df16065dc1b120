from pathlib import Path

import pytest

from notavm.errors import NotavmError, UnknownExample
from notavm.examples import (
    CANONICAL_ORDER,
    base_images,
    final_base_image,
    load_catalogue,
    parse_manifest,
    select,
)

MULTI_STAGE = """FROM debian:bookworm-slim AS build
RUN apt-get update
FROM build AS test
FROM scratch
COPY --from=build /src/hello /app/hello
"""


def test_base_images_skip_scratch_and_own_stages():
    assert base_images(MULTI_STAGE) == ["debian:bookworm-slim"]
    assert final_base_image(MULTI_STAGE) is None
    assert final_base_image("FROM debian:bullseye-slim\nRUN true\n") == "debian:bullseye-slim"


def test_the_seven_examples_of_the_article():
    catalogue = load_catalogue()
    assert tuple(catalogue) == CANONICAL_ORDER
    assert catalogue["nasm"].expected_exit_code == 1
    assert catalogue["nasm"].exit_code_note
    assert catalogue["nasm"].runtime is None
    assert catalogue["python2"].runtime == "python2"
    assert catalogue["node"].expected_stdout == "Hello World!\n"
    for example in catalogue.values():
        assert (example.directory / "Dockerfile").is_file()
        assert example.image == f"notavm/{example.name}:latest"


@pytest.mark.parametrize("name", ["golang", "golang-stripped", "nasm"])
def test_compiled_examples_end_from_scratch(name):
    example = load_catalogue()[name]
    assert example.base_image is None
    assert example.version_command is None


def test_select_keeps_order_and_drops_duplicates():
    catalogue = load_catalogue()
    assert [e.name for e in select(catalogue, ["nasm", "bash", "nasm"])] == ["nasm", "bash"]
    assert len(select(catalogue, None)) == 7


def test_unknown_example_lists_the_valid_ones():
    with pytest.raises(UnknownExample, match="valid examples: bash, python2"):
        select(load_catalogue(), ["cobol"])


def test_malformed_manifest_names_the_file():
    with pytest.raises(NotavmError, match="example.toml is malformed"):
        parse_manifest(Path("/x/bad"), 'name = "bad"\ncommand = [')
