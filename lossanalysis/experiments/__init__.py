"""The experiments: predictions from the analysis, tested by training the NumPy networks.

Each experiment is one module following the protocol of :mod:`.core` (predictions / measure /
figure / text); :mod:`.models` trains the networks two experiments share, :mod:`.parallel` runs
the work in worker processes, :mod:`.registration` writes and checks the predictions before the
measurement, and :mod:`.report` assembles the reports.  Adding an experiment = its module and
one line in :data:`EXPERIMENTS`.
"""
import importlib

__all__ = ["EXPERIMENTS", "module"]

#: (label, module) of every experiment, in report order.
EXPERIMENTS = (
    ("E1", "e1_minimizers"),
    ("E2", "e2_saturation"),
    ("E3", "e3_calibration"),
    ("E4", "e4_asymmetry"),
    ("E5", "e5_vae_scale"),
    ("E6", "e6_continuous_bernoulli"),
    ("E7", "e7_binary_grey"),
    ("E8", "e8_noise_in_loss"),
)


def module(label: str):
    """The module of experiment ``label`` (e.g. "E3").

    >>> module("E2").NAME
    'E2 Saturation'
    """
    names = dict(EXPERIMENTS)
    if label not in names:
        raise ValueError(f"unknown experiment {label!r} (known: {', '.join(names)})")
    return importlib.import_module(f"{__name__}.{names[label]}")
