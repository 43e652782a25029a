"""Shared fixtures.

``real_data``: the folder named by ``LOSSANALYSIS_DATA``, holding ``mnist/`` and
``fashion-mnist/`` with the four standard IDX files each (``.gz`` or not).  Tests on the real
datasets take it; without it they are skipped -- except under CI (the ``CI`` variable set),
where a missing dataset is a failure, so that a broken data set-up cannot pass as green.

BLAS runs on one thread in the test process (set before NumPy is imported), as in the
experiments' worker processes, so that a serial run here and a parallel one give the same bits.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lossanalysis import data  # noqa: E402


def _problem(folder):
    if not folder:
        return "LOSSANALYSIS_DATA is not set"
    missing = [f"{folder}/{name}/{base}[.gz]"
               for name in data.DATASETS
               for split in data.SPLITS for base in data.FILES[split]
               if not any((Path(folder) / name / (base + ext)).is_file() for ext in ("", ".gz"))]
    return ("missing " + ", ".join(missing)) if missing else None


@pytest.fixture(scope="session")
def real_data():
    folder = os.environ.get(data.DATA_ENV)
    problem = _problem(folder)
    if problem:
        message = (f"the real-data tests need MNIST and Fashion-MNIST: {problem}. Set "
                   f"{data.DATA_ENV} to a folder holding mnist/ and fashion-mnist/ "
                   "(CI uses ../shared/data).")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder
