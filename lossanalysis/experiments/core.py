"""Shared machinery of the experiments: predictions stated before measuring, measurements over
seeds, verdicts computed from the two, and binning by target intensity.

The rule every experiment follows: build its :class:`Prediction` objects (value and tolerance
from the analysis, never from the data being measured) *before* training anything, then measure
once per seed, and let :func:`judge` decide.  Nothing here knows what an experiment is about, so
a wrong prediction fed through it is refuted exactly like a real one.
"""
from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["Prediction", "Result", "Revision", "judge", "RunConfig", "Progress", "seeds",
           "run_seeds", "stated", "bin_by_target",
           "ExperimentData", "ExperimentOutput", "load_data", "CONFIRMED", "REFUTED",
           "INCONCLUSIVE"]

CONFIRMED, REFUTED, INCONCLUSIVE = "confirmed", "refuted", "inconclusive"
_KINDS = ("equal", "at_least", "at_most")


@dataclass(frozen=True)
class Prediction:
    """A quantitative prediction, fixed before the measurement.

    ``kind`` says how the measured mean m is compared with ``value`` v and ``tolerance`` t:
    "equal" |m - v| <= t; "at_least" m >= v - t; "at_most" m <= v + t.
    """
    id: str                 # e.g. "E1.bce.minimizer"
    experiment: str         # e.g. "E1 Minimizers"
    statement: str          # what is predicted, in words
    quantity: str           # what is measured, in words, with its unit
    value: float            # the predicted value of the quantity
    tolerance: float        # fixed before measuring; absolute, in the quantity's unit
    kind: str = "equal"
    source: str = ""        # where the predicted value comes from (the analysis function)

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}")
        if not (math.isfinite(self.value) and math.isfinite(self.tolerance)
                and self.tolerance >= 0):
            raise ValueError(f"prediction {self.id}: value and tolerance must be finite, "
                             f"tolerance >= 0 (got {self.value!r}, {self.tolerance!r})")


@dataclass(frozen=True)
class Revision:
    """A prediction (or its measurement) changed after an earlier run had measured it.

    The report lists every revision, so that a prediction fixed before *this* run's training
    but after an earlier run's result is not mistaken for one made blind.  ``earlier`` quotes
    what the earlier version measured on MNIST, in the report committed at ``commit``.
    """
    ids: tuple              # the prediction ids concerned
    change: str             # what was changed
    reason: str             # why, from first principles
    earlier: str            # what the earlier version predicted and measured
    commit: str = "d41c7ea"


def judge(prediction: Prediction, measurements) -> str:
    """The verdict on a prediction from its per-seed measurements (their mean decides)."""
    m = np.asarray(measurements, dtype=float)
    if m.size == 0 or not np.all(np.isfinite(m)):
        return INCONCLUSIVE
    mean, v = float(m.mean()), prediction.value
    # a value exactly on the tolerance's edge (e.g. a rank correlation one swap from the
    # prediction) must not turn on the last bit of a float sum
    t = prediction.tolerance + 1e-12 * max(1.0, abs(v), prediction.tolerance)
    ok = {"equal": abs(mean - v) <= t, "at_least": mean >= v - t,
          "at_most": mean <= v + t}[prediction.kind]
    return CONFIRMED if ok else REFUTED


@dataclass
class Result:
    """A prediction with its measurements (one per seed) and the computed verdict."""
    prediction: Prediction
    measurements: list
    dataset: str
    notes: str = ""

    @property
    def mean(self) -> float:
        return float(np.mean(self.measurements)) if self.measurements else math.nan

    @property
    def spread(self) -> float:
        """Sample standard deviation over seeds (0 for a single seed)."""
        n = len(self.measurements)
        return float(np.std(self.measurements, ddof=1)) if n > 1 else 0.0

    @property
    def verdict(self) -> str:
        return judge(self.prediction, self.measurements)

    def to_dict(self) -> dict:
        d = asdict(self.prediction)
        d.update(measurements=[float(v) for v in self.measurements], mean=self.mean,
                 spread=self.spread, verdict=self.verdict, dataset=self.dataset,
                 notes=self.notes)
        return d


@dataclass
class RunConfig:
    """What a run of the experiments uses: dataset, seeds, size, where to write."""
    dataset: str = "mnist"
    n_seeds: int = 3
    quick: bool = False
    data_dir: str | None = None
    figures_dir: str = "figures"
    base_seed: int = 0
    quiet: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.n_seeds, bool) or not isinstance(self.n_seeds, (int, np.integer)) \
                or self.n_seeds < 1:
            raise ValueError(f"n_seeds must be an integer >= 1, got {self.n_seeds!r}")
        if not isinstance(self.extra, dict):
            raise TypeError(f"extra must be a dict, got {type(self.extra).__name__}")

    @property
    def seeds(self) -> list[int]:
        return seeds(self.n_seeds, self.base_seed)


def seeds(n: int, base: int = 0) -> list[int]:
    """The seeds of a run: base, base + 1, ..."""
    if n < 1:
        raise ValueError(f"the number of seeds must be >= 1, got {n}")
    return [base + i for i in range(n)]


def run_seeds(cfg: RunConfig) -> list[int]:
    """The seeds an experiment runs: ``cfg.seeds``, at most 2 of them in quick mode."""
    s = list(cfg.seeds)
    return s[:2] if cfg.quick else s


def stated(cfg: RunConfig, pred: Prediction) -> Prediction:
    """The prediction as made, or -- for tests of the machinery only -- with the value injected
    through ``cfg.extra["override"][pred.id]`` (a deliberately wrong prediction must be refuted
    by the same judging)."""
    over = cfg.extra.get("override", {})
    return dataclasses.replace(pred, value=float(over[pred.id])) if pred.id in over else pred


class Progress:
    """Progress lines on stderr: what runs, how long it took, and the time since the start."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.t0
            print(f"[{elapsed:7.1f} s] {message}", file=self.stream, flush=True)


def bin_by_target(y, values, edges):
    """Mean of ``values`` per bin of the target intensity ``y``; returns (centres, means, counts).

    Bins are half-open [e_i, e_{i+1}) except the last, which is closed; empty bins give NaN.
    """
    y = np.asarray(y).ravel()
    values = np.asarray(values).ravel()
    edges = np.asarray(edges, dtype=float)
    idx = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, len(edges) - 2)
    inside = (y >= edges[0]) & (y <= edges[-1])
    counts = np.bincount(idx[inside], minlength=len(edges) - 1)
    sums = np.bincount(idx[inside], weights=values[inside], minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return 0.5 * (edges[:-1] + edges[1:]), means, counts


@dataclass
class ExperimentData:
    """A dataset as the experiments see it: float32 images (n, 784) in [0, 1]."""
    name: str
    x_train: np.ndarray
    x_test: np.ndarray
    summary: object            # lossanalysis.data.IntensitySummary of x_train


def load_data(cfg: RunConfig) -> ExperimentData:
    """Both splits of ``cfg.dataset`` through the package's loader (its search path applies)."""
    from ..data import intensity_summary, load
    x_train, _ = load(cfg.dataset, "train", data_dir=cfg.data_dir)
    x_test, _ = load(cfg.dataset, "test", data_dir=cfg.data_dir)
    return ExperimentData(cfg.dataset, x_train, x_test, intensity_summary(x_train))


@dataclass
class ExperimentOutput:
    """What one experiment returns to the report."""
    name: str                                   # e.g. "E1 Minimizers"
    results: list                               # list[Result]
    markdown: str = ""                          # the report section: method, findings
    figures: list = field(default_factory=list)  # paths of the figures it wrote
    measurements: dict = field(default_factory=dict)  # named numbers for lossanalysis.claims
