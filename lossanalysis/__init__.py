"""lossanalysis: why MSE here and binary cross-entropy there, derived and measured.

The loss catalogue (:mod:`lossanalysis.losses`) defines every reconstruction loss once; the
analysis (:mod:`lossanalysis.analysis`) characterizes each as a function of the target
intensity; :mod:`lossanalysis.nn` trains NumPy autoencoders with the same definitions and
:mod:`lossanalysis.experiments` compares the predictions with measurements.

Importing the package is cheap: SymPy is imported only when a symbolic result is asked for, and
the analysis functions (``asymmetry_ratio``, ``argmin``, ...) are loaded on first use.
"""
import importlib

from .losses import LOSSES, Loss, get_loss

__version__ = "0.1.0"
__all__ = ["LOSSES", "Loss", "get_loss", "__version__"]


_SUBMODULES = {"analysis", "claims", "data", "experiments", "losses", "nn", "plotting"}


def __getattr__(name):
    # the analysis functions are re-exported lazily (see lossanalysis.analysis.__all__); a
    # submodule name must fall through to the import system, which then imports it
    if not name.startswith("_") and name not in _SUBMODULES:
        analysis = importlib.import_module(".analysis", __name__)
        if name in analysis.__all__:
            return getattr(analysis, name)
    raise AttributeError(f"module 'lossanalysis' has no attribute {name!r}")


def __dir__():
    analysis = importlib.import_module(".analysis", __name__)
    return sorted(set(globals()) | set(analysis.__all__))
