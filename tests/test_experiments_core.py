"""The experiments' machinery without data: verdicts from intervals, rows, random streams, the
task runner (serial and in worker processes) and the registration file and its comparison.

Every verdict test builds a case whose verdict is known independently (an interval computed by
hand from the closed-form Student-t quantiles of 1 and 2 degrees of freedom) and can fail.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lossanalysis.experiments import registration
from lossanalysis.experiments.core import (CONFIRMED, CONSISTENCY, FALSIFIABLE, INCONCLUSIVE,
                                           NOT_JUDGED, REFUTED, STREAMS, USED_SEEDS, Prediction,
                                           RunConfig, Task, judge, make_row, stream,
                                           stream_entropy, t_interval, training_subset)
from lossanalysis.experiments.parallel import THREAD_VARS, Runner, worker_info


def _p(value=1.0, tol=0.2, comparison="equal", **kw):
    kw.setdefault("kind_reason", "a test")
    return Prediction("X.t", "X", "statement", "quantity", value, tol, comparison, **kw)


def _t975(df):
    """Closed forms of the 97.5% Student-t quantile: Cauchy (df 1), and df 2."""
    p = 0.975
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    raise ValueError(df)


@pytest.mark.parametrize("values", [[1.0, 1.3], [0.2, 0.5, 0.9], [-1.0, 4.0, 2.5]])
def test_interval_is_the_student_t_interval(values):
    v = np.array(values)
    half = _t975(v.size - 1) * np.std(v, ddof=1) / math.sqrt(v.size)
    lo, hi = t_interval(v)
    assert lo == pytest.approx(v.mean() - half, rel=1e-12)
    assert hi == pytest.approx(v.mean() + half, rel=1e-12)


def test_verdicts_follow_the_interval():
    p = _p(1.0, 0.2)
    # a narrow spread inside the band: confirmed; the same mean with a wide spread straddles the
    # band's edge: inconclusive; entirely outside: refuted
    assert judge(p, [1.05, 1.0, 0.95]) == CONFIRMED
    assert judge(p, [1.0, 0.5, 1.5]) == INCONCLUSIVE
    assert judge(p, [2.0, 2.05, 1.95]) == REFUTED
    # the mean alone is inside, but the interval reaches out of the band
    v = np.array([1.15, 1.19, 1.11])
    lo, hi = t_interval(v)
    assert abs(v.mean() - 1.0) < 0.2 and hi > 1.2
    assert judge(p, v) == INCONCLUSIVE
    # one-sided bands: at_least only looks at the lower edge, at_most at the upper
    assert judge(_p(1.0, 0.2, "at_least"), [5.0, 9.0, 7.0]) == CONFIRMED
    assert judge(_p(1.0, 0.2, "at_most"), [5.0, 9.0, 7.0]) == REFUTED
    assert judge(_p(1.0, 0.2, "at_most"), [-5.0, -9.0, -7.0]) == CONFIRMED
    assert judge(_p(1.0, 0.2, "at_least"), [0.5, 0.9, 0.7]) == INCONCLUSIVE


def test_deterministic_single_values_and_undefined_statistics():
    p = _p(1.0, 0.2)
    assert judge(p, [1.1]) == INCONCLUSIVE                  # one seed: no interval
    assert judge(dataclasses.replace(p, deterministic=True), [1.1]) == CONFIRMED
    assert judge(dataclasses.replace(p, deterministic=True), [1.3]) == REFUTED
    assert judge(p, [1.1, 1.1]) == CONFIRMED                # identical: a point interval
    assert t_interval([1.1, 1.1]) == (1.1, 1.1)
    assert judge(p, [1.0, math.nan]) == INCONCLUSIVE
    assert judge(p, []) == INCONCLUSIVE
    # a value exactly on the edge does not turn on the last bit of a float sum
    assert judge(p, [0.1 + 0.7, 0.1 + 0.7]) == CONFIRMED


def test_rows_and_quick_mode():
    p = _p(0.0, 0.5)
    r = make_row(p, [0.1, -0.1, 0.3], [3, 4, 5], notes="n")
    assert r.mean == pytest.approx(0.1) and r.sd == pytest.approx(0.2)
    assert r.verdict == INCONCLUSIVE and r.interval is not None
    q = make_row(p, [0.1, -0.1, 0.3], [3, 4, 5], judged=False)
    assert q.verdict == NOT_JUDGED and q.interval == r.interval
    d = r.to_dict()
    assert d["seeds"] == [3, 4, 5] and d["measurements"] == [0.1, -0.1, 0.3]
    assert d["interval"] == [pytest.approx(v) for v in r.interval]
    assert math.isnan(make_row(p, [math.nan, 1.0], [3, 4]).to_dict()["mean"])
    with pytest.raises(ValueError, match="2 measurements for 3 seeds"):
        make_row(p, [1.0, 2.0], [3, 4, 5])
    # a deterministic row may carry one value and no seed
    assert make_row(dataclasses.replace(p, deterministic=True), [0.2], []).verdict == CONFIRMED
    # a row with nothing measured (E7 in a run of one dataset) gets no verdict, and the
    # report's count line says so apart from the inconclusive ones
    empty = make_row(p, [], [])
    assert empty.verdict == NOT_JUDGED
    from lossanalysis.experiments import report
    line = report.count_line(report.counts([r, empty])[FALSIFIABLE], quick=False)
    assert line.startswith("0 confirmed, 0 refuted, 1 inconclusive, 1 not measured (of 2;")
    assert "not measured" not in report.count_line(report.counts([r])[FALSIFIABLE], False)


@pytest.mark.parametrize("kw,match", [
    ({"comparison": "about"}, "comparison"), ({"kind": "other"}, "kind"),
    ({"kind_reason": " "}, "kind_reason"), ({"value": math.inf}, "finite"),
    ({"tolerance": -1.0}, "tolerance")])
def test_prediction_validation(kw, match):
    args = dict(id="X.t", experiment="X", statement="s", quantity="q", value=1.0, tolerance=0.1,
                kind_reason="r")
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        Prediction(**args)


def test_run_config_validation():
    assert RunConfig(seeds=[3, 4]).seeds == (3, 4)
    for bad, match in (({"seeds": ()}, "at least one"), ({"seeds": (1, 1)}, "repeat"),
                       ({"seeds": (1, -2)}, ">= 0"), ({"seeds": (3,), "extra_seeds": (3,)},
                                                      "differ")):
        with pytest.raises(ValueError, match=match):
            RunConfig(**bad)
    with pytest.raises(TypeError, match="extra"):
        RunConfig(extra=[])


def test_random_streams_are_distinct_and_reproducible():
    seen = {}
    for name in STREAMS:
        for seed in (0, 3):
            e = repr(stream_entropy(name, seed))
            seen.setdefault(e, set()).add(name)
    shared = [names for names in seen.values() if len(names) > 1]
    # only the documented pair shares its entropy (nn's seed convention)
    assert all(names == {"net.init", "net.train"} for names in shared), shared
    assert stream_entropy("net.train", 3, 1) != stream_entropy("net.train", 3, 0)
    a, b = stream("e2.order", 3).random(4), stream("e2.order", 3).random(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, stream("e2.order", 4).random(4))
    with pytest.raises(ValueError, match="unknown random stream"):
        stream("nope")


def test_training_subset_is_fixed_by_its_stream():
    x = np.arange(100.0).reshape(50, 2)
    a = training_subset(x, 10, "subset.ae")
    idx = np.sort(np.random.default_rng(stream_entropy("subset.ae")).choice(50, 10, replace=False))
    np.testing.assert_array_equal(a, x[idx])
    assert not np.array_equal(a, training_subset(x, 10, "subset.vae"))
    np.testing.assert_array_equal(training_subset(x, 60, "subset.ae"), x)


# ----------------------------------------------------------------------------------------------
# The runner
# ----------------------------------------------------------------------------------------------
def _matmul(seed, *, deps):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((60, 40)).astype(np.float32)
    return float((a @ a.T).sum()) + sum(deps.values())


def _tasks():
    return [Task(("a", i), _matmul, (i,), cost=i) for i in range(3)] + [
        Task(("b",), _matmul, (9,), deps=(("a", 0), ("a", 2)))]


def test_runner_dependencies_callbacks_and_duplicates():
    seen = []
    with Runner(workers=1) as r:
        r.add(_tasks())
        r.add([Task(("a", 0), _matmul, (99,))])            # same key: the same work, ignored

        def on_done(task, result):
            seen.append(task.key)
            if task.key == ("b",):
                r.add([Task(("c",), _matmul, (5,), deps=(("b",),))])
        r.run(on_done)
    assert seen.index(("b",)) > max(seen.index(("a", 0)), seen.index(("a", 2)))
    assert ("c",) in r.results and len(r.results) == 5
    assert r.results[("a", 0)] == _matmul(0, deps={})
    with Runner(workers=1) as r2:
        r2.add([Task(("x",), _matmul, (1,), deps=(("missing",),))])
        with pytest.raises(ValueError, match="unknown tasks"):
            r2.run()
    with pytest.raises(ValueError, match="workers"):
        Runner(workers=0)


def test_worker_processes_match_the_serial_run():
    """Two spawned workers, each with one BLAS thread, give the serial results bit for bit."""
    with Runner(workers=1) as serial:
        serial.add(_tasks())
        serial.run()
    with Runner(workers=2) as par:
        par.add(_tasks() + [Task(("info", i), worker_info, cost=0) for i in range(2)])
        par.run()
    for key, value in serial.results.items():
        assert par.results[key] == value, key
    for i in range(2):
        info = par.results[("info", i)]
        assert all(info[v] == "1" for v in THREAD_VARS), info


# ----------------------------------------------------------------------------------------------
# Registration
# ----------------------------------------------------------------------------------------------
def _doc(preds, seeds=(3, 4, 5), extra=(6, 7, 8), settings=None):
    return registration.registration_doc("toy", {"X": {
        "predictions": preds, "settings": settings or {"n": 1, "sizes": (2, 3)},
        "seeds": seeds, "extra_seeds": extra}})


def test_registration_file_is_stable(tmp_path):
    preds = [_p(0.1 + 0.2, 0.05), dataclasses.replace(_p(2.0), id="X.u", kind=CONSISTENCY)]
    a = registration.write(tmp_path / "a.json", _doc(preds)).read_bytes()
    b = registration.write(tmp_path / "b.json", _doc(list(reversed(preds)))).read_bytes()
    assert a == b                                          # order-independent, sorted keys
    doc, sha = registration.read(tmp_path / "a.json")
    assert doc["predictions"]["X.t"]["value"] == 0.3       # 12 significant digits
    import hashlib
    assert sha == hashlib.sha256(a).hexdigest()
    for content, match in (("{", "not valid JSON"), ('{"format": 0}', "not a registration")):
        (tmp_path / "bad.json").write_text(content)
        with pytest.raises(ValueError, match=match):
            registration.read(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="twice"):
        _doc([_p(), _p()])


def test_comparison_with_the_registration():
    p = _p(1.0, 0.2)
    doc = _doc([p, dataclasses.replace(p, id="X.gone")])
    settings = {"X": {"n": 1, "sizes": (2, 3)}}

    def row(pred, seeds=(3, 4, 5)):
        return make_row(pred, [1.0] * len(seeds), seeds)
    rows, missing = registration.compare([row(p)], doc, settings)
    assert rows[0].registered and rows[0].blind and missing == ["X.gone"]
    # a changed value, tolerance or comparison is not the registered prediction
    for change in ({"value": 1.1}, {"tolerance": 0.3}, {"comparison": "at_least"}):
        (r,), _ = registration.compare([row(dataclasses.replace(p, **change))], doc, settings)
        assert not r.registered and not r.blind
        assert next(iter(change)) in r.registration_note
    # a last-bit difference is the same prediction
    (r,), _ = registration.compare([row(dataclasses.replace(p, value=1.0 + 1e-14))], doc,
                                   settings)
    assert r.registered
    (r,), _ = registration.compare([row(dataclasses.replace(p, id="X.new"))], doc, settings)
    assert not r.registered and "not in the registration" in r.registration_note
    (r,), _ = registration.compare([row(p)], doc, {"X": {"n": 2, "sizes": (2, 3)}})
    assert not r.registered and "settings differ" in r.registration_note and "n" in \
        r.registration_note
    (r,), _ = registration.compare([row(p, (3, 4))], doc, settings)
    assert not r.registered and "seeds" in r.registration_note
    (r,), _ = registration.compare([row(p, (3, 4, 5, 6, 7, 8))], doc, settings)
    assert r.registered and r.blind                       # the registered extra seeds
    used = sorted(USED_SEEDS)[:3]
    (r,), _ = registration.compare([row(p, used)], _doc([p], seeds=used), settings)
    assert r.registered and not r.blind
    det = dataclasses.replace(p, deterministic=True)
    (r,), _ = registration.compare([make_row(det, [1.0], [])], _doc([det]), settings,
                                   revised={"X.t"})
    assert r.registered and not r.blind and "seen before" in r.registration_note
    (r,), _ = registration.compare([row(p)], None, settings)
    assert not r.registered and r.registration_note == "no registration file"
    (r,), _ = registration.compare([row(p)], doc, settings, quick=True)
    assert not r.registered and "quick" in r.registration_note
    (r,), _ = registration.compare([row(p)], doc, settings, unregistrable={"X.t": "why"})
    assert not r.registered and r.registration_note == "why"


def test_kinds_are_declared():
    assert FALSIFIABLE != CONSISTENCY
    assert _p(kind=CONSISTENCY).kind == "consistency"
