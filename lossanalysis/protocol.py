"""The protocol of a registered study: what a prediction is, how its tolerance is set, how many
seeds measure it and how a verdict is reached.  ``docs/protocol.md`` states the same rules in
prose; this module is their one implementation, shared by the experiments (which make and
measure predictions) and the claims (which read the measured rows).

Fixed in advance, for every dataset
-----------------------------------
* **Tolerances** come from :data:`RULES`, one rule per kind of quantity.  A rule reads the
  prediction (its value, the number of items it ranks) and the data's :class:`Profile` (its
  quantization step), never a measurement of a network.
* **Seeds**: every study measures on the :data:`SEEDS` (five); nothing is added when a result
  is inconclusive.  Each seed draws its own training subset from the training split and its own
  initialization, so an interval carries the data's sampling variance as well as the
  network's.
* **Verdict**: the 95% Student-t interval of the seed mean against the tolerance band
  (:func:`judge`): confirmed inside, refuted entirely outside, inconclusive otherwise.
* **Effect**: beside the verdict every row reports its effect (mean - predicted value) with the
  interval, and whether the interval excludes the predicted value (:attr:`Row.detected`): a
  row can be confirmed within its tolerance and still show a detectable effect.
* **Kinds**: *falsifiable* (the measurement could contradict the analysis), *consistency* (true
  by construction if the code is right) and *derived* (computed from other rows' registered
  values): counted apart, derived rows with neither.
* A prediction whose premise does not hold for the data is registered as *not applicable*,
  with the reason (:attr:`Prediction.applicable`), and counted apart.

Examples
--------
>>> p = Prediction("X.lean", "no lean", "lean toward 1/2 (intensity)", 0.0, "intensity")
>>> p = p.registered(Profile(step=1 / 255))
>>> round(p.tolerance * 255, 6)
1.0
>>> r = make_row(p, [0.001, 0.002, 0.0015, 0.0012, 0.0018], SEEDS)
>>> r.verdict, r.detected
('confirmed', True)
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SEEDS", "CONFIDENCE", "FALSIFIABLE", "CONSISTENCY", "DERIVED", "KINDS", "COMPARISONS",
    "CONFIRMED", "REFUTED", "INCONCLUSIVE", "NOT_JUDGED", "NOT_APPLICABLE", "ROW_VERDICTS",
    "GREY_LEVEL", "Rule", "RULES", "Profile", "Prediction", "Row", "Observation",
    "t_interval", "judge", "make_row", "quantization_step",
]

#: The seeds of every study, fixed in advance (docs/protocol.md, "How many seeds").
SEEDS = (0, 1, 2, 3, 4)
#: Confidence level of the interval a verdict uses.
CONFIDENCE = 0.95

FALSIFIABLE, CONSISTENCY, DERIVED = "falsifiable", "consistency", "derived"
KINDS = (FALSIFIABLE, CONSISTENCY, DERIVED)
COMPARISONS = ("equal", "at_least", "at_most")
CONFIRMED, REFUTED, INCONCLUSIVE = "confirmed", "refuted", "inconclusive"
NOT_JUDGED, NOT_APPLICABLE = "not judged", "not applicable"
#: The verdicts a measured row can carry.
ROW_VERDICTS = (CONFIRMED, REFUTED, INCONCLUSIVE, NOT_JUDGED, NOT_APPLICABLE)
#: One 8-bit grey level.
GREY_LEVEL = 1 / 255


# ----------------------------------------------------------------------------------------------
# What a rule may read about the data
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """What the tolerance rules may know about a dataset: its quantization ``step`` (the
    smallest difference between two of its intensity levels, :func:`quantization_step`)."""
    step: float = GREY_LEVEL

    def __post_init__(self):
        if not (math.isfinite(self.step) and 0 < self.step <= 1):
            raise ValueError(f"step must lie in (0, 1], got {self.step!r}")


def quantization_step(x, *, sample: int = 1_000_000) -> float:
    """The data's quantization step 1/k: the coarsest grid k = 1, 2, ..., 4096 on which every
    intensity level of ``x`` lies (to 1e-3 of a step; read on at most ``sample`` values), so
    8-bit images have 1/255 and images stored as integers 0-16 have 1/16; data on no such grid
    (continuous values) gets 1/4096, finer than any tolerance uses.

    >>> quantization_step(np.array([0, 5, 16]) / 16)
    0.0625
    >>> quantization_step(np.arange(256, dtype=np.float32) / np.float32(255)) == 1 / 255
    True
    """
    levels = np.unique(np.asarray(x, dtype=np.float64).ravel()[:sample])
    if levels.size > 4097:
        return 1 / 4096
    for k in range(1, 4097):
        scaled = levels * k
        if np.max(np.abs(scaled - np.rint(scaled))) < 1e-3:
            return 1 / k
    return 1 / 4096


# ----------------------------------------------------------------------------------------------
# Tolerance rules
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A tolerance rule for one kind of quantity: ``tolerance(prediction, profile)``."""
    name: str
    quantity: str
    formula: str
    why: str
    _fn: object = dataclasses.field(repr=False, compare=False, default=None)

    def tolerance(self, prediction: "Prediction", profile: Profile) -> float:
        return float(self._fn(prediction, profile))


def _rank_tolerance(p, profile):
    n = p.items
    if n is None or n < 2:
        raise ValueError(f"{p.id}: the rank rule needs the number of ranked items (items >= 2)")
    return 12.0 / (n * (n * n - 1))


def _numeric_tolerance(p, profile):
    if p.precision is None or not p.precision > 0:
        raise ValueError(f"{p.id}: the numeric rule needs the computation's stated precision")
    return p.precision


#: The tolerance rules (docs/protocol.md gives each one's argument).
RULES = {r.name: r for r in (
    Rule("intensity", "an intensity or a difference of intensities: a bias, a lean toward 1/2, "
         "a mean error, a parameter offset, a slope gap per unit of intensity",
         "max(1/255, the data's quantization step)",
         "the smallest intensity difference the images can show: one level of their "
         "quantization, and never less than one 8-bit grey level",
         lambda p, prof: max(GREY_LEVEL, prof.step)),
    Rule("ratio", "a ratio of two positive measures (blur, error, steps, slowdown)",
         "|predicted| / 10",
         "a tenth of the predicted ratio: a difference under 10% in sharpness, error or speed "
         "does not change which loss a practitioner chooses",
         lambda p, prof: abs(p.value) / 10),
    Rule("log_ratio", "the logarithm of a ratio of two positive measures", "ln 1.1",
         "the ratio rule on the log scale",
         lambda p, prof: math.log(1.1)),
    Rule("count", "a count (active latent dimensions, items)", "1",
         "the count's own resolution: one unit",
         lambda p, prof: 1.0),
    Rule("rank", "a rank correlation of n ordered items", "12 / (n (n^2 - 1))",
         "one transposition of two neighbours in an otherwise perfect order",
         _rank_tolerance),
    Rule("share", "a fraction of items (pixels, locations, grey levels, directions)", "0.05",
         "five items in a hundred: a share measured on tens of items moves by more than that "
         "when one item changes",
         lambda p, prof: 0.05),
    Rule("numeric", "a computation checked against the same code's prediction (consistency "
         "rows only)", "the computation's stated precision",
         "a consistency row tests the code, so its tolerance is the precision the computation "
         "is run to (e.g. the stopping rule of a fit), stated with the prediction",
         _numeric_tolerance),
)}


# ----------------------------------------------------------------------------------------------
# Predictions and measured rows
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """One registered prediction: what is predicted (``value``), how it is compared
    (``comparison``: equal, at_least, at_most) and by which tolerance ``rule``; its ``kind``
    with the ``reason``; where the value comes from (``source``, e.g. the analysis function).

    ``items`` (the rank rule's n) and ``precision`` (the numeric rule's precision) are read by
    their rules.  ``applicable`` is empty when the premise holds for the data, else the reason
    it does not (the row is then counted as not applicable).  ``tolerance`` is set by
    :meth:`registered` from the rule and the data's profile, never by hand.
    """
    id: str
    statement: str
    quantity: str
    value: float
    rule: str
    comparison: str = "equal"
    kind: str = FALSIFIABLE
    reason: str = ""
    source: str = ""
    items: int | None = None
    precision: float | None = None
    applicable: str = ""
    tolerance: float = math.nan

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"{self.id}: unknown tolerance rule {self.rule!r} "
                             f"(known: {', '.join(RULES)})")
        if self.comparison not in COMPARISONS:
            raise ValueError(f"{self.id}: comparison must be one of {COMPARISONS}, "
                             f"got {self.comparison!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.rule == "numeric" and self.kind == FALSIFIABLE:
            raise ValueError(f"{self.id}: the numeric rule is for consistency rows only")
        if not self.applicable and not math.isfinite(self.value):
            raise ValueError(f"{self.id}: the predicted value must be finite, got {self.value!r}")

    def registered(self, profile: Profile) -> "Prediction":
        """This prediction with its tolerance set by its rule for data of ``profile``."""
        if self.applicable:
            return dataclasses.replace(self, tolerance=math.nan)
        return dataclasses.replace(self, tolerance=RULES[self.rule].tolerance(self, profile))

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "Prediction":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"prediction {d.get('id')!r}: unknown fields {unknown}")
        d = dict(d)
        for key in ("value", "tolerance"):
            if isinstance(d.get(key), str):              # "nan" as JSON holds it
                d[key] = float(d[key])
        return cls(**d)


def t_interval(values):
    """The 95% Student-t interval of the mean of ``values`` as (lo, hi), or None when there are
    fewer than two finite values (identical values give a point interval).

    >>> lo, hi = t_interval([1.0, 2.0, 3.0])
    >>> print(f"{lo:.4f} {hi:.4f}")
    -0.4841 4.4841
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size < 2 or not np.all(np.isfinite(v)):
        return None
    mean, s = float(v.mean()), float(np.std(v, ddof=1))
    if s == 0:
        return (mean, mean)
    from scipy.stats import t as student_t
    half = float(student_t.ppf(0.5 + CONFIDENCE / 2, v.size - 1)) * s / math.sqrt(v.size)
    return (mean - half, mean + half)


def _band(p: Prediction):
    # a value exactly on the band's edge (a rank one swap away) must not turn on a last bit
    t = p.tolerance + 1e-12 * max(1.0, abs(p.value), p.tolerance)
    lo = p.value - t if p.comparison in ("equal", "at_least") else -math.inf
    hi = p.value + t if p.comparison in ("equal", "at_most") else math.inf
    return lo, hi


def judge(p: Prediction, interval) -> str:
    """The verdict on ``p`` from the interval of its seed mean (None: inconclusive).

    >>> p = Prediction("X.t", "s", "q", 1.0, "count")
    >>> p = p.registered(Profile())
    >>> judge(p, (0.5, 1.5)), judge(p, (2.5, 3.0)), judge(p, (1.5, 2.5)), judge(p, None)
    ('confirmed', 'refuted', 'inconclusive', 'inconclusive')
    """
    if interval is None:
        return INCONCLUSIVE
    lo, hi = interval
    band_lo, band_hi = _band(p)
    if band_lo <= lo and hi <= band_hi:
        return CONFIRMED
    if hi < band_lo or lo > band_hi:
        return REFUTED
    return INCONCLUSIVE


@dataclass(frozen=True)
class Row:
    """A prediction with its per-seed measurements, the interval of their mean, the verdict,
    and the effect (mean - predicted value) with its interval and whether it is detected (the
    interval excludes the predicted value)."""
    prediction: Prediction
    measurements: tuple
    seeds: tuple
    mean: float
    sd: float
    interval: tuple | None
    verdict: str
    note: str = ""

    @property
    def id(self) -> str:
        return self.prediction.id

    @property
    def kind(self) -> str:
        return self.prediction.kind

    @property
    def comparison(self) -> str:
        return self.prediction.comparison

    @property
    def value(self) -> float:
        return self.prediction.value

    @property
    def tolerance(self) -> float:
        return self.prediction.tolerance

    def side(self) -> str | None:
        """Where the mean lies relative to the predicted value, "above" or "below" -- for a
        refuted row (an "at_most" row is refuted above, an "at_least" one below) and for a
        row whose effect is detected; None otherwise.

        >>> p = Prediction("E.x", "s", "q", 0.0, "intensity").registered(Profile())
        >>> make_row(p, [-0.3, -0.31, -0.29], (0, 1, 2)).side()
        'below'
        >>> make_row(p, [0.01, -0.01, 0.0], (0, 1, 2)).side() is None
        True
        """
        if self.verdict == REFUTED and self.comparison != "equal":
            return "above" if self.comparison == "at_most" else "below"
        if not (self.verdict == REFUTED or self.detected) or not math.isfinite(self.mean):
            return None
        if self.mean == self.value:
            return None
        return "above" if self.mean > self.value else "below"

    @property
    def effect(self) -> float:
        return self.mean - self.prediction.value

    @property
    def effect_interval(self):
        if self.interval is None:
            return None
        return (self.interval[0] - self.prediction.value, self.interval[1] - self.prediction.value)

    @property
    def detected(self) -> bool:
        """Whether the interval excludes the predicted value: an effect is detectably there,
        whatever the verdict (a row confirmed within its tolerance can still show one)."""
        iv = self.interval
        return iv is not None and not (iv[0] <= self.prediction.value <= iv[1])

    def to_dict(self) -> dict:
        def num(x):
            x = float(x)
            return x if math.isfinite(x) else str(x)
        return {**{k: (num(v) if k in ("value", "tolerance") else v)
                   for k, v in self.prediction.to_dict().items()},
                "measurements": [num(v) for v in self.measurements],
                "seeds": [int(s) for s in self.seeds], "mean": num(self.mean), "sd": num(self.sd),
                "interval": None if self.interval is None else [num(v) for v in self.interval],
                "verdict": self.verdict, "effect": num(self.effect),
                "detected": self.detected, "note": self.note}

    @classmethod
    def from_dict(cls, d: dict) -> "Row":
        """A row as a report's JSON holds it (what the claims read)."""
        fields = {f.name for f in dataclasses.fields(Prediction)}
        pred = Prediction.from_dict({k: v for k, v in d.items() if k in fields})
        if d.get("verdict") not in ROW_VERDICTS:
            raise ValueError(f"row {pred.id}: verdict must be one of {ROW_VERDICTS}, "
                             f"got {d.get('verdict')!r}")
        iv = d.get("interval")
        return cls(pred, tuple(float(v) for v in d.get("measurements", ())),
                   tuple(int(s) for s in d.get("seeds", ())), float(d.get("mean", math.nan)),
                   float(d.get("sd", math.nan)),
                   None if iv is None else (float(iv[0]), float(iv[1])), d["verdict"],
                   d.get("note", ""))


def make_row(p: Prediction, measurements, seeds, *, judged: bool = True, note: str = "") -> Row:
    """A :class:`Row`: mean, sample sd, the t-interval and the verdict.

    ``judged`` false (a quick run) gives :data:`NOT_JUDGED`; an inapplicable prediction
    :data:`NOT_APPLICABLE`; no finite measurement :data:`INCONCLUSIVE` (an undefined statistic).
    """
    m = tuple(float(v) for v in measurements)
    seeds = tuple(int(s) for s in seeds)
    if len(m) != len(seeds):
        raise ValueError(f"{p.id}: {len(m)} measurements for {len(seeds)} seeds")
    if p.applicable:
        return Row(p, m, seeds, math.nan, math.nan, None, NOT_APPLICABLE, note or p.applicable)
    arr = np.asarray(m, dtype=float)
    finite = arr.size > 0 and bool(np.all(np.isfinite(arr)))
    mean = float(arr.mean()) if finite else math.nan
    spread = float(np.std(arr, ddof=1)) if finite and arr.size > 1 else math.nan
    iv = t_interval(arr)
    if not judged:
        verdict = NOT_JUDGED
    elif math.isnan(p.tolerance):
        raise ValueError(f"{p.id}: judged before its tolerance was registered")
    else:
        verdict = judge(p, iv)
    return Row(p, m, seeds, mean, spread, iv, verdict, note)


@dataclass(frozen=True)
class Observation:
    """A named measured number that is not a prediction: one value per seed (``seeds``), or a
    single value with ``seeds`` empty for a property of the data alone."""
    values: tuple
    seeds: tuple
    unit: str

    def __post_init__(self):
        if self.seeds and len(self.seeds) != len(self.values):
            raise ValueError(f"{len(self.values)} values for {len(self.seeds)} seeds")

    @property
    def mean(self) -> float:
        v = np.asarray(self.values, dtype=float)
        return float(v.mean()) if v.size else math.nan

    def to_dict(self) -> dict:
        return {"values": [float(v) for v in self.values],
                "seeds": [int(s) for s in self.seeds], "unit": self.unit}

    @classmethod
    def from_dict(cls, d: dict) -> "Observation":
        return cls(tuple(float(v) for v in d["values"]), tuple(int(s) for s in d["seeds"]),
                   str(d.get("unit", "")))
