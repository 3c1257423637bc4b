"""`tf.io.parse_example` / `parse_single_example` over serialized `tf.train.Example`s,
with the feature specs `FixedLenFeature`, `VarLenFeature`, `FixedLenSequenceFeature` and
`SparseFeature`.

One op, ``ParseExampleV2``, parses a batch: its outputs are, in order, (indices, values,
dense_shape) per `VarLenFeature`, one dense value per fixed-length or sequence feature,
then (indices, values, dense_shape) per `SparseFeature`. Examples are read by
`core.example_fast_parse`, which accepts and rejects the same bytes as TF's fast parser
(bounded; a malformed one raises `InvalidArgumentError`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import example_fast_parse as fast, protobuf_wire as wire
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.string_ops import as_bytes_array


class FixedLenFeature(NamedTuple):
    """A feature with ``shape`` values of ``dtype`` in every example (or ``default_value``
    where it is missing)."""

    shape: list
    dtype: object
    default_value: object = None


class VarLenFeature(NamedTuple):
    """A feature with any number of values: parsed into a SparseTensor [batch, max]."""

    dtype: object


class FixedLenSequenceFeature(NamedTuple):
    """A feature with any number of ``shape``-sized entries: parsed into a dense
    [batch, max entries, *shape] tensor padded with ``default_value`` (0 or '')."""

    shape: list
    dtype: object
    allow_missing: bool = False
    default_value: object = None


class SparseFeature(NamedTuple):
    """A SparseTensor [batch, size] from an int64 index feature and a value feature."""

    index_key: object
    value_key: str
    dtype: object
    size: object
    already_sorted: bool = False


_KINDS = {"int64": "int64_list", "float32": "float_list", "string": "bytes_list"}
NP_TYPES = {"int64": np.int64, "float32": np.float32, "string": object}


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def feature_values(example, key, t, k):
    """The values of feature ``key`` (of type name ``t``) in example ``k``, None when
    absent. ``example`` maps names (bytes) to serialized `Feature`s, as `parse_all`
    gives them."""
    feature = example.get(key.encode())
    if feature is None:
        return None
    try:
        kind = fast.feature_kind(feature)
        if kind is not None and kind != _KINDS[t]:
            _mismatch(key, k, kind, t)
        return [] if kind is None else fast.feature_values(feature)
    except wire.DecodeError as e:
        raise _invalid(
            f"Name: <unknown>, Key: {key}, Index: {k}.  Can't parse serialized Example: {e}"
        ) from None


def _mismatch(key, k, kind, t):
    raise _invalid(
        f"Name: <unknown>, Key: {key}, Index: {k}.  Data types don't match. "
        f"Data type: {kind} but expected type: {_KINDS[t]}"
    )


def values_of(feature, key, t, k):
    """The values of the `Feature` ``feature`` (named ``key``, of example ``k``), checked
    to be of type name ``t``."""
    if feature.kind is not None and feature.kind != _KINDS[t]:
        _mismatch(key, k, feature.kind, t)
    return [] if feature.kind is None else feature.value_list.value


def parse_all(serialized, proto=None):
    """Per serialized string, its features as TF's fast parser finds them (a dict of
    name -> serialized `Feature`), or the ``proto`` message when one is given; an
    InvalidArgumentError names the first string that does not parse."""
    out = []
    for k, data in enumerate(serialized):
        try:
            out.append(fast.example_features(data) if proto is None else proto.FromString(data))
        except (wire.DecodeError, ValueError) as e:
            raise _invalid(
                f"Could not parse example input, value: {data[:40]!r} (example {k}: {e})"
            ) from None
    return out


def sparse_from_rows(rows, np_type, width=None):
    """(indices [n, 2], values, dense_shape) of a batch of ``(columns, values)`` rows."""
    n = sum(len(v) for _, v in rows)
    indices = np.zeros((n, 2), np.int64)
    values = np.empty(n, dtype=np_type)
    pos = 0
    for b, (cols, vals) in enumerate(rows):
        indices[pos : pos + len(vals), 0] = b
        indices[pos : pos + len(vals), 1] = cols
        values[pos : pos + len(vals)] = vals
        pos += len(vals)
    if width is None:
        width = max((len(v) for _, v in rows), default=0)
    return indices, values, np.array([len(rows), width], np.int64)


def _single(out):
    """Drops the batch dimension of one parsed example's outputs."""
    if isinstance(out, tuple):
        idx, val, shp = out
        return idx[:, 1:], val, shp[1:]
    return out[0]


@register_op(
    "ParseExampleV2",
    num_outputs=lambda a: (
        3 * len(a["sparse_keys"]) + len(a["dense_keys"]) + 3 * len(a["sparse_features"])
    ),
    infer=lambda i, a: _infer(i, a),
)
def _parse_example(
    serialized,
    *dense_defaults,
    sparse_keys,
    sparse_types,
    dense_keys,
    dense_types,
    dense_shapes,
    dense_sequence,
    sparse_features,
    single=False,
):
    data = as_bytes_array(serialized).reshape(-1)
    examples = parse_all(data)
    varlen, dense, sparse_out = [], [], []
    for key, t in zip(sparse_keys, sparse_types):
        rows = []
        for k, ex in enumerate(examples):
            vals = feature_values(ex, key, t, k) or []
            rows.append((np.arange(len(vals)), vals))
        varlen.append(sparse_from_rows(rows, NP_TYPES[t]))
    for key, t, shape, seq, default in zip(
        dense_keys, dense_types, dense_shapes, dense_sequence, dense_defaults
    ):
        dense.append(dense_from_examples(examples, key, t, tuple(shape), seq, np.asarray(default)))
    for index_key, value_key, t, size, already_sorted in sparse_features:
        rows = []
        for k, ex in enumerate(examples):
            idx = np.asarray(feature_values(ex, index_key, "int64", k) or [], np.int64)
            vals = np.asarray(feature_values(ex, value_key, t, k) or [], dtype=NP_TYPES[t])
            if len(idx) != len(vals):
                raise _invalid(
                    f"SparseFeature {value_key!r}: example {k} has {len(idx)} "
                    f"indices but {len(vals)} values"
                )
            if len(idx) and (idx.min() < 0 or idx.max() >= size):
                raise _invalid(
                    f"SparseFeature {value_key!r}: an index of example {k} is out "
                    f"of range [0, {size}): {idx.tolist()}"
                )
            order = np.arange(len(idx)) if already_sorted else np.argsort(idx, kind="stable")
            rows.append((idx[order], vals[order]))
        sparse_out.append(sparse_from_rows(rows, NP_TYPES[t], width=size))
    if single:
        varlen, dense, sparse_out = (
            [_single(o) for o in group] for group in (varlen, dense, sparse_out)
        )
    return (
        tuple(t[j] for j in range(3) for t in varlen)
        + tuple(dense)
        + tuple(x for triple in sparse_out for x in triple)
    )


def dense_from_examples(examples, key, t, shape, seq, default):
    """The dense [batch, *shape] value of a fixed-length feature ([batch, rows, *shape]
    padded with ``default`` for a sequence feature)."""
    size = int(np.prod(shape, dtype=np.int64))
    found = []
    for k, ex in enumerate(examples):
        vals = feature_values(ex, key, t, k)
        if seq:
            vals = vals or []
            if size == 0 or len(vals) % size:
                raise _invalid(
                    f"Name: <unknown>, Key: {key}, Index: {k}.  Number of values "
                    f"{len(vals)} is not a multiple of the entry size {size} "
                    f"(shape {list(shape)})"
                )
            found.append(np.asarray(vals, dtype=NP_TYPES[t]).reshape((-1,) + shape))
        elif vals is None:
            if default.size == 0:
                raise _invalid(
                    f"Name: <unknown>, Feature: {key} (data type: {t}) is required "
                    "but could not be found."
                )
            found.append(np.broadcast_to(default.astype(NP_TYPES[t]), shape))
        elif len(vals) != size:
            raise _invalid(
                f"Name: <unknown>, Key: {key}, Index: {k}.  Number of {t} values != "
                f"expected.  Values size: {len(vals)} but output shape: "
                f"{list(shape)}"
            )
        else:
            found.append(np.asarray(vals, dtype=NP_TYPES[t]).reshape(shape))
    if not seq:
        return np.stack(found) if found else np.zeros((0,) + shape, NP_TYPES[t])
    rows = max((len(f) for f in found), default=0)
    pad = default.reshape(-1)[0] if default.size else (b"" if t == "string" else 0)
    out = np.full((len(found), rows) + shape, pad, dtype=NP_TYPES[t])
    for b, f in enumerate(found):
        out[b, : len(f)] = f
    return out


def _infer(inputs, attrs):
    d = dims(inputs[0])
    batch = () if attrs.get("single") else ((d or (None,))[0],)
    sp = [(None, len(batch) + 1), (None,), (len(batch) + 1,)]
    out = [(sp[0], dtypes.int64) for _ in attrs["sparse_types"]]
    out += [((None,), dtypes.as_dtype(t)) for t in attrs["sparse_types"]]
    out += [(sp[2], dtypes.int64) for _ in attrs["sparse_types"]]
    out += [
        (batch + ((None,) if seq else ()) + tuple(s), dtypes.as_dtype(t))
        for t, s, seq in zip(attrs["dense_types"], attrs["dense_shapes"], attrs["dense_sequence"])
    ]
    for _, _, t, _, _ in attrs["sparse_features"]:
        out += [(sp[0], dtypes.int64), ((None,), dtypes.as_dtype(t)), (sp[2], dtypes.int64)]
    return out


not_differentiable("ParseExampleV2")


def type_name(dtype, key):
    dt = dtypes.as_dtype(dtype)
    if dt.name not in _KINDS:
        raise ValueError(
            f"Feature {key!r}: unsupported dtype {dt.name}; Example features "
            "are int64, float32 or string"
        )
    return dt.name


def _parse(serialized, features, single, name):
    if not features:
        raise ValueError("Missing: features was empty.")
    sparse_keys, sparse_types, dense_keys, dense_types, dense_shapes, seqs, defaults = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    sparse_features = []
    for key in sorted(features):
        f = features[key]
        if isinstance(f, VarLenFeature):
            sparse_keys.append(key)
            sparse_types.append(type_name(f.dtype, key))
        elif isinstance(f, FixedLenFeature | FixedLenSequenceFeature):
            seq = isinstance(f, FixedLenSequenceFeature)
            if seq and not f.allow_missing:
                raise ValueError(
                    f"Unsupported: FixedLenSequenceFeature requires allow_missing "
                    f"to be True (feature {key!r})."
                )
            t = type_name(f.dtype, key)
            shape = tuple(int(s) for s in f.shape)
            if any(s < 0 for s in shape):
                raise ValueError(f"Feature {key!r}: shape {list(shape)} must be fully defined")
            default = f.default_value
            default = (
                np.zeros(0, NP_TYPES[t])
                if default is None
                else np.asarray(
                    default if t != "string" else as_bytes_array(default), dtype=NP_TYPES[t]
                )
            )
            if not seq and default.size and default.size not in (1, int(np.prod(shape))):
                raise ValueError(
                    f"Feature {key!r}: default_value has {default.size} values, "
                    f"shape {list(shape)} needs {int(np.prod(shape))}"
                )
            dense_keys.append(key)
            dense_types.append(t)
            dense_shapes.append(shape)
            seqs.append(seq)
            defaults.append(array_ops.constant(default, dtype=dtypes.as_dtype(t)))
        elif isinstance(f, SparseFeature):
            if not isinstance(f.index_key, str):
                raise errors.UnimplementedError(
                    None,
                    None,
                    "SparseFeature with several index keys is not supported; use one index_key",
                )
            sparse_features.append(
                (
                    f.index_key,
                    f.value_key,
                    type_name(f.dtype, key),
                    int(f.size),
                    bool(f.already_sorted),
                )
            )
        else:
            raise ValueError(  # noqa: TRY004 (TF's class)
                f"Feature {key!r}: unsupported feature spec {f!r}"
            )
    keys_out = (
        [k for k in sorted(features) if isinstance(features[k], VarLenFeature)]
        + [
            k
            for k in sorted(features)
            if isinstance(features[k], FixedLenFeature | FixedLenSequenceFeature)
        ]
        + [k for k in sorted(features) if isinstance(features[k], SparseFeature)]
    )
    outs = apply_op(
        "ParseExampleV2",
        serialized,
        *defaults,
        sparse_keys=tuple(sparse_keys),
        sparse_types=tuple(sparse_types),
        dense_keys=tuple(dense_keys),
        dense_types=tuple(dense_types),
        dense_shapes=tuple(dense_shapes),
        dense_sequence=tuple(seqs),
        sparse_features=tuple(sparse_features),
        single=single,
        name=name,
    )
    outs = list(outs) if isinstance(outs, tuple | list) else [outs]
    n = len(sparse_keys)
    result = {}
    for j, key in enumerate(keys_out[:n]):
        result[key] = SparseTensor(outs[j], outs[n + j], outs[2 * n + j])
    for j, key in enumerate(keys_out[n : n + len(dense_keys)]):
        result[key] = outs[3 * n + j]
    base = 3 * n + len(dense_keys)
    for j, key in enumerate(keys_out[n + len(dense_keys) :]):
        result[key] = SparseTensor(*outs[base + 3 * j : base + 3 * j + 3])
    return result


def parse_example(serialized, features, name=None, example_names=None):
    """Parses a vector of serialized `tf.train.Example`s into a dict of tensors (dense)
    and SparseTensors, one per key of ``features``.
    ``tf.io.parse_example(serialized, features, name=None, example_names=None)``"""
    d = dims(array_ops.convert_to_tensor(serialized, dtype=dtypes.string))
    if d is not None and len(d) != 1:
        raise ValueError(f"parse_example: serialized must be a vector, got rank {len(d)}")
    return _parse(serialized, features, False, name)


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parses one serialized `tf.train.Example` (a scalar): like `parse_example` without
    the batch dimension. ``tf.io.parse_single_example(serialized, features, name=None,
    example_names=None)``"""
    x = array_ops.convert_to_tensor(serialized, dtype=dtypes.string)
    d = dims(x)
    if d is not None and len(d) != 0:
        raise ValueError(f"parse_single_example: serialized must be a scalar, got rank {len(d)}")
    return _parse(array_ops.reshape(x, [1]), features, True, name)
