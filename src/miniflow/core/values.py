"""Conversion of Python/NumPy values to arrays with TF's dtype rules."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes


def as_array(value, dtype=None, preferred_dtype=None) -> np.ndarray:
    """Converts ``value`` to an ndarray of ``dtype`` (or TF's default dtype for it).

    Without ``dtype``, ``preferred_dtype`` is tried first and TF's default used when the
    value does not fit it.

    Python floats become float32 and ints int32, as in TF. Strings become object
    arrays of bytes.

    Raises:
        TypeError: the value cannot be represented in ``dtype`` (e.g. 1.5 as int32).
    """
    if dtype is None and preferred_dtype is not None:
        try:
            return as_array(value, preferred_dtype)
        except TypeError:
            pass
    dt = dtypes.from_value(value) if dtype is None else dtypes.as_dtype(dtype)
    if dt is dtypes.string:
        arr = np.asarray(value, dtype=object)
        return np.vectorize(_to_bytes, otypes=[object])(arr) if arr.size else arr
    if isinstance(value, np.ndarray) and value.dtype == dt.np:
        return value
    try:
        src = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Cannot convert {value!r} to a tensor of type {dt.name}: {e}") from None
    if src.dtype.kind in "OSU":
        raise TypeError(
            f"Expected {dt.name}, got {value!r} of type '{type(value).__name__}' instead."
        )
    if dt.is_integer or dt.is_bool:
        if src.dtype.kind == "f" or src.dtype.kind == "c":
            if not np.all(np.isfinite(src)) or np.any(src != np.round(src)):
                raise TypeError(
                    f"Expected {dt.name}, got {value!r} of type '{type(value).__name__}' instead."
                )
    return src.astype(dt.np, copy=False)


def _to_bytes(v):
    return v.encode() if isinstance(v, str) else v
