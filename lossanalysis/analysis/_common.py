"""Input handling and constants shared by the analysis modules (private)."""
from __future__ import annotations

import numpy as np

from .._inputs import as_output, unit_interval
from ..losses import Loss, _to_public, get_loss

_EPS = np.finfo(np.float64).eps
# The search interval for a minimizer in p: [P_LO, P_HI] are the extreme floats at which every
# catalogue gradient is finite; a minimizer below P_LO (above P_HI) is reported as 0 (1).
_P_LO = 1e-300
_P_HI = 1.0 - 2.0 ** -53


def _as_loss(loss) -> Loss:
    """A catalogue loss from a name, or the Loss itself; ValueError naming ``loss`` otherwise."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        try:
            return get_loss(loss)
        except ValueError as err:
            raise ValueError(f"loss: {err}") from None
    raise ValueError(f"loss must be a catalogue name or a Loss, got {type(loss).__name__}")


def _targets(y, arg="y", loss: Loss | None = None, open_=False):
    """float64 array of targets in [0, 1] (in (0, 1) for open-domain losses or ``open_``)."""
    by_loss = loss is not None and loss.target_domain == "open"
    why = f" for {loss.name} (its targets must lie strictly inside)" if by_loss else ""
    return unit_interval(y, arg, open_=open_ or by_loss, why=why)


_out = as_output


def _public_fields(result):
    """A frozen result dataclass with every SymPy field in the public symbols."""
    import dataclasses
    changes = {f.name: _to_public(getattr(result, f.name)) for f in dataclasses.fields(result)}
    return dataclasses.replace(result, **changes)
