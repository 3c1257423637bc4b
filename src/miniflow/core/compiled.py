"""Optional compiled kernels for the library's hot element-wise loops (numba, the
``[fast]`` extra): the fused LSTM cell (`ops/lstm_compiled.py`), the in-place
RMSProp/Adam updates (`core/update_rules.py`) and the Sigmoid/ReLU kernels and their
gradients (`ops/activation_compiled.py`).

Every compiled kernel has a NumPy twin that stays the reference and the fallback, and
callers ask :func:`enabled` on each use, so tests run both paths in one process.
``MINIFLOW_NO_NUMBA=1`` (any value but ``""``/``0``; the switch `miniflow.ml.compiled`
reads too) forces NumPy; without numba NumPy is the only path. numba is imported on the
first call of a compiled kernel, never at import time (it costs ~0.5 s), and machine
code is cached in ``__pycache__`` (``cache=True``).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

__all__ = ["ENV", "enabled", "jit"]

ENV = "MINIFLOW_NO_NUMBA"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _numba():
    try:
        import numba
    except ImportError:
        return None
    return numba


def enabled() -> bool:
    """True when compiled kernels should run: numba importable and the switch not set."""
    return os.environ.get(ENV, "") in ("", "0") and _numba() is not None


class jit:
    """Decorator: ``fn`` compiled by ``numba.njit(cache=True, nogil=True, **options)``
    on its first call (check :func:`enabled` before calling). ``fn`` may call other
    ``jit`` functions of its module by their global names."""

    def __init__(self, fn=None, **options):
        self.py_func, self.options, self._dispatcher = fn, options, None

    def __call__(self, *args):
        if self.py_func is None:  # used as @jit(**options)
            return jit(args[0], **self.options)
        return self.dispatcher()(*args)

    def dispatcher(self):
        """The numba dispatcher (compiled functions this one calls are swapped into its
        globals first, so numba sees dispatchers rather than this wrapper)."""
        if self._dispatcher is None:
            with _lock:
                if self._dispatcher is None:
                    numba = _numba()
                    if numba is None:
                        raise RuntimeError(f"{self.py_func.__name__}: numba is not installed")
                    g = self.py_func.__globals__
                    for name in self.py_func.__code__.co_names:
                        dep = g.get(name)
                        if isinstance(dep, jit) and dep is not self:
                            g[name] = dep._build(numba)
                    self._dispatcher = self._build(numba)
        return self._dispatcher

    def _build(self, numba):
        if self._dispatcher is None:
            opts = {"cache": True, "nogil": True, **self.options}
            self._dispatcher = numba.njit(**opts)(self.py_func)
        return self._dispatcher
