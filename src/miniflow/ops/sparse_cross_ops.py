"""`tf.sparse.cross` and `tf.sparse.cross_hashed`: per batch row, every combination of
one feature from each input (the first input varying slowest), as TF's SparseCross.

``cross`` joins the features' strings with a separator; ``cross_hashed`` combines their
FarmHash fingerprints (int64 features hash to themselves) with TF's FingerprintCat64,
bit for bit, then takes them modulo ``num_buckets`` (or the largest int64).
"""

from __future__ import annotations

import itertools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, control_flow_ops
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.string_hash import fingerprint64

_M = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TF's FingerprintCat64: combines two 64-bit fingerprints."""
    result = fp1 ^ _MUL
    result ^= (_shift_mix((fp2 * _MUL) & _M) * _MUL) & _M
    result = (result * _MUL) & _M
    result = (_shift_mix(result) * _MUL) & _M
    return _shift_mix(result)


def _as_bytes(v) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode() if not isinstance(v, str) else v.encode()


def _feature_hash(v) -> int:
    if isinstance(v, bytes | str):
        return fingerprint64(_as_bytes(v))
    return int(v) & _M


def _rows(indices, values, shape):
    """The features of each batch row, in the order the entries are stored."""
    batch = int(np.asarray(shape).reshape(-1)[0])
    rows = [[] for _ in range(batch)]
    values = np.asarray(values, dtype=object).reshape(-1)
    idx = np.asarray(indices, np.int64).reshape(values.size, -1) if values.size else ()
    for (row, *_), v in zip(idx, values):
        rows[int(row)].append(v)
    return batch, rows


@register_op(
    "SparseCrossFeatures",
    num_outputs=3,
    infer=lambda i, a: [
        ((None, 2), dtypes.int64),
        ((None,), dtypes.int64 if a["hashed"] else dtypes.string),
        ((2,), dtypes.int64),
    ],
)
def _cross(*parts, hashed=False, num_buckets=0, hash_key=DEFAULT_HASH_KEY, separator="_X_"):
    inputs = [_rows(*parts[k : k + 3]) for k in range(0, len(parts), 3)]
    batch = inputs[0][0]
    if any(b != batch for b, _ in inputs):
        raise errors.InvalidArgumentError(
            None, None, f"Expected batch size {batch} for every input, got {[b for b, _ in inputs]}"
        )
    out_idx, out_vals, width = [], [], 0
    for row in range(batch):
        combos = list(itertools.product(*(rows[row] for _, rows in inputs)))
        width = max(width, len(combos))
        for k, combo in enumerate(combos):
            out_idx.append((row, k))
            if hashed:
                h = hash_key
                for v in combo:
                    h = fingerprint_cat64(h, _feature_hash(v))
                out_vals.append(h % (num_buckets if num_buckets > 0 else (1 << 63) - 1))
            else:
                out_vals.append(separator.encode().join(_as_bytes(v) for v in combo))
    indices = np.array(out_idx, np.int64).reshape(-1, 2)
    values = np.array(out_vals, np.int64 if hashed else object)
    return indices, values, np.array([batch, width], np.int64)


not_differentiable("SparseCrossFeatures")


def _parts(inputs):
    if not isinstance(inputs, list | tuple) or not inputs:
        raise TypeError("Inputs must be a non-empty list of SparseTensors or Tensors")
    # As TF's kernel: the sparse inputs are crossed first, then the dense ones, each group
    # in the given order.
    parts = []
    ordered = [x for x in inputs if isinstance(x, SparseTensor)] + [
        x for x in inputs if not isinstance(x, SparseTensor)
    ]
    for x in ordered:
        if not isinstance(x, SparseTensor):
            x = array_ops.convert_to_tensor(x)
            shape = array_ops.shape(x, out_type=dtypes.int64)
            indices = array_ops.where(array_ops.ones_like(x, dtype=dtypes.bool))
            x = SparseTensor(indices, array_ops.reshape(x, [-1]), shape)
        if x.dtype not in (dtypes.string, dtypes.int64, dtypes.int32):
            raise TypeError(f"Cross inputs must be string or integer, got {x.dtype.name}")
        parts += [x.indices, x.values, x.dense_shape]
    return parts


def sparse_cross(inputs, name=None, separator=None):
    """cross(inputs, name=None, separator=None): string crosses of the inputs' features
    per row, joined by ``separator`` (``"_X_"``)."""
    with control_flow_ops.name_scope(name, "SparseCross"):
        return SparseTensor(
            *apply_op(
                "SparseCrossFeatures",
                *_parts(inputs),
                hashed=False,
                separator="_X_" if separator is None else separator,
            )
        )


def sparse_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """cross_hashed(inputs, num_buckets=0, hash_key=None, name=None): hashed crosses of
    the inputs' features per row, in [0, num_buckets) when ``num_buckets`` > 0."""
    with control_flow_ops.name_scope(name, "SparseCrossHashed"):
        return SparseTensor(
            *apply_op(
                "SparseCrossFeatures",
                *_parts(inputs),
                hashed=True,
                num_buckets=int(num_buckets),
                hash_key=DEFAULT_HASH_KEY if hash_key is None else int(hash_key),
            )
        )
