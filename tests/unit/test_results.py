import json

import pytest

from notavm.errors import NotavmError
from notavm.measure import summarize
from notavm.results import SCHEMA, Document, ResultsFile, Run, load


def a_run(**changes):
    run = Run(example="nasm", target="container", expected_exit_code=1,
              expected_stdout="Hello world!\n", exit_code=1, stdout="Hello world!\n",
              kernel={"release": "6.1", "version": "#1", "boot_id": "b"},
              startup_s=summarize([0.2, 0.3]), disk_bytes=324)
    for key, value in changes.items():
        setattr(run, key, value)
    return run


def test_document_is_rewritten_after_every_run(tmp_path):
    path = tmp_path / "r.json"
    results = ResultsFile(Document(host={"cpu_model": "x"}), path)
    assert json.loads(path.read_text())["runs"] == []
    results.add(a_run())
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA
    assert data["complete"] is False
    assert data["runs"][0]["startup_s"]["samples"] == [0.2, 0.3]
    assert data["runs"][0]["kernel"]["boot_id"] == "b"
    results.finish()
    assert load(path)["complete"] is True
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


def test_required_fields_present(tmp_path):
    path = tmp_path / "r.json"
    ResultsFile(Document(host={}), path).add(a_run())
    run = json.loads(path.read_text())["runs"][0]
    for field in ("example", "target", "exit_code", "expected_exit_code", "stdout", "kernel",
                  "namespaces", "cgroup", "startup_s", "disk_bytes", "error", "skipped"):
        assert field in run
    assert set(run["startup_s"]) >= {"median", "mean", "stdev", "min", "max", "samples"}


def test_expected_nonzero_exit_is_ok_and_mismatch_is_not():
    assert a_run().ok
    assert not a_run(exit_code=0).ok
    assert not a_run(stdout="Hello\n").ok
    assert not a_run(error="boom").ok


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"schema": 99, "runs": []}')
    with pytest.raises(NotavmError, match="not a notavm results file"):
        load(path)
    path.write_text("{")
    with pytest.raises(NotavmError, match="cannot read"):
        load(path)
