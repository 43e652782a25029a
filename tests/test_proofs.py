"""lossanalysis.proofs: false statements disproven with a counterexample box, true ones proven,
each within its budget; the stored certificates match the current statements, a few cheap ones
re-verified; the README's table is the stored one; the interval arithmetic against mpmath."""
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from lossanalysis import analysis as A
from lossanalysis import get_loss, proofs
from lossanalysis._symbols import internal_symbols
from lossanalysis.proofs import _interval as I
from lossanalysis.proofs import store
from lossanalysis.proofs.certificate import Certificate, Condition, Statement, Variable

BUDGET = 20.0          # seconds: each proof below must finish well within it


@pytest.fixture(scope="module")
def catalogue():
    return {s.id: s for s in proofs.catalogue()}


def _half_box():
    y, _ = internal_symbols()
    t = sp.Symbol("t", positive=True)
    return y, t, (Variable(y, proofs.EPS, Fraction(1, 2)), Variable(t, Fraction(0),
                                                                     1 - proofs.EPS))


def test_r_above_one_for_mse_is_disproven_with_a_counterexample_box():
    y, t, box = _half_box()
    _, p = internal_symbols()
    L = get_loss("mse")._internal_expr
    f = L.subs(p, y * (1 - t)) - L.subs(p, y * (1 + t))        # away minus toward, y < 1/2
    st = Statement("test/mse-R>1", "asymmetry", "mse", "none", "R(y, delta) > 1 for MSE",
                   (Condition("away costs more", f, ">", box, lines=((t, 0), (y, Fraction(1, 2)))),))
    c = proofs.prove(st, max_seconds=BUDGET)
    assert c.verdict == "disproven" and c.seconds < BUDGET
    cex = c.counterexample["box"]
    yc = 0.5 * sum(cex["y"])
    tc = 0.5 * sum(cex["t"])
    # the box's centre: R is 1 there (dyadic-free point: within rounding), not above
    assert abs(float(A.asymmetry_ratio("mse", yc, tc * yc)) - 1) < 1e-9


def test_focal_argmin_equal_to_y_is_disproven_and_the_box_checks_out():
    # argmin = y on y in [5/8, 7/8]: dL/dp < 0 below the target (p = y (1 - t)) fails there
    y, p = internal_symbols()
    t = sp.Symbol("t", positive=True)
    lp = sp.diff(get_loss("focal")._internal_expr, p).subs(p, y * (1 - t))
    st = Statement("test/focal-argmin=y", "proper", "focal", "gamma = 2",
                   "argmin_p focal(y, p) = y for y in [5/8, 7/8]",
                   (Condition("dL/dp < 0 below y", lp, "<",
                              (Variable(y, Fraction(5, 8), Fraction(7, 8)),
                               Variable(t, Fraction(0), Fraction(1, 2))), lines=((t, 0),)),))
    c = proofs.prove(st, max_seconds=BUDGET)
    assert c.verdict == "disproven" and c.seconds < BUDGET
    box = c.counterexample["box"]
    (ylo, yhi), (tlo, thi) = box["y"], box["t"]
    assert ylo <= yhi and tlo <= thi
    # independently, in 30-digit mpmath: inside the box dL/dp at p = y (1 - t) is >= 0, so p
    # below y is not dearer -- the minimizer is not y (for y > 1/2 focal pulls it down,
    # below y toward 1/2)
    y, p = internal_symbols()
    t = sp.Symbol("t", positive=True)
    g = sp.lambdify((y, t), sp.diff(get_loss("focal")._internal_expr, p).subs(p, y * (1 - t)),
                    "mpmath")
    with mpmath.workdps(30):
        for yy in (ylo, yhi, 0.5 * (ylo + yhi)):
            for tt in (tlo, thi, 0.5 * (tlo + thi)):
                assert g(mpmath.mpf(yy), mpmath.mpf(tt)) >= 0
    assert float(A.bias("focal", 0.5 * (ylo + yhi))) < 0        # and the analysis agrees


def _focal_dldp_below_y():
    """dL/dp of focal (gamma = 2) at p = y (1 - t), as an mpmath function of (y, t)."""
    y, p = internal_symbols()
    t = sp.Symbol("t", positive=True)
    return sp.lambdify((y, t), sp.diff(get_loss("focal")._internal_expr, p).subs(
        p, y * (1 - t)), "mpmath")


def test_focal_argmin_equal_to_y_is_disproven_on_the_whole_domain(catalogue):
    # the catalogue's statement, y in [2^-30, 1 - 2^-30]: the branch and bound alone spent
    # 60 s (103,168 boxes) without a counterexample; the point search finds one near p = y
    c = proofs.prove(catalogue["proper/focal"], max_seconds=BUDGET)
    assert c.verdict == "disproven" and c.seconds < BUDGET
    cex = c.counterexample
    assert "point search" in cex["found by"] and cex["g_upper"] < 0
    (ylo, yhi), (tlo, thi) = cex["box"]["y"], cex["box"]["t"]
    assert proofs.EPS <= ylo <= yhi <= 1 - proofs.EPS and 0 <= tlo <= thi < 1
    assert ylo > 0.5        # y > 1/2: the minimizer lies below y, toward 1/2
    # independently, in 30-digit mpmath: dL/dp >= 0 below y at the box's corners and centre
    # (the statement needs it < 0), and the analysis puts the minimizer below y there
    g = _focal_dldp_below_y()
    with mpmath.workdps(30):
        for yy in (ylo, yhi, 0.5 * (ylo + yhi)):
            for tt in (tlo, thi, 0.5 * (tlo + thi)):
                assert g(mpmath.mpf(yy), mpmath.mpf(tt)) >= 0
    assert float(A.bias("focal", 0.5 * (ylo + yhi))) < 0


def test_the_point_search_certifies_a_box_inside_the_violation():
    # (x - 3/10)(x - 2/5) > 0 fails on the band [3/10, 2/5], away from every edge: a grid point
    # falls in it, and the box certified around it lies wholly inside the band (every point
    # of it a counterexample, not only the point evaluated)
    x = sp.Symbol("x", positive=True)
    st = Statement("test/band", "asymmetry", "none", "none", "outside a band",
                   (Condition("outside the band", (x - sp.Rational(3, 10)) *
                              (x - sp.Rational(2, 5)), ">",
                              (Variable(x, Fraction(0), Fraction(1)),)),))
    c = proofs.prove(st, max_seconds=BUDGET)
    assert c.verdict == "disproven" and "point search" in c.counterexample["found by"]
    (lo, hi), = c.counterexample["box"].values()
    assert Fraction(3, 10) <= Fraction(lo) <= Fraction(hi) <= Fraction(2, 5)


def test_an_undecided_certificate_says_why():
    # BCE's asymmetry with a budget far too small to finish: undecided, and the certificate
    # describes the boxes left open (computed, so it names this statement's variables)
    st = proofs.get_statement("asymmetry/bce")
    c = proofs.prove(st, max_seconds=1.0)
    assert c.verdict == "undecided"
    r = c.conditions[-1]["undecided"]
    assert r["open_boxes"] > 0 and set(r["hull"]) == {"y", "t"}
    box = {v.name: (float(v.lo), float(v.hi)) for v in st.conditions[-1].variables}
    for var, (lo, hi) in r["hull"].items():
        assert box[var][0] <= lo <= hi <= box[var][1]
    assert r["summary"] in c.explanation and "box(es) left open" in c.explanation
    assert "why undecided" in str(c) and "why undecided" in c._repr_latex_()
    assert Certificate.from_dict(c.to_dict()).explanation == c.explanation
    assert proofs.prove(proofs.get_statement("proper/mse")).explanation == ""


def test_stored_undecided_certificates_say_why():
    for c in store.stored().values():
        assert bool(c.explanation) == (c.verdict == "undecided"), c.id


@pytest.mark.parametrize("sid", ["proper/bce", "second-order/kl", "noise/prob/bce"])
def test_true_statements_are_proven_within_budget(catalogue, sid):
    c = proofs.prove(catalogue[sid], max_seconds=BUDGET)
    assert c.verdict == "proven" and c.seconds < BUDGET
    assert c.boxes > 0 and all(r["verdict"] == "proven" for r in c.conditions)
    stored = store.certificate(sid)
    assert stored is not None and stored.verdict == "proven" and stored.digest == c.digest


def test_every_stored_certificate_matches_its_current_statement(catalogue):
    have = store.stored()
    assert set(have) == set(catalogue), "regenerate with scripts/prove.py"
    stale = [sid for sid, st in catalogue.items() if have[sid].digest != st.digest()]
    assert not stale, f"stale certificates (regenerate with scripts/prove.py): {stale}"
    for c in have.values():
        assert c.verdict in proofs.VERDICTS
        # the budget is checked between boxes (milliseconds each): at most 60 s and a box
        assert c.seconds < 61, f"{c.id} took {c.seconds} s (goal: 60 s)"


def test_the_certificates_the_claims_cite_are_proven():
    for sid in ("asymmetry/mse", "asymmetry/bce", "proper/bce", "proper/mse", "mean/bce",
                "canonical/bce", "second-order/kl"):
        assert store.certificate(sid).verdict == "proven", sid
    # improper losses: argmin = y is never proven; where the minimizer lies is
    for name in ("focal", "continuous_bernoulli", "beta_nll"):
        assert store.certificate(f"proper/{name}").verdict == "disproven"
        assert store.certificate(f"proper/{name}").counterexample["box"]
    for name in ("focal", "beta_nll"):
        assert store.certificate(f"location/{name}").verdict == "proven"


def test_a_statement_changed_no_longer_matches_its_certificate(catalogue):
    st = catalogue["proper/mse"]
    cond = st.conditions[-1]
    changed = Statement(st.id, st.family, st.loss, st.parameters, st.words,
                        st.conditions[:-1] + (Condition(cond.words, 2 * cond.expr,
                                                        cond.relation, cond.variables,
                                                        cond.lines),), st.exclusions)
    assert changed.digest() != store.certificate("proper/mse").digest


def test_certificate_prints_renders_and_round_trips():
    c = store.certificate("second-order/kl")
    text = str(c)
    assert "PROVEN" in text and "boxes" in text and "excluded" in text
    assert c._repr_latex_().startswith("$\\begin{array}")
    again = Certificate.from_dict(c.to_dict())
    assert again.to_dict() == c.to_dict()
    with pytest.raises(ValueError, match="not a certificate"):
        Certificate.from_dict({"id": "x"})


def test_the_readme_table_is_the_stored_one():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert store.table() in readme
    # and, under it, why each undecided one is undecided (the certificates' own explanation)
    assert store.explanations() in readme
    for c in store.stored().values():
        if c.verdict == "undecided":
            assert f"- `{c.id}` " in readme and c.explanation in readme


def test_claims_cite_their_certificates():
    from lossanalysis.claims import evaluate
    assert "certificate asymmetry/bce" in evaluate("2").analysis.text
    assert "certificate proper/bce" in evaluate("10").analysis.text
    assert "certificate second-order/kl" in evaluate("4").analysis.text
    # a loss at other parameters has no certificate: the grid is named instead
    assert "checked on a grid of 103 points" in evaluate("10", loss=get_loss("focal", gamma=1)
                                                         ).analysis.text or \
        "certificate" not in evaluate("10", loss=get_loss("focal", gamma=1)).analysis.text


def test_a_user_loss_can_be_attempted():
    quartic = get_loss("mse").from_expr("(p - y)**4", name="quartic")
    sts = {s.family: s for s in proofs.statements(quartic)}
    assert {"asymmetry", "proper"} <= set(sts)
    assert proofs.prove(sts["asymmetry"], max_seconds=BUDGET).verdict == "proven"   # identity
    # its curvature vanishes at the target (L_pp(y, y) = 0), so the noise bias has no sigma^2
    # coefficient: no noise statement is built (it used to be a NaN condition that crashed)
    assert not any(f.startswith("noise") for f in sts)
    for st in sts.values():
        assert proofs.prove(st, max_seconds=BUDGET).verdict in proofs.VERDICTS


def test_an_undefined_condition_is_a_one_line_error():
    y, _ = internal_symbols()
    st = Statement("test/nan", "noise/prob", "x", "none", "b2 < 0",
                   (Condition("b2 < 0", sp.nan * y, "<", (Variable(y, proofs.EPS,
                                                                   Fraction(1, 2)),)),))
    with pytest.raises(ValueError, match="undefined") as err:
        proofs.prove(st)
    assert "\n" not in str(err.value)


def test_interval_atanh_ratio_encloses_mpmath():
    x = sp.Symbol("x", real=True)
    with I.precision():
        for n in range(4):
            for lo, hi in ((-0.1, 0.2), (0.3, 0.31), (0.6, 0.61), (-0.3, 0.6), (0.0, 0.0)):
                r = I.atanhc_eval(n, I.ball(lo, hi))
                for v in {lo, hi, 0.5 * (lo + hi)} - {0.0}:
                    with mpmath.workdps(40):
                        exact = mpmath.diff(lambda u: mpmath.atanh(u) / u, mpmath.mpf(v), n)
                    e = I.ball(Fraction(mpmath.nstr(exact, 35)))
                    assert r.lower() - 1e-30 <= e <= r.upper() + 1e-30
        # the compiled function of a wide ball encloses the values at points (BCE's gradient)
        y, p = internal_symbols()
        f = I.compile_expr(sp.diff(get_loss("bce")._internal_expr, p), (y, p))
        box = [I.ball(0.2, 0.3), I.ball(0.01, 0.4)]
        enc = f(box)
        for yy in np.linspace(0.2, 0.3, 5):
            for pp in np.linspace(0.01, 0.4, 7):
                v = float(get_loss("bce").grad(yy, pp))
                assert float(enc.lower()) - 1e-12 <= v <= float(enc.upper()) + 1e-12
