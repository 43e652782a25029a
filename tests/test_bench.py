"""Smoke tests of scripts/bench.py: its worker and its summary table (no timing is asserted:
speed goals live in the benchmark's printout, not in tests)."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_script", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def numpy_worker_output(real_data):
    bench = _bench()
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        bench.main(["worker", "--lib", "numpy", "--threads", "1", "--models", "vae", "--steps",
                    "3", "--warmup", "1", "--data-dir", real_data])
    return bench, json.loads(buf.getvalue())


def test_numpy_worker_reports_times_flops_and_breakdown(numpy_worker_output):
    _, out = numpy_worker_output
    assert out["lib"] == "numpy" and out["data"] == "mnist" and set(out["load"]) >= {"1min", "cpus"}
    vae = out["models"]["vae"]
    assert vae["flops"] == 419_840_000            # 2 B n_in n_out per product, 11 products
    parts = vae["parts"]
    assert set(parts) == {"step", "matmul", "adam", "loss", "rest", "flops"}
    for key in ("step", "matmul", "adam", "loss"):
        assert parts[key] > 0
    assert out["blas"]["threads"] >= 1


def test_summary_table_takes_per_round_ratios(numpy_worker_output, capsys):
    bench, out = numpy_worker_output
    runs = []
    parts = out["models"]["vae"]["parts"]
    for r, factor in enumerate((1.0, 2.0, 4.0)):
        ours = json.loads(json.dumps(out))
        ours["round"] = r
        # the step's parts differ per round (x1, x3, x2): the table shows their medians (x2)
        ours["models"]["vae"]["parts"] = {k: v if k == "flops" else v * (1, 3, 2)[r]
                                          for k, v in parts.items()}
        theirs = {"lib": "torch", "threads": 1, "split": "off", "round": r,
                  "models": {"vae": {"step": ours["models"]["vae"]["step"] * factor,
                                     "step_cpu": ours["models"]["vae"]["step_cpu"] * factor}}}
        runs += [ours, theirs]
    args = bench._args(["--rounds", "3", "--threads", "1", "--models", "vae"])
    (row,) = bench._summarize(args, runs)
    # per round numpy/torch = 1, 1/2, 1/4: median 1/2, quartiles 3/8 and 3/4
    assert (row["ratio_median"], row["ratio_q1"], row["ratio_q3"]) == pytest.approx((0.5, 0.375,
                                                                                      0.75))
    assert (row["cpu_ratio_median"], row["cpu_ratio_q1"]) == pytest.approx((0.5, 0.375))
    assert row["breakdown_ms"] == pytest.approx({k: 2e3 * parts[k]
                                                 for k in ("matmul", "adam", "loss", "rest")})
    assert capsys.readouterr().out.count("0.50 [0.38-0.75]") == 2     # wall and CPU time


def test_bench_arguments_are_checked(capsys):
    bench = _bench()
    for argv, match in ((["--threads", "0"], "--threads must be positive"),
                        (["--models", "resnet"], "--models: unknown"),
                        (["--rounds", "0"], "--rounds must be >= 1")):
        with pytest.raises(SystemExit) as done:
            bench._args(argv)
        assert done.value.code == 2 and match in capsys.readouterr().err
