"""Repetitions, warm-up and the statistics of startup times."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One timed start: seconds from the start request to exit, and to the first output byte."""

    seconds: float
    first_output_seconds: float | None
    exit_code: int


@dataclass(frozen=True)
class Stats:
    median: float
    mean: float
    stdev: float
    min: float
    max: float
    samples: list[float] = field(default_factory=list)
    outliers: list[int] = field(default_factory=list)


def summarize(samples: list[float]) -> Stats:
    if not samples:
        raise ValueError("no samples to summarize")
    return Stats(
        median=statistics.median(samples),
        mean=statistics.fmean(samples),
        stdev=statistics.stdev(samples) if len(samples) > 1 else 0.0,
        min=min(samples),
        max=max(samples),
        samples=list(samples),
        outliers=outlier_indices(samples),
    )


def outlier_indices(samples: list[float], threshold: float = 3.5) -> list[int]:
    """Samples whose modified z-score (median absolute deviation) exceeds the threshold."""
    if len(samples) < 3:
        return []
    median = statistics.median(samples)
    mad = statistics.median(abs(s - median) for s in samples)
    if mad == 0:
        return []
    return [i for i, s in enumerate(samples) if 0.6745 * abs(s - median) / mad > threshold]


@dataclass(frozen=True)
class Measurement:
    startup: Stats
    first_output: Stats | None
    exit_codes: list[int]


def measure(run_once: Callable[[], Sample], repeat: int, warmup: int) -> Measurement:
    """Run warm-up starts (discarded), then `repeat` timed starts."""
    if repeat < 1 or warmup < 0:
        raise ValueError("repeat must be >= 1 and warmup >= 0")
    for _ in range(warmup):
        run_once()
    samples = [run_once() for _ in range(repeat)]
    firsts = [s.first_output_seconds for s in samples if s.first_output_seconds is not None]
    return Measurement(
        startup=summarize([s.seconds for s in samples]),
        first_output=summarize(firsts) if len(firsts) == len(samples) else None,
        exit_codes=[s.exit_code for s in samples],
    )
