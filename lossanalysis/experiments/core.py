"""The experiment protocol and what every experiment shares.

The protocol
------------
An experiment is one module (``e1_minimizers.py``, ...) listed in
:data:`lossanalysis.experiments.EXPERIMENTS`.  It defines, in this order and in sections of its
own:

* ``LABEL`` ("E1"), ``NAME``, ``REVISIONS`` (:class:`Revision`: predictions changed after an
  earlier run had measured them) and ``settings(cfg) -> dict`` (its sizes; full or quick mode,
  overridden by ``cfg.extra["settings"][LABEL]``);
* **predictions** -- ``prepare(cfg, data) -> dict`` with at least ``"predictions"`` (a list of
  :class:`Prediction`), computed from the analysis and the data statistics only: nothing is
  trained there, so that ``scripts/confirm_predictions.py --register`` can write them down before
  any network exists;
* **measure** -- ``tasks(cfg, prep, seeds) -> list[Task]`` (the work, run in worker processes:
  see :mod:`.parallel`; networks shared with another experiment come from :mod:`.models`) and
  ``measure(cfg, prep, seeds, done) -> Measured`` (per prediction one number per seed, and the
  named :class:`Observation` s; ``done`` maps task keys to their results);
* **figure** -- ``figure(cfg, prep, measured) -> matplotlib Figure or None``, drawn in the
  style of :mod:`lossanalysis.plotting` (the report saves it and checks that no legend covers
  data, in a task);
* **text** -- ``text(cfg, prep, measured, rows) -> str``, the report section, in which every
  sentence that states a fact about the data is computed from ``measured`` and ``rows``.

An experiment that needs every dataset's measurements (E7) sets ``AFTER_ALL = True``; its
``measure`` then receives the other experiments' observations of every dataset.  No experiment
imports another.

Verdicts
--------
A prediction states a ``value``, a ``tolerance`` and a ``comparison`` (equal / at_least /
at_most), fixed before the measurement.  The verdict uses the seeds' spread: the 95% Student-t
interval of the seed mean, mean +- t(0.975, n - 1) sd / sqrt(n), is compared with the tolerance
band ([v - t, v + t] for "equal", [v - t, inf) for "at_least", (-inf, v + t] for "at_most"):
"confirmed" if the interval lies inside the band, "refuted" if it lies entirely outside,
"inconclusive" otherwise.  Identical measurements (sd = 0) give a point interval.  One seed
gives no interval -- the verdict is "inconclusive" -- unless the prediction is
``deterministic``: its measurement is a function of the data alone (no seed enters), so one value
is the whole measurement.  A NaN measurement (an undefined statistic) is inconclusive.  Quick
runs are smoke tests and are not judged (:data:`NOT_JUDGED`).

Each prediction is of one of two kinds: "falsifiable" (the measurement could contradict the
analysis) or "consistency" (true by construction if the code is right, e.g. a fit converging to
the argmin the same code computes); ``kind_reason`` says why, in one line.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .parallel import Task  # noqa: F401  (re-exported: its home is .parallel)

__all__ = [
    "Prediction", "Row", "Revision", "Observation", "Measured", "RunConfig", "ExperimentData",
    "DataRef", "Task",
    "judge", "t_interval", "make_row", "stated", "run_seeds", "experiment_settings",
    "CONFIRMED", "REFUTED", "INCONCLUSIVE", "NOT_JUDGED", "VERDICTS", "COMPARISONS", "KINDS",
    "FALSIFIABLE", "CONSISTENCY", "CONFIDENCE", "DEFAULT_SEEDS", "EXTRA_SEEDS", "USED_SEEDS",
    "INTERIOR", "DATASET_TITLES", "frozen", "OLD_COMMIT",
    "STREAMS", "stream", "stream_entropy", "training_subset", "eval_subset", "load_data",
    "dataset", "bin_by_target", "Progress",
    "fmt", "fmt_dec", "cell", "pm", "sd", "file_stem", "prediction_table", "spearman",
    "one_swap_tolerance",
]

CONFIRMED, REFUTED, INCONCLUSIVE = "confirmed", "refuted", "inconclusive"
NOT_JUDGED = "not judged"
VERDICTS = (CONFIRMED, REFUTED, INCONCLUSIVE)
COMPARISONS = ("equal", "at_least", "at_most")
FALSIFIABLE, CONSISTENCY = "falsifiable", "consistency"
KINDS = (FALSIFIABLE, CONSISTENCY)
#: Confidence level of the interval a verdict uses.
CONFIDENCE = 0.95
#: The seeds of a registered run, and the ones the registered rule adds to an experiment where
#: a falsifiable row is inconclusive (at most len(DEFAULT_SEEDS) + len(EXTRA_SEEDS) per
#: experiment).
DEFAULT_SEEDS = (3, 4, 5)
EXTRA_SEEDS = (6, 7, 8)
#: Seeds that earlier runs measured (the committed reports up to f90928b used 0, 1, 2; the E5
#: pilots used 10 and 11, the E4/E8 pilot 40, 41, 42): a row measured on any of them is not
#: blind.
USED_SEEDS = frozenset({0, 1, 2, 10, 11, 40, 41, 42})
#: The interior range of intensities where every catalogue loss has a finite minimizer that a
#: fit can reach (the continuous Bernoulli's has none at an exact 0 or 1): E1's grey levels and
#: overfitting batch, and the clipped data of E6's control.
INTERIOR = (0.05, 0.95)
#: How reports and figures write a dataset's name.
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


# ----------------------------------------------------------------------------------------------
# Predictions, rows and verdicts
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """A quantitative prediction, fixed before the measurement.

    ``comparison`` says how the measured seed mean m is compared with ``value`` v and
    ``tolerance`` t (see the module docstring for the interval rule): "equal" m = v +- t,
    "at_least" m >= v - t, "at_most" m <= v + t.  ``kind`` is "falsifiable" or "consistency",
    with ``kind_reason`` saying why.  ``deterministic``: the measurement does not depend on the
    seed (a function of the data alone), so a single value decides.

    Examples
    --------
    >>> p = Prediction("X.demo", "X", "s", "q", 1.0, 0.1, "at_least",
    ...                kind_reason="a demonstration")
    >>> p.comparison, p.kind
    ('at_least', 'falsifiable')
    """
    id: str
    experiment: str          # the experiment's label, e.g. "E1"
    statement: str           # what is predicted, in words
    quantity: str            # what is measured, in words, with its unit
    value: float
    tolerance: float         # absolute, in the quantity's unit
    comparison: str = "equal"
    kind: str = FALSIFIABLE
    kind_reason: str = ""
    source: str = ""         # where the value and the tolerance come from
    deterministic: bool = False

    def __post_init__(self):
        if self.comparison not in COMPARISONS:
            raise ValueError(f"comparison must be one of {COMPARISONS}, got {self.comparison!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not self.kind_reason.strip():
            raise ValueError(f"prediction {self.id}: kind_reason must say why it is {self.kind}")
        if not (math.isfinite(self.value) and math.isfinite(self.tolerance)
                and self.tolerance >= 0):
            raise ValueError(f"prediction {self.id}: value and tolerance must be finite, "
                             f"tolerance >= 0 (got {self.value!r}, {self.tolerance!r})")


def t_interval(values, deterministic: bool = False):
    """The 95% Student-t interval of the mean of ``values`` as (lo, hi), or None.

    None when there is no value, a value is not finite, or there is a single value and the
    measurement is not ``deterministic``; a deterministic single value, or identical values,
    give a point interval.

    Examples
    --------
    >>> lo, hi = t_interval([1.0, 2.0, 3.0])     # mean 2, sd 1, t(0.975, 2) = 4.303
    >>> print(f"{lo:.4f} {hi:.4f}")
    -0.4841 4.4841
    >>> t_interval([5.0]) is None, t_interval([5.0], deterministic=True)
    (True, (5.0, 5.0))
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        return None
    mean = float(v.mean())
    if v.size == 1:
        return (mean, mean) if deterministic else None
    s = float(np.std(v, ddof=1))
    if s == 0:
        return (mean, mean)
    from scipy.stats import t as student_t
    half = float(student_t.ppf(0.5 + CONFIDENCE / 2, v.size - 1)) * s / math.sqrt(v.size)
    return (mean - half, mean + half)


def judge(prediction: Prediction, values) -> str:
    """The verdict on ``prediction`` from its per-seed measurements (module docstring).

    Examples
    --------
    >>> p = Prediction("X.t", "X", "s", "q", 1.0, 0.2, kind_reason="demo")
    >>> judge(p, [1.05, 1.1, 1.0]), judge(p, [2.0, 2.1, 2.05]), judge(p, [0.7, 1.3, 1.0])
    ('confirmed', 'refuted', 'inconclusive')
    """
    iv = t_interval(values, prediction.deterministic)
    if iv is None:
        return INCONCLUSIVE
    lo, hi = iv
    v = prediction.value
    # a value exactly on the tolerance's edge (e.g. a rank correlation one swap from the
    # prediction) must not turn on the last bit of a float sum
    t = prediction.tolerance + 1e-12 * max(1.0, abs(v), prediction.tolerance)
    band_lo = v - t if prediction.comparison in ("equal", "at_least") else -math.inf
    band_hi = v + t if prediction.comparison in ("equal", "at_most") else math.inf
    if band_lo <= lo and hi <= band_hi:
        return CONFIRMED
    if hi < band_lo or lo > band_hi:
        return REFUTED
    return INCONCLUSIVE


@dataclass(frozen=True)
class Row:
    """One prediction with its per-seed measurements and what was computed from them.

    Build it with :func:`make_row`; ``registered``, ``blind`` and ``registration_note`` are set
    by the comparison with the registration file (:mod:`.registration`).
    """
    prediction: Prediction
    measurements: tuple
    seeds: tuple
    mean: float
    sd: float
    interval: tuple | None
    verdict: str
    notes: str = ""
    registered: bool = False
    blind: bool = False
    registration_note: str = "no registration file"

    @property
    def id(self) -> str:
        return self.prediction.id

    def to_dict(self) -> dict:
        """The row as the report JSON holds it (the report writes a non-finite number as the
        string "nan", "inf" or "-inf")."""
        p = self.prediction

        def num(x):
            return float(x)
        return {"id": p.id, "experiment": p.experiment, "kind": p.kind,
                "kind_reason": p.kind_reason, "comparison": p.comparison,
                "value": p.value, "tolerance": p.tolerance, "deterministic": p.deterministic,
                "statement": p.statement, "quantity": p.quantity, "source": p.source,
                "measurements": [num(v) for v in self.measurements],
                "seeds": [int(s) for s in self.seeds], "mean": num(self.mean),
                "sd": num(self.sd),
                "interval": None if self.interval is None else [num(v) for v in self.interval],
                "verdict": self.verdict, "registered": self.registered, "blind": self.blind,
                "registration_note": self.registration_note, "notes": self.notes}


def make_row(prediction: Prediction, measurements, seeds, notes: str = "",
             judged: bool = True) -> Row:
    """A :class:`Row`: mean, sample sd (0 for one value), the t-interval and the verdict
    (:data:`NOT_JUDGED` when ``judged`` is false, e.g. in quick mode, or when nothing was
    measured, e.g. E7 in a run of one dataset).  One measurement per seed; a deterministic
    prediction may instead have one measurement and no seeds.

    Examples
    --------
    >>> p = Prediction("X.t", "X", "s", "q", 0.0, 0.5, kind_reason="demo")
    >>> r = make_row(p, [0.1, -0.1], [3, 4])
    >>> r.mean, round(r.sd, 6), r.verdict
    (0.0, 0.141421, 'inconclusive')
    >>> make_row(p, [0.1, -0.1], [3, 4], judged=False).verdict
    'not judged'
    >>> make_row(p, [], []).verdict
    'not judged'
    """
    m = tuple(float(v) for v in measurements)
    seeds = tuple(int(s) for s in seeds)
    if len(m) != len(seeds) and not (prediction.deterministic and not seeds and len(m) == 1):
        raise ValueError(f"{prediction.id}: {len(m)} measurements for {len(seeds)} seeds")
    arr = np.asarray(m, dtype=float)
    finite = arr.size > 0 and bool(np.all(np.isfinite(arr)))
    mean = float(arr.mean()) if finite else math.nan
    spread = (float(np.std(arr, ddof=1)) if arr.size > 1 else 0.0) if finite else math.nan
    iv = t_interval(arr, prediction.deterministic)
    verdict = judge(prediction, arr) if judged and arr.size else NOT_JUDGED
    return Row(prediction, m, seeds, mean, spread, iv, verdict, notes)


@dataclass(frozen=True)
class Revision:
    """A prediction (or its measurement) changed after an earlier run had measured it.

    The report lists every revision in its disclosure section: what changed and why, what the
    version before the change measured (``earlier``, in the report committed at ``commit``;
    empty when the prediction itself was added after a report had shown the numbers it
    predicts), and what the current prediction measured on the seeds already used
    (``old_seeds``: (id, dataset, text) from the reports committed at :data:`OLD_COMMIT`,
    seeds 0-2) -- so that a prediction fixed after a result had been seen is not mistaken for
    one made blind.  Its verdict in a registered run comes from fresh seeds.
    """
    ids: tuple
    change: str
    reason: str
    earlier: str = ""
    commit: str = "d41c7ea"
    old_seeds: tuple = ()


#: The commit of the reports whose numbers (seeds 0, 1, 2) the revisions quote.
OLD_COMMIT = "f90928b"


@dataclass(frozen=True)
class Observation:
    """A named measured number that is not a prediction: one value per seed (``seeds``), or a
    single value with ``seeds`` empty for a property of the data alone."""
    values: tuple
    seeds: tuple
    unit: str

    def to_dict(self) -> dict:
        return {"values": [float(v) for v in self.values],
                "seeds": [int(s) for s in self.seeds], "unit": self.unit}

    @property
    def mean(self) -> float:
        v = np.asarray(self.values, dtype=float)
        return float(v.mean()) if v.size else math.nan


@dataclass
class Measured:
    """What an experiment's ``measure`` returns: per prediction id the per-seed values (and a
    note), the observations, and whatever its figure and text need (``extra``)."""
    values: dict
    seeds: tuple
    notes: dict = field(default_factory=dict)
    observations: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    #: per prediction id, seeds that differ from ``seeds`` (e.g. E7's common seeds)
    row_seeds: dict = field(default_factory=dict)


def stated(cfg, pred: Prediction) -> Prediction:
    """The prediction as made, or -- for tests of the machinery only -- with the value injected
    through ``cfg.extra["override"][pred.id]`` (a deliberately wrong prediction must be refuted
    by the same judging)."""
    over = cfg.extra.get("override", {})
    return dataclasses.replace(pred, value=float(over[pred.id])) if pred.id in over else pred


# ----------------------------------------------------------------------------------------------
# Run configuration
# ----------------------------------------------------------------------------------------------
@dataclass
class RunConfig:
    """What a run uses: dataset, seeds, mode, where the data and the figures are.

    ``extra["settings"][label]`` overrides an experiment's settings (tests use it for tiny
    networks); ``extra["override"]`` injects prediction values (:func:`stated`).
    """
    dataset: str = "mnist"
    seeds: tuple = DEFAULT_SEEDS
    extra_seeds: tuple = EXTRA_SEEDS
    quick: bool = False
    data_dir: str | None = None
    figures_dir: str = "figures"
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("seeds", "extra_seeds"):
            v = tuple(getattr(self, name))
            if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0
                   for s in v):
                raise ValueError(f"{name} must be integers >= 0, got {v!r}")
            if len(set(v)) != len(v):
                raise ValueError(f"{name} must not repeat a seed, got {v!r}")
            setattr(self, name, tuple(int(s) for s in v))
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")
        if set(self.seeds) & set(self.extra_seeds):
            raise ValueError("extra_seeds must differ from seeds")
        if not isinstance(self.extra, dict):
            raise TypeError(f"extra must be a dict, got {type(self.extra).__name__}")

    @property
    def data(self) -> "DataRef":
        return DataRef(self.dataset, self.data_dir)


def frozen(settings: dict) -> tuple:
    """A hashable, order-independent form of a settings dict (for task keys).

    >>> frozen({"b": 2, "a": (1, 2)})
    (('a', '(1, 2)'), ('b', '2'))
    """
    return tuple(sorted((str(k), repr(v)) for k, v in settings.items()))


def run_seeds(cfg) -> tuple:
    """The seeds a run starts with: ``cfg.seeds``, at most 2 of them in quick mode."""
    return cfg.seeds[:2] if cfg.quick else cfg.seeds


def experiment_settings(cfg, label: str, full: dict, quick: dict | None = None) -> dict:
    """``full`` updated by ``quick`` in quick mode, then by ``cfg.extra["settings"][label]``."""
    s = dict(full)
    if cfg.quick and quick:
        s.update(quick)
    s.update(cfg.extra.get("settings", {}).get(label, {}))
    return s


# ----------------------------------------------------------------------------------------------
# Random streams
# ----------------------------------------------------------------------------------------------
#: Every random draw of the experiments comes from one of these named streams: name ->
#: (entropy as a function of the run's seed and an index, what draws from it).  The entropy is
#: what ``numpy.random.default_rng`` (or the ``seed`` argument of :mod:`lossanalysis.nn`, which
#: passes it there) receives.  ``net.init`` and ``net.train`` share the seed itself: the
#: initialization and the training loop draw from two generators over the same entropy (the
#: convention of :mod:`lossanalysis.nn`); every other pair of streams differs.
STREAMS = {
    "net.init": (lambda seed, i: seed, "initial weights of every network"),
    "net.train": (lambda seed, i: seed + 1000 * i,
                  "data order and reparameterization noise of nn.train, training phase i"),
    "subset.ae": (lambda seed, i: 4242, "the training images of the AE pair (E3, E4)"),
    "subset.vae": (lambda seed, i: 20240601, "the training images of the VAEs (E5, E6)"),
    "e1.batch": (lambda seed, i: 12345, "E1's overfitting batch"),
    "e1.start": (lambda seed, i: [seed, 1], "E1's random starts of the free logits"),
    "e2.order": (lambda seed, i: [seed, 2], "E2's minibatch order"),
    "e2.image": (lambda seed, i: [seed, 3], "E2's image for the free outputs"),
    "e5.calibration": (lambda seed, i: [seed, 5], "E5's posterior samples for sigma^2 / MSE"),
    "e5.elbo": (lambda seed, i: [seed, 7], "E5's posterior samples for the linear VAE's ELBO"),
    "e6.posterior": (lambda seed, i: [seed, 11], "E6's posterior samples for the mean image"),
    "e8.start": (lambda seed, i: [seed, 9], "E8's random starts of the free logits"),
    "e8.noise": (lambda seed, i: [seed, 8, i], "E8's output noise inside the loss, set-up i"),
    "e8.latent": (lambda seed, i: [seed, 13], "E8's latent samples of the VAEs"),
}


def stream_entropy(name: str, seed: int = 0, index: int = 0):
    """The entropy of stream ``name`` for ``seed`` (and ``index``, e.g. a training phase).

    Examples
    --------
    >>> stream_entropy("e2.order", 4), stream_entropy("net.train", 4, 2)
    ([4, 2], 2004)
    """
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r} (known: {', '.join(sorted(STREAMS))})")
    return STREAMS[name][0](int(seed), int(index))


def stream(name: str, seed: int = 0, index: int = 0) -> np.random.Generator:
    """A fresh generator of stream ``name`` (see :data:`STREAMS`).

    Examples
    --------
    >>> float(stream("e1.start", 0).normal()) == float(np.random.default_rng([0, 1]).normal())
    True
    """
    return np.random.default_rng(stream_entropy(name, seed, index))


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
@dataclass
class ExperimentData:
    """A dataset as the experiments see it: float32 images (n, 784) in [0, 1]."""
    name: str
    x_train: np.ndarray
    x_test: np.ndarray
    summary: object            # lossanalysis.data.IntensitySummary of x_train


@dataclass(frozen=True)
class DataRef:
    """Which dataset, from where: what a task carries instead of the images (each process loads
    them once, :func:`dataset`)."""
    name: str
    data_dir: str | None = None


@functools.lru_cache(maxsize=2)
def dataset(ref: DataRef) -> ExperimentData:
    """Both splits of ``ref.name`` through the package's loader, once per process."""
    from ..data import intensity_summary, load
    x_train, _ = load(ref.name, "train", data_dir=ref.data_dir)
    x_test, _ = load(ref.name, "test", data_dir=ref.data_dir)
    for x in (x_train, x_test):
        x.setflags(write=False)
    return ExperimentData(ref.name, x_train, x_test, intensity_summary(x_train))


def load_data(cfg) -> ExperimentData:
    """The dataset of ``cfg`` (a :class:`RunConfig`)."""
    return dataset(cfg.data)


@functools.lru_cache(maxsize=8)
def _subset_index(n_total: int, n: int, stream_name: str) -> np.ndarray:
    return np.sort(stream(stream_name).choice(n_total, n, replace=False))


def training_subset(x, n: int, stream_name: str) -> np.ndarray:
    """``n`` of the images ``x``: all of them if there are at most ``n``, else a random subset
    drawn from the fixed stream ``stream_name`` (original order kept), so that every seed sees
    the same images.

    Examples
    --------
    >>> x = np.arange(20.0).reshape(10, 2)
    >>> training_subset(x, 3, "subset.ae").shape, training_subset(x, 50, "subset.ae").shape
    ((3, 2), (10, 2))
    """
    if len(x) <= n:
        return np.ascontiguousarray(x)
    return np.ascontiguousarray(x[_subset_index(len(x), int(n), stream_name)])


def eval_subset(x_test, n: int) -> np.ndarray:
    """The first ``n`` test images (the test files are not sorted by class)."""
    return np.ascontiguousarray(x_test[:n])


def bin_by_target(y, values, edges):
    """Mean of ``values`` per bin of the target intensity ``y``; returns (centres, means, counts).

    Bins are half-open [e_i, e_{i+1}) except the last, which is closed; empty bins give NaN.

    Examples
    --------
    >>> c, m, n = bin_by_target([0.1, 0.2, 0.9], [1.0, 3.0, 5.0], [0.0, 0.5, 1.0])
    >>> m.tolist(), n.tolist()
    ([2.0, 5.0], [2, 1])
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


# ----------------------------------------------------------------------------------------------
# The work of a run
# ----------------------------------------------------------------------------------------------
class Progress:
    """Progress lines on stderr: what runs, how long it took, and the time since the start."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.elapsed():7.1f} s] {message}", file=self.stream, flush=True)


# ----------------------------------------------------------------------------------------------
# Formatting and small statistics
# ----------------------------------------------------------------------------------------------
def fmt(v, digits: int = 4) -> str:
    """``digits`` significant digits; scientific notation below 1e-3 or from 1e5 on.

    >>> fmt(0.0), fmt(1234.5678), fmt(2.5e-6), fmt(float("nan"))
    ('0', '1235', '2.500e-06', 'nan')
    """
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def fmt_dec(v) -> str:
    """Four decimals, or three significant digits in scientific notation below 1e-3.

    >>> fmt_dec(0.12345), fmt_dec(1.5e-6), fmt_dec(0)
    ('0.1235', '1.50e-06', '0')
    """
    v = float(v)
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    return f"{v:.2e}" if abs(v) < 1e-3 else f"{v:.4f}"


def cell(text) -> str:
    """``text`` on one line, safe inside a Markdown table cell.

    >>> cell("a |b|\\n c")
    'a \\\\|b\\\\| c'
    """
    return " ".join(str(text).split()).replace("|", "\\|")


def sd(values) -> float:
    """Sample standard deviation (0 for a single value).

    >>> sd([1.0, 3.0]), sd([2.0])
    (1.4142135623730951, 0.0)
    """
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def pm(values, form: str = "{:.3f}") -> str:
    """'mean ± sd' of ``values`` in the format ``form``.

    >>> pm([1.0, 3.0], "{:.1f}")
    '2.0 ± 1.4'
    """
    return (form + " ± " + form).format(float(np.mean(values)), sd(values))


def prediction_table(rows) -> list:
    """An experiment section's table of its predictions: statement, kind, predicted value,
    tolerance, measured mean ± sd and the verdict (Markdown lines)."""
    lines = ["| prediction | kind | predicted | tolerance | measured (mean ± sd) | verdict |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        p = r.prediction
        lines.append(f"| `{p.id}`: {cell(p.statement)} | {p.kind} | {fmt(p.value)} | "
                     f"{fmt(p.tolerance)} | {fmt(r.mean)} ± {fmt(r.sd, 2)} | **{r.verdict}** |")
    return lines


def file_stem(ds: str) -> str:
    """The prefix of a dataset's figure files: ``fashion-mnist`` -> ``fashion_mnist``."""
    return ds.replace("-", "_")


def spearman(a, b) -> float:
    """Spearman rank correlation with average ranks for ties; NaN when either side is constant:
    a constant has no ordering, so the correlation is undefined (not 0, which would claim
    "no association" and be judged as a number; NaN makes the verdict inconclusive).

    >>> spearman([1, 2, 3], [10, 30, 20]), spearman([1, 2], [5, 5])
    (0.5, nan)
    """
    from scipy.stats import rankdata
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float(np.sum(ra * ra) * np.sum(rb * rb)))
    return float(np.sum(ra * rb) / den) if den > 0 else math.nan


def one_swap_tolerance(n: int) -> float:
    """How much one transposition of neighbours lowers a perfect Spearman correlation of n
    items: 1 - rho = 6 * 2 / (n (n^2 - 1)).

    >>> one_swap_tolerance(4)
    0.2
    """
    return 12.0 / (n * (n * n - 1))
