"""Smoke tests of scripts/bench.py: its worker and its summary table (no timing is asserted:
speed goals live in the benchmark's printout, not in tests)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
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
    for key in ("step", "matmul", "adam", "loss"):
        assert parts[key] > 0 and parts["cpu"][key] > 0
    # step / matmul per interleaved timing round, summarized by median and quartiles
    assert len(parts["ratios"]) == parts["rounds"] >= 3
    assert parts["ratio_q1"] <= parts["ratio"] <= parts["ratio_q3"]
    assert vae["step"] == parts["step"] and vae["bare_matmul"] == parts["matmul"]
    assert out["blas"]["threads"] >= 1
    assert out["cpu"] and out["cpu"] != "unknown"


def test_summary_table_takes_per_round_ratios(numpy_worker_output, capsys):
    bench, out = numpy_worker_output
    runs = []
    for r, factor in enumerate((1.0, 2.0, 4.0)):
        ours = json.loads(json.dumps(out))
        ours["round"] = r
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
    printed = capsys.readouterr().out
    assert printed.count("0.50 [0.38-0.75]") == 2     # wall and CPU time
    # step / matmul: the per-round ratios of all processes pooled; the CPU named
    assert row["step_over_matmul"] == pytest.approx(
        float(np.median([x for r in runs if r["lib"] == "numpy"
                         for x in r["models"]["vae"]["parts"]["ratios"]])))
    assert row["cpu"] == out["cpu"] and f"CPU: {out['cpu']}" in printed


def test_summary_pools_the_step_over_matmul_rounds(numpy_worker_output, capsys):
    bench, out = numpy_worker_output
    runs = []
    for r in range(2):
        ours = json.loads(json.dumps(out))
        ours["round"] = r
        parts = ours["models"]["vae"]["parts"]
        parts["ratios"] = [1.0 + r, 2.0 + r]          # pooled: 1, 2, 2, 3
        parts["cpu"]["ratios"] = [1.5, 1.5]
        runs.append(ours)
    args = bench._args(["--rounds", "2", "--threads", "1", "--models", "vae", "--no-torch"])
    (row,) = bench._summarize(args, runs)
    assert (row["step_over_matmul"], row["step_over_matmul_q1"],
            row["step_over_matmul_q3"]) == pytest.approx((2.0, 1.75, 2.25))
    assert row["step_over_matmul_cpu"] == pytest.approx(1.5)
    assert "torch_ms" not in row
    printed = capsys.readouterr().out
    assert "2.00 [1.75-2.25]" in printed and "Against PyTorch" not in printed


def test_bench_arguments_are_checked(capsys):
    bench = _bench()
    for argv, match in ((["--threads", "0"], "--threads must be positive"),
                        (["--models", "resnet"], "--models: unknown"),
                        (["--rounds", "0"], "--rounds must be >= 1")):
        with pytest.raises(SystemExit) as done:
            bench._args(argv)
        assert done.value.code == 2 and match in capsys.readouterr().err


def test_profile_mode_prints_the_step_line_by_line(capsys):
    bench = _bench()
    bench.main(["profile", "--models", "vae", "--steps", "2", "--warmup", "1", "--top", "8",
                "--threads", "1"])
    printed = capsys.readouterr().out
    assert "CPU: " in printed and "VAE 784-400-20" in printed
    parts = printed.split("per part (sum of its lines' medians, us): ")[1].splitlines()[0]
    totals = dict(p.rsplit(" ", 1) for p in parts.split(", "))
    assert set(totals) == {"matmul", "bias grad 1'dy", "adam", "loss", "rest"}
    assert all(float(v) > 0 for v in totals.values())
    table = printed.split("source\n")[1].split("\n\n")[0].splitlines()
    assert len(table) == 8 and any("np.sqrt(V" in row for row in table)
    assert all(" matmul " in row for row in table if "np.matmul(x, self.params" in row)


def test_step_lines_times_the_package_lines_of_a_step():
    from lossanalysis.nn import AE
    from lossanalysis.nn.profile import step_lines

    out = step_lines(AE((16, 8, 4), seed=0), np.full((4, 16), 0.5, np.float32), steps=3, warmup=1)
    lines = out["lines"]
    assert [r["us"] for r in lines] == sorted((r["us"] for r in lines), reverse=True)
    assert all(r["file"].startswith("lossanalysis") for r in lines)
    # four dense layers (16-8-4-8-16): four forward products per step, each counted once
    fwd = [r for r in lines if r["source"].startswith('y = np.matmul(x, self.params["W"]')]
    assert len(fwd) == 1 and fwd[0]["calls"] == 4 and fwd[0]["function"] == "forward"
    assert out["traced_ms"] > 0 and out["untraced_ms"] > 0
