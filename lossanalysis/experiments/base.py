"""What an experiment is: the shape every experiment module has, and what it imports to have it.

An experiment is one module ``eN_name.py`` in this package (found by its name: adding one is
adding the file).  It defines, each part reading on one screen:

* ``LABEL`` ("E4") and ``NAME``;
* ``networks(data, quick) -> {name: Network}``: the networks it measures, declared with their
  settings (:class:`Network`); the runner trains each once per seed and shares it with every
  experiment that declares the same network;
* ``predictions(data) -> [Prediction]``: the declarative table (id, value from an analysis
  function or a data statistic, tolerance rule, comparison, kind, reason; see
  :mod:`lossanalysis.protocol`), computed from the data alone: nothing is trained there;
* ``OBSERVATIONS``: {name: unit} of the measured numbers that are not predictions;
* ``measure(nets, data) -> {id: value}``: a pure function of the seed's trained networks and
  its data (:class:`SeedData`), one float per prediction id and observation name; keys that
  start with "_" hold arrays for the figure;
* ``figure(result) -> Figure or None`` (:class:`Result`);
* ``FINDINGS``: :class:`Finding` templates, filled from the results (never typed numbers).

Revisions (a prediction changed after a measurement on some data had been seen) are kept as
data beside the experiments, in ``revisions/<LABEL>.json`` (:func:`revisions`).
"""
from __future__ import annotations

import functools
import json
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import intensity_summary
from ..protocol import (CONFIRMED, GREY_LEVEL, INCONCLUSIVE, NOT_APPLICABLE, REFUTED, Profile,
                        Row, quantization_step)

__all__ = ["Source", "StudyData", "SeedData", "Network", "Result", "Finding", "rng", "entropy",
           "frozen", "render_findings", "revisions", "fmt", "INTERIOR", "DATASET_TITLES",
           "grey_share", "order", "rival_verdicts", "rival_findings"]

#: The interior range of intensities where every catalogue loss has a finite minimizer that a
#: fit can reach (the continuous Bernoulli's has none at an exact 0 or 1).
INTERIOR = (0.05, 0.95)
#: How reports and figures write the names of the datasets the project ships studies of.
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


# ----------------------------------------------------------------------------------------------
# Random streams
# ----------------------------------------------------------------------------------------------
def entropy(seed: int, *names) -> list:
    """The entropy of the random stream named ``names`` for ``seed``: [seed, crc32(name), ...],
    so every (seed, name) pair draws its own stream and no table of streams has to be kept.

    >>> entropy(3, "E4", "order")
    [3, 3982712074, 4113142680]
    """
    return [int(seed)] + [zlib.crc32(str(n).encode()) for n in names]


def rng(seed: int, *names) -> np.random.Generator:
    """A fresh generator of the stream ``names`` for ``seed`` (:func:`entropy`)."""
    return np.random.default_rng(entropy(seed, *names))


def frozen(settings: dict) -> tuple:
    """A hashable, order-independent form of a settings dict (for task keys).

    >>> frozen({"b": 2, "a": (1, 2)})
    (('a', '(1, 2)'), ('b', '2'))
    """
    return tuple(sorted((str(k), repr(v)) for k, v in settings.items()))


# ----------------------------------------------------------------------------------------------
# The data of a study
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where a study's images come from: ``path`` (anything :func:`lossanalysis.data.
    load_images` reads) and how to read it.  A task carries this, not the images; each process
    loads them once (:meth:`load`)."""
    path: str
    scale: float | None = None
    test_fraction: float = 0.2
    split_seed: int = 0

    def load(self) -> "StudyData":
        return _load(self)


@functools.lru_cache(maxsize=4)
def _load(source: Source) -> "StudyData":
    import warnings

    from ..data import load_images
    with warnings.catch_warnings():       # the notes are kept (and reported), not printed by
        warnings.simplefilter("ignore")   # every worker process that loads the images
        images = load_images(source.path, scale=source.scale,
                             test_fraction=source.test_fraction, seed=source.split_seed)
    return StudyData(images.name, images.train, images.test, tuple(images.shape), source,
                     tuple(images.notes), images.split)


@dataclass(eq=False)
class StudyData:
    """A dataset as the experiments see it: float32 images (n, D) in [0, 1] of ``shape``, a
    training and a test split, and the statistics predictions may read."""
    name: str
    train: np.ndarray
    test: np.ndarray
    shape: tuple
    source: Source | None = None
    notes: tuple = ()
    split: str = ""

    def __post_init__(self):
        for x in (self.train, self.test):
            if x.ndim != 2 or x.shape[1] != math.prod(self.shape):
                raise ValueError(f"images must be (n, {math.prod(self.shape)}), got {x.shape}")

    @property
    def D(self) -> int:
        return int(math.prod(self.shape))

    @functools.cached_property
    def summary(self):
        """:func:`lossanalysis.data.intensity_summary` of the training split."""
        return intensity_summary(self.train)

    @functools.cached_property
    def profile(self) -> Profile:
        """What the tolerance rules may read (the quantization step)."""
        return Profile(step=quantization_step(self.train))

    @property
    def title(self) -> str:
        return DATASET_TITLES.get(self.name, self.name)

    def n_train(self, wanted: int) -> int:
        """How many training images a network takes: ``wanted``, at most four fifths of the
        split, so that every seed's subset differs (the intervals then carry the data's
        sampling variance)."""
        return max(1, min(int(wanted), (4 * len(self.train)) // 5))

    def seed_data(self, seed: int, quick: bool = False) -> "SeedData":
        return SeedData(self, int(seed), bool(quick))


@dataclass(eq=False)
class SeedData:
    """One seed's view of a study's data: its own training subsets and the test images (and
    whether the run is a quick one, whose networks are smaller)."""
    study: StudyData
    seed: int
    quick: bool = False

    @property
    def shape(self) -> tuple:
        return self.study.shape

    @property
    def test(self) -> np.ndarray:
        return self.study.test

    def train(self, n: int, variant: str = "raw") -> np.ndarray:
        """The seed's training subset of ``study.n_train(n)`` images (drawn from the stream
        ("subset", n), original order kept), raw or clipped into :data:`INTERIOR`."""
        x = self.study.train
        k = self.study.n_train(n)
        if k < len(x):
            idx = np.sort(rng(self.seed, "subset", k).choice(len(x), k, replace=False))
            x = x[idx]
        if variant == "clipped":
            x = np.clip(x, np.float32(INTERIOR[0]), np.float32(INTERIOR[1]))
        elif variant != "raw":
            raise ValueError(f"variant must be 'raw' or 'clipped', got {variant!r}")
        return np.ascontiguousarray(x)


# ----------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Network:
    """A network an experiment measures: ``train(x, settings, seed) -> trained`` (a module-level
    function; the result is pickled between processes) on the seed's subset of ``n`` training
    images (``variant`` raw or clipped).  Two experiments declaring equal networks share one
    training per seed.  ``cost``: a rough estimate in seconds, for the order and the ETA."""
    name: str
    train: object
    settings: dict
    n: int
    variant: str = "raw"
    cost: float = 1.0

    @property
    def key(self) -> tuple:
        fn = f"{self.train.__module__}.{self.train.__qualname__}"
        return (self.name, fn, frozen(self.settings), self.n, self.variant)


# ----------------------------------------------------------------------------------------------
# Results, and the findings written from them
# ----------------------------------------------------------------------------------------------
@dataclass
class Result:
    """What an experiment's figure and findings receive: its judged rows, the per-seed
    measurements (``per_seed``: one dict per seed, as ``measure`` returned them) and the
    observations."""
    label: str
    data: StudyData
    seeds: tuple
    rows: list
    per_seed: list
    observations: dict = field(default_factory=dict)

    def row(self, rid: str) -> Row:
        for r in self.rows:
            if r.id == rid:
                return r
        raise KeyError(f"{self.label} has no row {rid!r}")

    def arrays(self, key: str) -> np.ndarray:
        """The per-seed arrays under ``key`` stacked (seeds first)."""
        return np.stack([np.asarray(m[key]) for m in self.per_seed])


def fmt(v, spec: str = "") -> str:
    """A number for a sentence: ``spec`` if given, else 4 significant digits (scientific below
    1e-3 and from 1e5).

    >>> fmt(0.0), fmt(1234.5678), fmt(2.5e-6), fmt(float("nan")), fmt(0.1234, "+.2f")
    ('0', '1235', '2.500e-06', 'nan', '+0.12')
    """
    v = float(v)
    if spec:
        return format(v, spec)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.3e}"
    return f"{v:.4g}"


_FIELD = re.compile(r"\{(row|mean|verdict|effect|grey|obs|data|seeds)(?::([^}:]+))?(?::([^}]+))?\}")


@dataclass(frozen=True)
class Finding:
    """A sentence of an experiment's findings, filled from the results.

    ``text`` holds fields: ``{row:ID}`` (mean [interval], verdict), ``{mean:ID}``,
    ``{verdict:ID}``, ``{effect:ID}`` (mean - predicted, with its interval), ``{grey:ID}`` (the
    mean's size in 8-bit grey levels), ``{obs:NAME}`` (an observation's mean), ``{data}`` (the
    dataset), ``{seeds}``; a number field may end in a format spec (``{mean:ID:+.4f}``).
    ``when`` selects the sentence: {row id: verdicts it must have, or "detected"; or
    ``"obs:NAME"``: "finite" or "undefined", whether that observation's mean is a number}; a
    finding whose rows are not applicable is left out.
    """
    text: str
    when: tuple = ()

    def applies(self, result: Result) -> bool:
        for rid, wanted in self.when:
            if rid.startswith("obs:"):
                if math.isfinite(result.observations[rid[4:]].mean) != (wanted == "finite"):
                    return False
                continue
            r = result.row(rid)
            if wanted == "detected":
                if not r.detected:
                    return False
            elif r.verdict not in (wanted if isinstance(wanted, tuple) else (wanted,)):
                return False
        return not any(result.row(rid).verdict == NOT_APPLICABLE
                       for rid in _row_fields(self.text))

    def render(self, result: Result) -> str:
        def fill(m):
            kind, name, spec = m.group(1), m.group(2), m.group(3) or ""
            if kind == "data":
                return result.data.title
            if kind == "seeds":
                return ", ".join(str(s) for s in result.seeds)
            if kind == "obs":
                return fmt(result.observations[name].mean, spec)
            r = result.row(name)
            if kind == "verdict":
                return r.verdict
            if kind == "mean":
                return fmt(r.mean, spec)
            if kind == "grey":
                return f"{abs(r.mean) / GREY_LEVEL:.2f} grey levels"
            if kind == "effect":
                iv = r.effect_interval
                spec = spec or "+.4g"
                return fmt(r.effect, spec) + ("" if iv is None else
                                              f" [{fmt(iv[0], spec)}, {fmt(iv[1], spec)}]")
            iv = r.interval
            spec = spec or ".4g"
            return (fmt(r.mean, spec) + ("" if iv is None else
                                         f" [{fmt(iv[0], spec)}, {fmt(iv[1], spec)}]")
                    + f", {r.verdict}")
        return _FIELD.sub(fill, self.text)


def _row_fields(text: str) -> list:
    return [m.group(2) for m in _FIELD.finditer(text)
            if m.group(1) in ("row", "mean", "verdict", "effect", "grey")]


def rival_verdicts(a: str, b: str, where: str, custom: dict | None = None) -> dict:
    """The conclusion for each pair of verdicts (rival ``a``'s row, rival ``b``'s row) of a
    mechanism experiment's decisive test run on ``where``; ``custom`` replaces some.

    >>> v = rival_verdicts("the per-pixel optimum", "the shared map", "decisive rows")
    >>> v["refuted", "confirmed"]
    'the decisive rows support the shared map and refute the per-pixel optimum.'
    >>> v["confirmed", "inconclusive"]
    'the per-pixel optimum is confirmed; the shared map undecided.'
    """
    C, R, I = CONFIRMED, REFUTED, INCONCLUSIVE
    return {(R, C): f"the {where} support {b} and refute {a}.",
            (C, R): f"the {where} support {a} and refute {b}.",
            (R, R): "neither rival holds.",
            (C, C): f"both rivals lie within the tolerance: the {where} do not separate them.",
            (C, I): f"{a} is confirmed; {b} undecided.",
            (I, C): f"{b} is confirmed; {a} undecided.",
            (R, I): f"{a} is refuted; {b} undecided.",
            (I, R): f"{b} is refuted; {a} undecided.",
            (I, I): "neither rival is confirmed or refuted: undecided.", **(custom or {})}


def rival_findings(what: str, row_a: str, row_b: str, table: dict) -> list:
    """One conditional :class:`Finding` per pair of verdicts of the rows ``row_a`` and
    ``row_b``: ``"<what>: <conclusion>"`` (``table``: :func:`rival_verdicts`)."""
    return [Finding(f"{what}: {text}", ((row_a, va), (row_b, vb)))
            for (va, vb), text in table.items()]


def render_findings(findings, result: Result) -> list:
    """The sentences of ``findings`` that apply to ``result``, filled in."""
    return [f.render(result) for f in findings if f.applies(result)]


# ----------------------------------------------------------------------------------------------
# Revisions, kept as data
# ----------------------------------------------------------------------------------------------
REVISIONS_DIR = Path(__file__).with_name("revisions")


def revisions(label: str) -> list:
    """The recorded revisions of experiment ``label``, from ``revisions/<label>.json`` (e.g.
    ``revisions/E4.json``): each a dict with ``ids`` (the predictions changed), ``change``,
    ``reason``, ``seen`` (what had been measured when the change was made) and ``data`` (the
    datasets whose measurements were in view: those are development data for these rows)."""
    path = REVISIONS_DIR / f"{label}.json"
    if not path.exists():
        return []
    return [dict(r) for r in json.loads(path.read_text(encoding="utf-8"))]


# ----------------------------------------------------------------------------------------------
# Pair experiments
# ----------------------------------------------------------------------------------------------
def grey_share(doc: dict) -> float:
    """The share of mid-grey pixels among the non-zero ones, from a study's data document
    (a registration's or a report's "data")."""
    return float(doc["summary"]["frac_mid_of_nonzero"])


def order(a: dict, b: dict) -> tuple:
    """Two data documents, or two reports (whose "data" is one), as (binary, grey): the pair
    experiments' fixed direction, ln(grey / binary)."""
    da, db = a.get("data", a), b.get("data", b)
    return (a, b) if grey_share(da) <= grey_share(db) else (b, a)
