"""`tf.fingerprint`: a 64-bit FarmHash fingerprint of each row of a tensor, as 8 bytes
(uint8, little-endian), equal to TF's for the same data."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.shape_rules import dims
from miniflow.ops.string_hash import fingerprint64


def _fingerprint_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None and len(d) == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for 'Fingerprint'")
    return [(None if d is None else (d[0], 8), dtypes.uint8)]


def _bytes8(value):
    return np.frombuffer(int(value).to_bytes(8, "little"), dtype=np.uint8)


def _row_fingerprint(row):
    if row.dtype == object or row.dtype.kind in "SU":
        items = [v if isinstance(v, bytes) else str(v).encode() for v in row.ravel()]
        if len(items) == 1:
            return fingerprint64(items[0])
        return fingerprint64(b"".join(fingerprint64(v).to_bytes(8, "little") for v in items))
    return fingerprint64(np.ascontiguousarray(row, row.dtype.newbyteorder("<")).tobytes())


@register_op("Fingerprint", infer=_fingerprint_infer)
def _fingerprint(data, method="farmhash64"):
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("Fingerprint needs data of rank >= 1")
    out = np.zeros((data.shape[0], 8), dtype=np.uint8)
    for i in range(data.shape[0]):
        out[i] = _bytes8(_row_fingerprint(np.asarray(data[i], dtype=data.dtype)))
    return out


not_differentiable("Fingerprint")


def fingerprint(data, method="farmhash64", name=None):
    """The FarmHash64 fingerprint of each ``data[i]`` as an ``[n, 8]`` uint8 tensor.

    Raises:
        ValueError: method is not "farmhash64" or data is a scalar.
    """
    if method != "farmhash64":
        raise ValueError(f"Unsupported fingerprint method: {method}")
    return apply_op("Fingerprint", _arr.convert_to_tensor(data), method=method, name=name)
