"""Measured evidence for the claims: the report JSON's structured fields, and how claims read them.

A study's report (``studies/<name>/report.json``, :mod:`lossanalysis.experiments.render`)
holds

* ``"study"``, ``"status"`` ("prospective" or "development"), ``"prospective"`` and ``"quick"``
  (a quick run is a smoke test: it judges no claim);
* ``"rows"``: one row per prediction, as :meth:`lossanalysis.protocol.Row.to_dict` writes it
  (``id``, ``kind`` -- only falsifiable rows are evidence: a consistency row is true by
  construction and a derived one repeats registered values --, ``comparison``, ``value``,
  ``tolerance``, per-seed ``measurements``, ``mean``, ``interval``, ``verdict``, ``effect``
  and ``detected``);
* ``"observations"``: named measured numbers that are not predictions, each
  ``{"values": [...], "seeds": [...], "unit": "..."}`` (one value per seed; ``seeds`` empty for a
  property of the data).

Only these fields are read -- never the prose of a report.  :func:`load_report` reads and checks
one file; :class:`Evidence` holds several.  A report written before rows and observations existed
(it has neither key) loads with no evidence and a note saying so.

Rows and observations are the protocol's own types (:class:`lossanalysis.protocol.Row`,
:class:`~lossanalysis.protocol.Observation`): one vocabulary for the experiments and the claims.
A claim reads evidence through *readers*: :class:`Rows` (experiment rows whose ids match a
pattern, and what each row outcome -- its verdict and its detected effect -- means for the
claim) and :class:`Exceeds` (one observation against another, paired by seed, or against a
constant).  :data:`CONTRACT` is the one place that
says what every row pattern and observation the claims read must measure, with its sign.
"""
from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..protocol import FALSIFIABLE, NOT_APPLICABLE, Observation, Row
from .verdicts import CONFIRMED, INCONCLUSIVE, QUALIFIED, REFUTED, VERDICTS, Finding

__all__ = ["CONTRACT", "Row", "Observation", "Report", "Evidence", "load_report",
           "report_from_document", "Rows", "Exceeds", "mean_interval", "AE_LEAN", "VAE_LEAN",
           "LOGIT_NOISE_LEAN", "PROB_NOISE_LEAN"]

#: What each row pattern and observation that a claim reads must measure (the contract with the
#: experiments).  "Toward 1/2" is signed: positive where the prediction lies on the side of the
#: target nearer 1/2 (below the target above 1/2, above it below 1/2).
CONTRACT = {
    "E4.null.*": "a deterministic autoencoder pair (the same network trained with BCE and with "
                 "MSE, no noise in the loss); measurement: BCE's per-target mean signed error "
                 "minus MSE's, signed toward 1/2: the lean 1/2 [d(y) - d(1 - y)] of one pair of "
                 "target bins (y, 1 - y) (> 0: BCE leans toward 1/2); predicted 0.  Each "
                 "network's own conditional-mean checks are E4.cmean.* (not read by claims)",
    "E8.vae.*": "a Bernoulli VAE (its sampled latent puts noise inside the loss, but the decoder "
                "sees the sample); measurement: the decoder's output p(h) for each latent "
                "sample h minus the target, binned by p(h), signed toward 1/2; predicted 0 "
                "(for each h both proper likelihoods are minimized by E[x | h]).  The Gaussian "
                "decoder's row is E8.vae_gaussian.* (not read)",
    "E8.*.logit.*": "(not E8.vae) noise in the logit inside the training loss; measurement: "
                    "BCE's mean prediction E_e[p] minus the target, signed toward 1/2 (free "
                    "outputs: point targets; AE: binned by E_e[p] and against the noise-free "
                    "twin, so the target is the conditional mean); predicted 0.  MSE's rows are "
                    "E8.*.mse_logit[...] (not read)",
    "E8.*.prob.*": "(not E8.vae) noise in probability space inside the training loss; "
                   "measurement: BCE's mean prediction minus the target, signed toward 1/2, as "
                   "for E8.*.logit.*; predicted noise_bias(bce, y, sigma, 'prob') signed the "
                   "same way (> 0; AE: at the conditional mean each prediction bin stands for).  "
                   "MSE's rows are E8.*.mse_prob[...] (not read)",
    "E2.*": "(ids without 'adam') saturated sigmoid outputs (z = -6 on ink pixels) trained "
            "with plain SGD, BCE against MSE; measurement: MSE's steps over the steps the "
            "gradient ratio predicts for it (grows with BCE's speed-up over MSE); predicted: "
            "the speed-up the gradient ratio gives (a ratio of 1)",
    "E2.*adam*": "the same trained with Adam; measurement: grows with BCE's speed-up over MSE; "
                 "predicted: none (a step ratio of 1)",
    "E6.*sharper": "continuous-Bernoulli VAE against the Bernoulli one; measurement: the blur "
                   "ratio of the CB mean image over the Bernoulli reconstruction's (< 1: CB "
                   "sharper); predicted at_most 1",
    "E6.*param_expansion": "continuous-Bernoulli VAE; measurement: over mid-grey pixels, "
                           "mean|lambda - 1/2| of the parameter image minus the data's mean|x - "
                           "1/2| (> 0: pushed away from 1/2); predicted mu^-1 of the data",
    "blur_ratio[ae_bce]": "observation: blur ratio (data |gradient| / reconstruction "
                          "|gradient|, > 1: blurrier than the data) of the AE trained with BCE",
    "blur_ratio[ae_mse]": "observation: the same AE trained with MSE, same seeds",
    "blur_ratio[vae_bernoulli]": "observation: blur ratio of the Bernoulli-decoder VAE",
    **{f"blur_ratio[vae_gaussian_{k}]": f"observation: blur ratio of the Gaussian-decoder VAE "
       f"with {w} (E5), same seeds" for k, w in (("sigma0.1", "sigma = 0.1"),
                                                  ("sigma0.3", "sigma = 0.3"),
                                                  ("sigma0.5", "sigma = 0.5"),
                                                  ("learned", "a learned shared sigma"))},
    "blur_ratio[vae_gaussian_sigma1]": "observation: blur ratio of the Gaussian-decoder VAE "
                                       "with sigma = 1 (its NLL is MSE/2 + const), same seeds",
    "binary_pixel_fraction": "observation: fraction of the training pixels within 0.1 of 0 or 1 "
                             "(seeds empty); see lossanalysis.claims.pixel_observations",
    "mean_pixel_entropy": "observation: mean Bernoulli entropy H(y) of the training pixels, nats "
                          "(seeds empty)",
}

# ----------------------------------------------------------------------------------------------
# The report's structured fields
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """The evidence of one experiment report."""

    source: str
    dataset: str
    quick: bool
    rows: tuple = ()
    observations: dict = field(default_factory=dict)
    note: str = ""
    status: str = ""

    def matching(self, pattern: str, exclude: str = "") -> list:
        """The rows whose id matches the glob ``pattern`` (and not ``exclude``).

        Examples
        --------
        >>> r = Report("t", "mnist", False, (_toy("E8.ae.prob.1", [1.0, 1.0]),))
        >>> [row.id for row in r.matching("E8.*.prob.*")], r.matching("E8.*", exclude="E8.ae.*")
        (['E8.ae.prob.1'], [])
        """
        return [r for r in self.rows if fnmatch.fnmatchcase(r.id, pattern)
                and not (exclude and fnmatch.fnmatchcase(r.id, exclude))]


@dataclass(frozen=True)
class Evidence:
    """The evidence of several reports (e.g. MNIST and Fashion-MNIST); empty: no data.

    Examples
    --------
    >>> Evidence().reports
    ()
    """

    reports: tuple = ()

    @classmethod
    def from_files(cls, paths) -> "Evidence":
        """:func:`load_report` of each path.

        Examples
        --------
        >>> Evidence.from_files([]).reports
        ()
        """
        return cls(tuple(load_report(p) for p in paths))

    @classmethod
    def from_documents(cls, docs, sources=None) -> "Evidence":
        """:func:`report_from_document` of each parsed JSON document (``sources`` label them;
        default "document 1", ...).

        Examples
        --------
        >>> ev = Evidence.from_documents([{"study": "mnist", "quick": True}], ["q.json"])
        >>> ev.reports[0].source, ev.reports[0].quick
        ('q.json', True)
        """
        docs = list(docs)
        sources = list(sources) if sources is not None else [f"document {i + 1}"
                                                             for i in range(len(docs))]
        return cls(tuple(report_from_document(d, s) for d, s in zip(docs, sources)))


def _fail(source, why) -> ValueError:
    return ValueError(f"report {source!r} {why} (expected the JSON of a study, e.g. "
                      "studies/mnist/report.json)")


def _toy(rid, measurements, value=0.0, comparison="equal", kind=FALSIFIABLE,
         rule="intensity"):
    """A judged row of made-up measurements (for the examples and tests of the readers)."""
    from ..protocol import Prediction, Profile, make_row
    p = Prediction(rid, "", "", value, rule, comparison, kind).registered(Profile())
    return make_row(p, measurements, tuple(range(len(measurements))))


def _number(x, source, where, *, optional=False) -> float:
    # the report writer turns non-finite floats into the strings "nan", "inf", "-inf"
    if x is None and optional:
        return math.nan
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _fail(source, f"has a non-numeric {where}: {x!r}")
    return float(x)


def _numbers(xs, source, where) -> tuple:
    if not isinstance(xs, list):
        raise _fail(source, f"has a {where} that is not a list")
    return tuple(_number(x, source, f"{where}[{i}]") for i, x in enumerate(xs))


def _row(d, source, i) -> Row:
    where = f"rows[{i}]"
    if not isinstance(d, dict):
        raise _fail(source, f"has a {where} that is not an object")
    for key in ("id", "kind", "comparison", "value", "verdict", "rule"):
        if key not in d:
            raise _fail(source, f"has no {key!r} in {where}")
    if not isinstance(d["id"], str):
        raise _fail(source, f"has a non-string id in {where}")
    for key in ("value", "tolerance", "mean"):
        if key in d:
            _number(d[key], source, f"{key} in {where} ({d['id']})")
    _numbers(list(d.get("measurements", [])), source, f"measurements in {where}")
    interval = d.get("interval")
    if interval is not None and (not isinstance(interval, list) or len(interval) != 2):
        raise _fail(source, f"has an interval in {where} ({d['id']}) that is not [lo, hi]")
    fields = {k: v for k, v in d.items() if k not in ("experiment", "effect", "detected")}
    try:
        return Row.from_dict(fields)
    except (ValueError, TypeError, KeyError) as err:
        raise _fail(source, f"has a malformed {where} ({d['id']}): {err}") from None


def _observation(name, d, source) -> Observation:
    where = f"observation {name!r}"
    if not isinstance(d, dict) or "values" not in d:
        raise _fail(source, f"has an {where} without 'values'")
    values = _numbers(d["values"], source, f"values of the {where}")
    seeds = d.get("seeds") or []
    if not isinstance(seeds, list) or (seeds and len(seeds) != len(values)):
        raise _fail(source, f"has an {where} whose seeds do not match its values one to one")
    if any(isinstance(s, bool) for s in seeds):
        raise _fail(source, f"has an {where} with a seed that is not an integer")
    if not values:
        raise _fail(source, f"has an {where} with no values")
    if seeds and any(not isinstance(v, int) for v in seeds):
        raise _fail(source, f"has an {where} with a seed that is not an integer")
    return Observation(values, tuple(seeds), str(d.get("unit", "")))


def report_from_document(doc, source="report") -> Report:
    """The evidence of a parsed study report (``source`` names it in messages).

    Parameters
    ----------
    doc : dict
        The document: ``study`` (str), ``quick`` (bool), ``rows`` and ``observations``; see the
        module docstring.
    source : str
        A label for the document (its file name).

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        Naming ``source`` and the malformed field.

    Examples
    --------
    >>> doc = {"study": "mnist", "quick": False, "observations": {
    ...     "binary_pixel_fraction": {"values": [0.91], "seeds": [], "unit": "fraction"}}}
    >>> report_from_document(doc, "toy.json").observations["binary_pixel_fraction"].values
    (0.91,)
    """
    if not isinstance(doc, dict):
        raise _fail(source, "is not a JSON object")
    if not isinstance(doc.get("study"), str):
        raise _fail(source, "has no 'study' string")
    if not isinstance(doc.get("quick"), bool):
        raise _fail(source, "has no boolean 'quick'")
    rows_doc, observations = doc.get("rows", []), doc.get("observations", {})
    if not isinstance(rows_doc, list):
        raise _fail(source, "has a 'rows' that is not a list")
    if not isinstance(observations, dict):
        raise _fail(source, "has an 'observations' that is not an object")
    rows = tuple(_row(d, source, i) for i, d in enumerate(rows_doc))
    ids = [r.id for r in rows]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise _fail(source, f"has two rows with the id {dup!r}")
    obs = {str(k): _observation(k, v, source) for k, v in observations.items()}
    return Report(source, doc["study"], doc["quick"], rows, obs,
                  status=str(doc.get("status", "")))


def load_report(path) -> Report:
    """Read and check one report JSON file (see :func:`report_from_document`).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Report
        With ``source`` the file's name.

    Raises
    ------
    ValueError
        For a missing, unreadable or malformed file, naming it.

    Examples
    --------
    >>> load_report("no/such/report.json")
    Traceback (most recent call last):
    ...
    ValueError: report 'no/such/report.json' does not exist
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"report {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"report {str(path)!r} cannot be read: {err}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise _fail(str(path), f"is not valid JSON ({err})") from None
    return report_from_document(doc, str(path))


# ----------------------------------------------------------------------------------------------
# Readers: what a claim takes from a report
# ----------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    return f"{float(v):.4g}"


def mean_interval(values, level=0.95) -> tuple:
    """The mean of ``values`` and its two-sided Student-t interval.

    mean +- t_{(1 + level)/2, n - 1} * sd / sqrt(n), sd the sample standard deviation; (mean,
    nan, nan) for fewer than two values.

    Parameters
    ----------
    values : sequence of float
    level : float
        Coverage, in (0, 1).

    Returns
    -------
    tuple of float
        (mean, lo, hi).

    Examples
    --------
    >>> m, lo, hi = mean_interval([1.0, 2.0, 3.0])      # t(0.975, 2) = 4.303
    >>> print(f"{m:.3f} {lo:.3f} {hi:.3f}")
    2.000 -0.484 4.484
    """
    from scipy.stats import t
    x = np.asarray(values, dtype=float)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if x.size == 0:
        raise ValueError("values must hold at least one number")
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(t.ppf((1 + level) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def _contract(name):
    if name not in CONTRACT:
        raise ValueError(f"{name!r} is not in claims.evidence.CONTRACT (add what it must "
                         "measure there first)")
    return name


@dataclass(frozen=True)
class Rows:
    """Experiment rows whose id matches ``pattern`` (a glob, a key of :data:`CONTRACT`).

    Each falsifiable row gives the claim the verdict named for its outcome, reading its effect
    as well as its verdict: ``above`` or ``below`` when it is refuted with its mean above or
    below the prediction (:meth:`lossanalysis.protocol.Row.side`); when it is confirmed,
    ``small_above`` / ``small_below`` if its effect is nevertheless detected on that side (the
    interval excludes the predicted value, inside the tolerance), else ``confirmed``; an
    inconclusive row gives "inconclusive", a row not judged "not judged".  Consistency and
    derived rows, and rows not applicable to the data, are skipped: they are no evidence.

    Examples
    --------
    >>> lean = Rows("E4.null.*", confirmed="refuted", above="confirmed", below="refuted",
    ...             small_above="qualified", small_below="refuted")
    >>> rep = Report("t", "mnist", False, (
    ...     _toy("E4.null.a", [0.02, 0.021, 0.019]),                  # refuted above
    ...     _toy("E4.null.b", [0.001, 0.0012, 0.0011]),               # confirmed, detected
    ...     _toy("E4.null.c", [0.001, -0.001, 0.0]),                  # confirmed, nothing seen
    ...     _toy("E4.null.d", [0.0, 0.0, 0.0], kind="consistency")))
    >>> [f.verdict for f in lean.read(rep)]
    ['confirmed', 'qualified', 'refuted']
    """

    pattern: str
    confirmed: str
    above: str
    below: str
    exclude: str = ""
    datasets: tuple = ()
    small_above: str | None = None
    small_below: str | None = None

    def __post_init__(self):
        _contract(self.pattern)
        for key in ("confirmed", "above", "below", "small_above", "small_below"):
            v = getattr(self, key)
            if v is not None and v not in VERDICTS:
                raise ValueError(f"{key} must be one of {VERDICTS}, got {v!r}")

    @property
    def names(self) -> tuple:
        """What it reads, as shown in the claims' output."""
        return (f"rows {self.pattern}" + (f" except {self.exclude}" if self.exclude else ""),)

    def _reads(self, row) -> str:
        side = row.side()
        if row.verdict == CONFIRMED:
            small = {"above": self.small_above, "below": self.small_below}.get(side)
            return small if small is not None else self.confirmed
        if row.verdict == REFUTED:
            return {"above": self.above, "below": self.below}.get(side, INCONCLUSIVE)
        return row.verdict

    def read(self, report: Report) -> list:
        """One :class:`Finding` per falsifiable matching row of ``report``."""
        out = []
        for row in report.matching(self.pattern, self.exclude):
            if row.kind != FALSIFIABLE or row.verdict == NOT_APPLICABLE:
                continue
            verdict, side = self._reads(row), row.side()
            iv = row.interval
            how = (f"mean {_fmt(row.mean)}"
                   + (f" [{_fmt(iv[0])}, {_fmt(iv[1])}]" if iv is not None else "")
                   + (f", {side}" if side else "")
                   + f"; predicted {row.comparison} {_fmt(row.value)}"
                   + (f" +- {_fmt(row.tolerance)}" if math.isfinite(row.tolerance) else "")
                   + ("; effect detected" if row.detected and row.verdict == CONFIRMED else ""))
            text = f"{report.dataset} `{row.id}` {row.verdict} ({how}) -> {verdict}"
            out.append(Finding(verdict, text, {
                "row": row.id, "dataset": report.dataset, "source": report.source,
                "row verdict": row.verdict, "mean": row.mean, "interval": iv,
                "value": row.value, "comparison": row.comparison,
                "effect detected": row.detected, "reads as": verdict}))
        return out


@dataclass(frozen=True)
class Exceeds:
    """Observation ``name`` exceeds ``than`` (another observation, paired by seed, or a number).

    The per-seed differences d_s = name_s - than_s give a 95% Student-t interval of their mean
    (:func:`mean_interval`): entirely above 0 -> "confirmed", entirely below -> "refuted",
    straddling 0 or fewer than two paired seeds -> "inconclusive".  A report without the
    observations gives nothing.

    Examples
    --------
    >>> rep = Report("t", "mnist", False, observations={
    ...     "blur_ratio[ae_bce]": Observation((1.30, 1.31, 1.29), (0, 1, 2), "ratio"),
    ...     "blur_ratio[ae_mse]": Observation((1.20, 1.22, 1.21), (0, 1, 2), "ratio")})
    >>> Exceeds("blur_ratio[ae_bce]", "blur_ratio[ae_mse]").read(rep)[0].verdict
    'confirmed'
    """

    name: str
    than: str | float
    datasets: tuple = ()

    def __post_init__(self):
        _contract(self.name)
        if isinstance(self.than, str):
            _contract(self.than)

    @property
    def names(self) -> tuple:
        """What it reads, as shown in the claims' output."""
        return (f"observation {self.name}",) + ((f"observation {self.than}",)
                                                if isinstance(self.than, str) else ())

    def read(self, report: Report) -> list:
        """A one-element list with the :class:`Finding` of ``report``; empty without the data."""
        obs = report.observations
        if self.name not in obs or (isinstance(self.than, str) and self.than not in obs):
            return []
        a = obs[self.name]
        if isinstance(self.than, str):
            b = dict(zip(obs[self.than].seeds, obs[self.than].values))
            mine = dict(zip(a.seeds, a.values))
            seeds = [s for s in a.seeds if s in b]
            diffs = [mine[s] - b[s] for s in seeds]
            against = self.than
        else:
            seeds, diffs, against = list(a.seeds), [v - float(self.than) for v in a.values], \
                _fmt(self.than)
        if not diffs:
            m, lo, hi = math.nan, math.nan, math.nan
        else:
            m, lo, hi = mean_interval(diffs)
        verdict = (CONFIRMED if lo > 0 else REFUTED if hi < 0 else INCONCLUSIVE)
        shown = (f"[{_fmt(lo)}, {_fmt(hi)}]" if math.isfinite(lo) else
                 "no interval (fewer than two paired seeds)")
        text = (f"{report.dataset}: {self.name} - {against} = {_fmt(m)} over {len(diffs)} "
                f"seeds, 95% interval {shown} -> {verdict}")
        return [Finding(verdict, text, {
            "observation": self.name, "against": self.than, "dataset": report.dataset,
            "source": report.source, "seeds": seeds, "differences": diffs, "mean": m,
            "interval": [lo, hi], "reads as": verdict})]



# ----------------------------------------------------------------------------------------------
# Readings several claims share: what the rows say about a lean toward 1/2
# ----------------------------------------------------------------------------------------------
def _lean_predicted_zero(pattern, exclude=""):
    # rows measuring a lean toward 1/2 against a prediction of none: confirmed with nothing
    # detected -> no lean (the lean is refuted); above -> a lean toward 1/2; confirmed but a
    # lean toward 1/2 detected inside the tolerance -> qualified (a lean, smaller than a grey
    # level); below -> a lean away from 1/2
    return Rows(pattern, confirmed=REFUTED, above=CONFIRMED, below=REFUTED, exclude=exclude,
                small_above=QUALIFIED, small_below=REFUTED)


#: Trained with BCE, the deterministic autoencoder leans toward 1/2 where the MSE one does not.
AE_LEAN = _lean_predicted_zero("E4.null.*")
#: The Bernoulli VAE's latent-averaged mean prediction leans toward 1/2.
VAE_LEAN = _lean_predicted_zero("E8.vae.*")
#: With noise in the logit inside the loss, BCE's mean prediction leans toward 1/2.
LOGIT_NOISE_LEAN = _lean_predicted_zero("E8.*.logit.*", exclude="E8.vae.*")
#: With noise in probability space inside the loss, BCE's mean prediction leans toward 1/2 as
#: noise_bias predicts (confirmed), more (qualified: the lean holds, the size does not) or less.
PROB_NOISE_LEAN = Rows("E8.*.prob.*", confirmed=CONFIRMED, above=QUALIFIED, below=REFUTED,
                       exclude="E8.vae.*")
