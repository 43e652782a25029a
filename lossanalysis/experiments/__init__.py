"""The experiments: predictions from the analysis, registered and then tested by training the
NumPy networks, on any image set (``python -m lossanalysis study``).

Each experiment is one module ``eN_name.py`` in the shape of :mod:`.base` (networks,
predictions, measure, figure, findings); the runner (:mod:`.runner`) finds it by its name and
derives every task from its declarations, so adding an experiment is adding its file.
:mod:`.networks` declares the networks several experiments share, :mod:`.parallel` runs the
work in worker processes, :mod:`.study` registers and measures a study under the protocol of
:mod:`lossanalysis.protocol`, and :mod:`.render` writes its report.
"""
__all__ = ["discover"]


def discover(scope: str = "single", stage: str | None = "main") -> list:
    """The experiment modules of this package (``scope`` "single" or "pair"; ``stage`` "main",
    "mechanisms" or None for both), in order.

    >>> [m.LABEL for m in discover()][:2]
    ['E1', 'E2']
    """
    from .runner import PACKAGE, discover as found
    return found(PACKAGE, scope, stage)
