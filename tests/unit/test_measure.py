import itertools

import pytest

from notavm.measure import Sample, measure, outlier_indices, summarize


def test_summarize_statistics():
    stats = summarize([0.2, 0.1, 0.4, 0.3])
    assert stats.median == pytest.approx(0.25)
    assert stats.mean == pytest.approx(0.25)
    assert stats.stdev == pytest.approx(0.1290994, rel=1e-6)
    assert (stats.min, stats.max) == (0.1, 0.4)
    assert stats.samples == [0.2, 0.1, 0.4, 0.3]


def test_single_sample_has_zero_stdev():
    assert summarize([0.5]).stdev == 0.0


def test_empty_samples_are_refused():
    with pytest.raises(ValueError):
        summarize([])


def test_outliers_by_median_absolute_deviation():
    assert outlier_indices([0.20, 0.21, 0.19, 0.20, 0.22, 1.50]) == [5]
    assert outlier_indices([0.2, 0.2, 0.2]) == []


def test_warmup_runs_are_discarded():
    times = itertools.count(1)
    measured = measure(lambda: Sample(float(next(times)), None, 0), repeat=3, warmup=2)
    assert measured.startup.samples == [3.0, 4.0, 5.0]
    assert measured.first_output is None
    assert measured.exit_codes == [0, 0, 0]


def test_first_output_kept_when_every_sample_has_it():
    measured = measure(lambda: Sample(0.2, 0.15, 1), repeat=2, warmup=0)
    assert measured.first_output is not None
    assert measured.first_output.median == 0.15
    assert measured.exit_codes == [1, 1]


def test_bad_repeat_is_refused():
    with pytest.raises(ValueError):
        measure(lambda: Sample(0.1, None, 0), repeat=0, warmup=0)
