"""Optional compiled kernels for miniflow.ml's hot loops (the ``[fast]`` extra: numba).

Every kernel has a pure-NumPy twin that stays the reference and the fallback. Callers
ask :func:`enabled` on each use, so the switch can change at run time (tests run both
paths in one process)::

    from miniflow.ml import compiled

    @compiled.kernel
    def _scan(a, out): ...        # plain Python, compiled by numba on first use

    if compiled.enabled():
        _scan(a, out)             # the compiled function
    else:
        numpy_version(a, out)

``MINIFLOW_NO_NUMBA=1`` (any value but ``""``/``0``) forces the NumPy path; without
numba installed it is the only path. The switch and numba's lazy import are the
core's (:mod:`miniflow.core.compiled`), so one variable governs both layers. Kernels
are compiled with ``cache=True`` (machine code kept in ``__pycache__`` beside the
module), and :func:`compile_seconds` reports the time spent
compiling or loading them, so benchmarks can state it apart from the work.
"""

from __future__ import annotations

import threading
import time

from miniflow.core.compiled import ENV, _numba, enabled

__all__ = ["ENV", "enabled", "available", "kernel", "compile_seconds"]

_compile_seconds = 0.0
_lock = threading.Lock()


def available() -> bool:
    """True if numba can be imported (whatever the switch says)."""
    return _numba() is not None


def compile_seconds() -> float:
    """Seconds (wall) spent so far in this process compiling kernels or loading them
    from numba's cache, first calls included."""
    return _compile_seconds


class kernel:
    """Decorator: ``fn`` compiled with ``numba.njit(cache=True, nogil=True)`` on first
    call; calls that compile a new type signature count in :func:`compile_seconds`.

    Calling it without numba raises ``RuntimeError`` (check :func:`enabled` first).
    The Python function stays reachable as ``.py_func``.
    """

    def __init__(self, fn):
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self._dispatcher = None

    def _compiled(self):
        if self._dispatcher is None:
            numba = _numba()
            if numba is None:
                raise RuntimeError(
                    f"{self.__name__}: numba is not installed (pip install miniflow[fast])"
                )
            with _lock:
                if self._dispatcher is None:
                    self._dispatcher = numba.njit(cache=True, nogil=True)(self.py_func)
        return self._dispatcher

    def __call__(self, *args):
        global _compile_seconds
        d = self._compiled()
        known = len(d.overloads)
        t0 = time.perf_counter()
        out = d(*args)
        if len(d.overloads) != known:
            _compile_seconds += time.perf_counter() - t0
        return out
