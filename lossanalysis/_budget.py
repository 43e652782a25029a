"""The budget of symbolic work on a user's loss: expression size, constants, wall-clock time.

A user's expression can make SymPy's work explode: ``exp(exp(exp(exp(p))))`` differentiated seven
times, ``p**(10**100)`` handed to the polynomial algorithms (dense in the degree), a SymPy
simplification that runs for minutes.  Every symbolic step on a user's loss (construction in
:meth:`lossanalysis.Loss.from_expr` and each analysis of it) runs inside :func:`budget`, which
bounds

* the **size** of every intermediate expression (:func:`checked` after each SymPy step): at most
  :data:`NODES` tree nodes, no exact constant with more than :data:`DIGITS` decimal digits, no
  power of y or p with an integer exponent above :data:`DEGREE`;
* the **wall-clock time** of the whole task: at most :data:`SECONDS`.  Checked between steps, and
  -- in the main thread, when no other ``SIGALRM`` handler or interval timer is installed -- also
  inside a long SymPy call, by a ``setitimer`` alarm.  In other threads only the checks between
  steps apply (a single SymPy call there is not interrupted).

Exceeding a bound raises :class:`SymbolicBudgetError` (a ``ValueError``) with a one-line message
naming the loss and the step; callers either report it or fall back to a numeric route.  A
:func:`soft` section inside a task (a simplification that is only cosmetic) gives up quietly
instead: its caller keeps the unsimplified expression.  The catalogue's own losses are trusted
and run without a budget.  :func:`limits` changes the bounds for a block of code:

>>> from lossanalysis._budget import limits, SECONDS
>>> with limits(seconds=2 * SECONDS):
...     pass                                   # symbolic work here may take twice as long

Nothing here imports SymPy at module load.
"""
from __future__ import annotations

import contextlib
import math
import signal
import threading
import time

__all__ = ["SymbolicBudgetError", "budget", "soft", "checked", "tick", "limits", "active",
           "SECONDS", "NODES", "DIGITS", "DEGREE"]

#: Wall-clock seconds of one symbolic task on a user's loss (construction, one analysis).
SECONDS = 4.0
#: The most tree nodes an intermediate expression may have (shared subtrees counted each time).
NODES = 20_000
#: The most decimal digits of an exact constant (Python refuses to print more than 4,300).
DIGITS = 600
#: The largest integer exponent of a power of y or p (polynomial algorithms are dense in it).
DEGREE = 100_000

_settings = threading.local()


def _limit(name):
    return getattr(_settings, name, None) or globals()[name.upper()]


class SymbolicBudgetError(ValueError):
    """The symbolic work on a user's loss exceeded its budget (size or time); a ``ValueError``
    with a one-line message naming the loss and the step."""


class _Expired(BaseException):
    """Raised by the alarm inside SymPy code; a BaseException so that SymPy's own
    ``except Exception`` clauses do not swallow it."""

    def __init__(self, frame):
        super().__init__()
        self.frame = frame


class _Frame:
    __slots__ = ("what", "deadline", "seconds", "soft")

    def __init__(self, what, seconds, soft):
        self.what = what
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.soft = soft


_local = threading.local()


def _stack():
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def active() -> bool:
    """True inside a :func:`budget` (in this thread)."""
    return bool(_stack())


def _can_alarm():
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal,
                                                                               "setitimer"):
        return False
    try:
        handler = signal.getsignal(signal.SIGALRM)
    except (ValueError, OSError):          # pragma: no cover - not a main interpreter
        return False
    ours = handler is _on_alarm
    return (ours or handler in (signal.SIG_DFL, None)) and \
        (ours or signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


def _on_alarm(signum, frame):
    stack = _stack()
    if not stack or getattr(_local, "exiting", False):
        return
    now = time.monotonic()
    expired = [f for f in stack if f.deadline <= now]
    if expired:
        # ring again soon: an exception raised inside a garbage-collector callback or a
        # finalizer is printed and dropped by Python, and the task must still stop
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        if _in_gc_callback(frame):
            return                        # not here: Python would print and drop it
        raise _Expired(expired[0])        # the outermost expired frame
    _arm(stack)                           # woke early: wait for the nearest deadline


def _in_gc_callback(frame):
    """True inside a garbage-collector callback, a ``__del__`` or a weakref finalizer: Python
    prints and drops an exception raised there."""
    import gc
    codes = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        code = frame.f_code
        if code in codes or code.co_name == "__del__" or code.co_filename.endswith("weakref.py"):
            return True
        frame = frame.f_back
    return False


def _arm(stack):
    if not getattr(_local, "alarm", False):
        return
    if stack:
        left = min(f.deadline for f in stack) - time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def _frame(what, seconds, soft_):
    stack = _stack()
    outermost = not stack
    if outermost:
        _local.alarm = _can_alarm()
        if _local.alarm:
            _local.previous = signal.signal(signal.SIGALRM, _on_alarm)
    frame = _Frame(what, seconds, soft_)
    if stack:       # never later than an enclosing deadline
        frame.deadline = min(frame.deadline, min(f.deadline for f in stack))
    stack.append(frame)
    _arm(stack)
    try:
        yield frame
    finally:
        _local.exiting = True             # the alarm handler does nothing from here on
        try:
            if getattr(_local, "alarm", False):
                signal.setitimer(signal.ITIMER_REAL, 0)
            if frame in stack:
                stack.remove(frame)
            if outermost and getattr(_local, "alarm", False):
                signal.signal(signal.SIGALRM, _local.previous)
                _local.alarm = False
        finally:
            _local.exiting = False
        _arm(stack)


def _timeout_message(frame):
    return (f"{frame.what}: the symbolic work exceeded its time budget of {frame.seconds:g} s "
            "(lossanalysis.symbolic_limits(seconds=...) raises it)")


@contextlib.contextmanager
def budget(what: str, *, enabled: bool = True):
    """Run a symbolic task under the size and time budget; ``what`` starts every message
    (e.g. ``"loss 'custom': the asymmetry"``).  Nested budgets share the outermost deadline.
    ``enabled=False`` (the catalogue's losses) runs without one."""
    if not enabled:
        yield
        return
    try:
        with _frame(what, _limit("seconds"), False):
            yield
    except _Expired as exc:
        raise SymbolicBudgetError(_timeout_message(exc.frame)) from None
    except RecursionError:
        raise SymbolicBudgetError(f"{what}: the expression is nested too deeply for the "
                                  "symbolic work") from None
    except MemoryError:
        raise SymbolicBudgetError(f"{what}: the symbolic work ran out of memory") from None
    except ValueError as err:
        if "Exceeds the limit" in str(err) and "digits" in str(err):
            raise SymbolicBudgetError(f"{what}: a constant grew beyond {_limit('digits')} "
                                      "digits") from None
        raise


@contextlib.contextmanager
def soft(seconds: float):
    """A section that may give up: yields a list; on running out of time (at most ``seconds``,
    never beyond the enclosing budget's deadline) or size, the section is abandoned and the
    list gets the entry ``True``.  Outside a budget it runs unbounded.

    >>> with soft(1.0) as gave_up:
    ...     x = 1
    >>> gave_up
    []
    """
    gave_up = []
    if not active():
        yield gave_up
        return
    stack = _stack()
    outer = stack[0]
    frame = None
    try:
        with _frame(outer.what, seconds, True) as frame:
            yield gave_up
    except _Expired as exc:
        if exc.frame is not frame:
            raise
        gave_up.append(True)
    except SymbolicBudgetError:
        if time.monotonic() >= outer.deadline:
            raise
        gave_up.append(True)
    except RecursionError:
        gave_up.append(True)


def tick(step: str = ""):
    """Raise :class:`SymbolicBudgetError` when the current budget's deadline has passed (a check
    between steps, for threads without the alarm); a no-op outside a budget."""
    stack = _stack()
    if not stack:
        return
    now = time.monotonic()
    for f in stack:
        if f.deadline <= now:
            if f.soft:
                raise _Expired(f)
            raise SymbolicBudgetError(_timeout_message(f))


def checked(expr, step: str):
    """``expr`` after a symbolic step, if it is within the size budget; otherwise
    :class:`SymbolicBudgetError` naming ``step``.  A no-op outside a budget.

    Counts tree nodes (stopping at the bound, so a huge expression costs no more than the
    bound), the digits of exact constants and the integer exponents of powers of symbols."""
    stack = _stack()
    if not stack:
        return expr
    tick(step)
    what = stack[0].what
    nodes, digits, degree = _limit("nodes"), _limit("digits"), _limit("degree")
    bits = digits * math.log2(10)
    todo = [expr]
    count = 0
    while todo:
        node = todo.pop()
        count += 1
        if count > nodes:
            raise SymbolicBudgetError(f"{what}: {step} has more than "
                                      f"{nodes:,} nodes (lossanalysis.symbolic_limits(nodes=...) "
                                      "raises the bound)")
        if getattr(node, "is_Rational", False):
            if max(abs(int(node.p)).bit_length(), int(node.q).bit_length()) > bits:
                raise SymbolicBudgetError(f"{what}: {step} has a constant of more than "
                                          f"{digits} digits")
            continue
        if getattr(node, "is_Pow", False):
            ex = node.exp
            if getattr(ex, "is_Integer", False) and abs(int(ex)) > degree \
                    and node.base.free_symbols:
                raise SymbolicBudgetError(f"{what}: {step} has a power of degree "
                                          f"{_magnitude(int(ex))} (at most {degree:,}; the "
                                          "polynomial algorithms are dense in the degree)")
        todo.extend(getattr(node, "args", ()))
    return expr


def _magnitude(n: int) -> str:
    n = abs(n)
    return f"{n:,}" if n < 10 ** 9 else f"about 10^{len(str(n)) - 1}" if n.bit_length() < 14000 \
        else f"about 2^{n.bit_length()}"


@contextlib.contextmanager
def limits(*, seconds: float | None = None, nodes: int | None = None,
           digits: int | None = None, degree: int | None = None):
    """Change the symbolic budget for a block of code (this thread).

    Parameters
    ----------
    seconds : float, optional
        Wall-clock seconds per task (default :data:`SECONDS`).
    nodes : int, optional
        Most nodes of an intermediate expression (default :data:`NODES`).
    digits : int, optional
        Most decimal digits of an exact constant (default :data:`DIGITS`).
    degree : int, optional
        Largest integer exponent of a power of y or p (default :data:`DEGREE`).

    Examples
    --------
    >>> with limits(seconds=20, nodes=100_000):
    ...     pass
    """
    new = {"seconds": seconds, "nodes": nodes, "digits": digits, "degree": degree}
    for k, v in new.items():
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 \
                or not math.isfinite(v):
            raise ValueError(f"{k} must be a finite number > 0, got {v!r}")
        if k != "seconds" and int(v) != v:
            raise ValueError(f"{k} must be an integer, got {v!r}")
    old = {k: getattr(_settings, k, None) for k in new}
    try:
        for k, v in new.items():
            if v is not None:
                setattr(_settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(_settings, k, v)
