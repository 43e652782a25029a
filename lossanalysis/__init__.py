"""lossanalysis: why MSE here and binary cross-entropy there, derived and measured.

The public API
--------------
Losses (:mod:`lossanalysis.losses`)
    ``LOSSES`` (the catalogue's names), ``get_loss(name, **params)``, ``Loss`` (and
    ``Loss.from_expr`` for a loss of your own, from a string or a SymPy expression), and ``y``,
    ``p``: the SymPy symbols in which every ``Loss.expr`` is written.
Analysis (:mod:`lossanalysis.analysis`)
    Every public function of the analysis, re-exported here: ``asymmetry_ratio``, ``argmin``,
    ``is_proper``, ``noise_bias``, ``gradient_profile``, ``derivations``, ... (the full list is
    ``lossanalysis.__all__``).
Submodules, reachable as attributes after ``import lossanalysis``
    :mod:`~lossanalysis.analysis`, :mod:`~lossanalysis.advise` (which loss for a data set),
    :mod:`~lossanalysis.claims` (the thread's claims and their verdicts), :mod:`~lossanalysis.data` (MNIST, Fashion-MNIST and your own images: ``data.load_images``), :mod:`~lossanalysis.nn`
    (NumPy autoencoders and VAEs), :mod:`~lossanalysis.experiments`,
    :mod:`~lossanalysis.figures` (the analysis figures), :mod:`~lossanalysis.plotting` (the
    figure style), :mod:`~lossanalysis.expressions` (the safe parser of user loss expressions)
    :mod:`~lossanalysis.losses` and :mod:`~lossanalysis.commands` (the ``lossanalysis``
    command line).

Importing the package is cheap: SymPy, SciPy and Matplotlib are imported only when something
needs them; the analysis functions, the symbols and the submodules load on first use.

>>> import lossanalysis as la
>>> la.get_loss("bce").expr.free_symbols == {la.y, la.p}
True
"""
import importlib

from .losses import LOSSES, Loss, get_loss

__version__ = "0.1.0"

#: Names defined by the catalogue (the analysis' names are added to ``__all__`` lazily).
_CATALOGUE_API = ("LOSSES", "Loss", "get_loss", "y", "p")
_SUBMODULES = ("advise", "analysis", "claims", "commands", "data", "experiments", "expressions",
               "figures", "imagesets", "losses", "nn", "plotting", "proofs", "protocol")


def _analysis_names():
    return importlib.import_module(".analysis", __name__).__all__


def __getattr__(name):
    # everything here is lazy, so that `import lossanalysis` imports NumPy only
    if name in ("y", "p"):
        from .losses import symbols
        return symbols()[0 if name == "y" else 1]
    if name in _SUBMODULES:
        return importlib.import_module("." + name, __name__)
    if name == "__all__":
        # computed on access (star-imports and pydoc ask for it), not listed twice by hand
        return [*_CATALOGUE_API, *_analysis_names(), "__version__"]
    if not name.startswith("_"):
        analysis = importlib.import_module(".analysis", __name__)
        if name in analysis.__all__:
            return getattr(analysis, name)
    raise AttributeError(f"module 'lossanalysis' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_CATALOGUE_API) | set(_SUBMODULES)
                  | set(_analysis_names()))
