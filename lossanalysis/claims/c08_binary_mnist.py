"""Claim 8: MNIST roughly follows a multivariate Bernoulli distribution (pixels near 0 or 1)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import fmt
from .claim import Claim
from .evidence import Report, _contract
from .verdicts import CONFIRMED, INCONCLUSIVE, QUALIFIED, REFUTED, Finding

#: A pixel within this of 0 or 1 counts as binary.
TOLERANCE = 0.1
#: Fraction of binary pixels at and above which MNIST is "roughly Bernoulli" (confirmed), and
#: below which it is not (refuted); in between: mostly binary (qualified).
CONFIRM_AT, REFUTE_BELOW = 0.95, 0.5


def pixel_observations(pixels) -> dict:
    """The observations claim 8 reads, from a dataset's training pixels in [0, 1].

    ``binary_pixel_fraction``: the fraction f of pixels within :data:`TOLERANCE` of 0 or 1;
    ``mean_pixel_entropy``: the mean Bernoulli entropy H(y) = -y ln y - (1 - y) ln(1 - y) in
    nats, the irreducible part of the summed BCE that the KL form removes.  Neither depends on a
    seed (``seeds`` empty).  The experiments put them into the report's ``observations``.

    Parameters
    ----------
    pixels : array_like
        Intensities in [0, 1], any shape.

    Returns
    -------
    dict
        {name: {"values": [v], "seeds": [], "unit": ...}}.

    Examples
    --------
    >>> obs = pixel_observations([0.0, 1.0, 0.5, 0.95])
    >>> obs["binary_pixel_fraction"]["values"]
    [0.75]
    >>> print(f"{obs['mean_pixel_entropy']['values'][0]:.4f}")
    0.2229
    """
    from .._inputs import unit_interval
    x = unit_interval(pixels, "pixels").ravel()
    if x.size == 0:
        raise ValueError("pixels must hold at least one intensity")
    f = float(np.mean((x <= TOLERANCE) | (x >= 1 - TOLERANCE)))
    inner = x[(x > 0) & (x < 1)]
    h = -(inner * np.log(inner) + (1 - inner) * np.log1p(-inner))
    return {"binary_pixel_fraction": {"values": [f], "seeds": [],
                                      "unit": f"fraction of pixels within {TOLERANCE} of 0 or 1"},
            "mean_pixel_entropy": {"values": [float(h.sum() / x.size)], "seeds": [],
                                   "unit": "nats per pixel"}}


@dataclass(frozen=True)
class BinaryFraction:
    """Reads ``binary_pixel_fraction`` from MNIST reports: f >= :data:`CONFIRM_AT` confirmed,
    f < :data:`REFUTE_BELOW` refuted, qualified in between, inconclusive if not finite.

    Examples
    --------
    >>> from lossanalysis.claims.evidence import Observation
    >>> rep = Report("t", "mnist", False, observations={
    ...     "binary_pixel_fraction": Observation((0.913,), (), "fraction")})
    >>> BinaryFraction().read(rep)[0].verdict
    'qualified'
    """

    name: str = "binary_pixel_fraction"
    datasets: tuple = ("mnist",)

    def __post_init__(self):
        _contract(self.name)

    @property
    def names(self) -> tuple:
        """What it reads."""
        return (f"observation {self.name} (MNIST reports)",)

    def read(self, report: Report) -> list:
        """A one-element list with the finding of ``report``; empty without the observation."""
        if self.name not in report.observations:
            return []
        f = float(np.mean(report.observations[self.name].values))
        verdict = (INCONCLUSIVE if not np.isfinite(f) else CONFIRMED if f >= CONFIRM_AT
                   else REFUTED if f < REFUTE_BELOW else QUALIFIED)
        ent = report.observations.get("mean_pixel_entropy")
        text = (f"{report.dataset}: {100 * f:.1f}% of the training pixels lie within "
                f"{TOLERANCE} of 0 or 1 (confirmed at {100 * CONFIRM_AT:g}%, refuted below "
                f"{100 * REFUTE_BELOW:g}%)"
                + (f"; the remaining {100 * (1 - f):.1f}% are grey, where a Bernoulli "
                   "likelihood on [0, 1] data is unnormalized (the continuous Bernoulli adds the "
                   "missing ln C)" if f < 1 else "")
                + (f"; mean pixel entropy {fmt(np.mean(ent.values))} nats" if ent else ""))
        return [Finding(verdict, text, {"dataset": report.dataset, "source": report.source,
                                        "fraction": f, "reads as": verdict})]


CLAIM = Claim(
    "8", "MNIST roughly follows a multivariate Bernoulli distribution (pixels near 0 or 1).",
    f"At least {100 * CONFIRM_AT:g}% of MNIST's training pixels lie within {TOLERANCE} of 0 or 1 "
    f"(qualified from {100 * REFUTE_BELOW:g}%).",
    reads=(BinaryFraction(),))
