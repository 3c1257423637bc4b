"""`tf.io.parse_single_sequence_example` / `parse_sequence_example` over serialized
`tf.train.SequenceExample`s.

Context features are parsed as in `parse_example` (`FixedLenFeature`, `VarLenFeature`).
Sequence features: a `FixedLenSequenceFeature` gives a dense [steps, *shape] tensor (in a
batch: [batch, max steps, *shape] padded with ``default_value``, plus its lengths); a
`VarLenFeature` a SparseTensor [steps, max values] ([batch, steps, values] in a batch).
One op, ``ParseSequenceExampleV2``, parses the batch; its outputs are the context's VarLen
triples and dense values, then the sequences' VarLen triples, dense values and lengths.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.example_proto import SequenceExample
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.example_parsing_ops import (
    NP_TYPES,
    FixedLenFeature,
    FixedLenSequenceFeature,
    VarLenFeature,
    dense_from_examples,
    feature_values,
    parse_all,
    sparse_from_rows,
    type_name,
    values_of,
)
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.string_ops import as_bytes_array


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _steps(example, key, t, k):
    """The per-step value lists of feature list ``key`` of example ``k`` (None: absent)."""
    fl = example.feature_lists.feature_list.get(key)
    if fl is None:
        return None
    return [values_of(f, key, t, k) for f in fl.feature]


def _seq_sparse(examples, key, t):
    """(indices [n, 3], values, shape [batch, max steps, max values])."""
    idx, vals, max_steps, max_width = [], [], 0, 0
    for b, ex in enumerate(examples):
        steps = _steps(ex, key, t, b) or []
        max_steps = max(max_steps, len(steps))
        for s, values in enumerate(steps):
            max_width = max(max_width, len(values))
            idx += [(b, s, j) for j in range(len(values))]
            vals += list(values)
    indices = np.array(idx, np.int64).reshape(-1, 3)
    values = np.empty(len(vals), dtype=NP_TYPES[t])
    values[:] = vals
    return indices, values, np.array([len(examples), max_steps, max_width], np.int64)


def _seq_dense(examples, key, t, shape, allow_missing, default):
    """([batch, max steps, *shape] padded with ``default``, lengths [batch])."""
    size = int(np.prod(shape, dtype=np.int64))
    found = []
    for b, ex in enumerate(examples):
        steps = _steps(ex, key, t, b)
        if steps is None and not allow_missing:
            raise _invalid(
                f"Name: <unknown>, Feature list '{key}' is required but could not "
                "be found.  Did you mean to include it in "
                "feature_list_dense_missing_assumed_empty or "
                "feature_list_dense_defaults?"
            )
        for s, values in enumerate(steps or []):
            if len(values) != size:
                raise _invalid(
                    f"Name: <unknown>, Key: {key}, Index: {s}.  Number of {t} "
                    f"values != expected.  values size: {len(values)} but output "
                    f"shape: {list(shape)}"
                )
        found.append(np.asarray(steps or [], dtype=NP_TYPES[t]).reshape((-1,) + shape))
    rows = max((len(f) for f in found), default=0)
    pad = default.reshape(-1)[0] if default.size else (b"" if t == "string" else 0)
    out = np.full((len(found), rows) + shape, pad, dtype=NP_TYPES[t])
    for b, f in enumerate(found):
        out[b, : len(f)] = f
    return out, np.array([len(f) for f in found], np.int64)


def _drop_batch(triple):
    idx, val, shp = triple
    return idx[:, 1:], val, shp[1:]


@register_op(
    "ParseSequenceExampleV2",
    num_outputs=lambda a: (
        3 * len(a["ctx_sparse"])
        + len(a["ctx_dense"])
        + 3 * len(a["seq_sparse"])
        + len(a["seq_dense"]) * (1 if a["single"] else 2)
    ),
    infer=lambda i, a: _infer(i, a),
)
def _parse_sequence_example(
    serialized, *defaults, ctx_sparse, ctx_dense, seq_sparse, seq_dense, single=False
):
    examples = parse_all(as_bytes_array(serialized).reshape(-1), SequenceExample)
    contexts = [
        {name.encode(): f.SerializeToString() for name, f in ex.context.feature.items()}
        for ex in examples
    ]
    ctx_triples = []
    for key, t in ctx_sparse:
        rows = []
        for k, ex in enumerate(contexts):
            vals = feature_values(ex, key, t, k) or []
            rows.append((np.arange(len(vals)), vals))
        ctx_triples.append(sparse_from_rows(rows, NP_TYPES[t]))
    ctx_values = [
        dense_from_examples(contexts, key, t, tuple(shape), False, np.asarray(defaults[j]))
        for j, (key, t, shape) in enumerate(ctx_dense)
    ]
    seq_triples = [_seq_sparse(examples, key, t) for key, t in seq_sparse]
    seq_pairs = [
        _seq_dense(examples, key, t, tuple(shape), allow, np.asarray(defaults[len(ctx_dense) + j]))
        for j, (key, t, shape, allow) in enumerate(seq_dense)
    ]
    if single:
        ctx_triples = [(idx[:, 1:], val, shp[1:]) for idx, val, shp in ctx_triples]
        ctx_values = [v[0] for v in ctx_values]
        seq_triples = [_drop_batch(tr) for tr in seq_triples]
        seq_pairs = [(v[0], None) for v, _ in seq_pairs]
    out = tuple(tr[j] for j in range(3) for tr in ctx_triples) + tuple(ctx_values)
    out += tuple(tr[j] for j in range(3) for tr in seq_triples)
    out += tuple(v for v, _ in seq_pairs)
    if not single:
        out += tuple(n for _, n in seq_pairs)
    return out


def _infer(inputs, attrs):
    single = attrs["single"]
    batch = () if single else ((dims(inputs[0]) or (None,))[0],)
    out = [((None, len(batch) + 1), dtypes.int64) for _ in attrs["ctx_sparse"]]
    out += [((None,), dtypes.as_dtype(t)) for _, t in attrs["ctx_sparse"]]
    out += [((len(batch) + 1,), dtypes.int64) for _ in attrs["ctx_sparse"]]
    out += [(batch + tuple(s), dtypes.as_dtype(t)) for _, t, s in attrs["ctx_dense"]]
    out += [((None, len(batch) + 2), dtypes.int64) for _ in attrs["seq_sparse"]]
    out += [((None,), dtypes.as_dtype(t)) for _, t in attrs["seq_sparse"]]
    out += [((len(batch) + 2,), dtypes.int64) for _ in attrs["seq_sparse"]]
    out += [(batch + (None,) + tuple(s), dtypes.as_dtype(t)) for _, t, s, _ in attrs["seq_dense"]]
    if not single:
        out += [(batch, dtypes.int64) for _ in attrs["seq_dense"]]
    return out


not_differentiable("ParseSequenceExampleV2")


def _default(value, t, shape, key):
    default = (
        np.zeros(0, NP_TYPES[t])
        if value is None
        else np.asarray(value if t != "string" else as_bytes_array(value), dtype=NP_TYPES[t])
    )
    if default.size and default.size not in (1, int(np.prod(shape))):
        raise ValueError(
            f"Feature {key!r}: default_value has {default.size} values, shape "
            f"{list(shape)} needs {int(np.prod(shape))}"
        )
    return array_ops.constant(default, dtype=dtypes.as_dtype(t))


def _shape(f, key):
    shape = tuple(int(s) for s in f.shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"Feature {key!r}: shape {list(shape)} must be fully defined")
    return shape


def _parse(serialized, context_features, sequence_features, single, name):
    context_features, sequence_features = context_features or {}, sequence_features or {}
    if not context_features and not sequence_features:
        raise ValueError("Missing features.")
    ctx_sparse, ctx_dense, seq_sparse, seq_dense, defaults, seq_defaults = [], [], [], [], [], []
    for key in sorted(context_features):
        f = context_features[key]
        if isinstance(f, VarLenFeature):
            ctx_sparse.append((key, type_name(f.dtype, key)))
        elif isinstance(f, FixedLenFeature):
            t, shape = type_name(f.dtype, key), _shape(f, key)
            ctx_dense.append((key, t, shape))
            defaults.append(_default(f.default_value, t, shape, key))
        else:
            raise ValueError(  # noqa: TRY004 (TF's class)
                f"Unsupported context feature {f!r} for key {key!r}: use FixedLenFeature or "
                "VarLenFeature"
            )
    for key in sorted(sequence_features):
        f = sequence_features[key]
        if isinstance(f, VarLenFeature):
            seq_sparse.append((key, type_name(f.dtype, key)))
        elif isinstance(f, FixedLenSequenceFeature):
            t, shape = type_name(f.dtype, key), _shape(f, key)
            seq_dense.append((key, t, shape, bool(f.allow_missing)))
            seq_defaults.append(_default(f.default_value, t, (1,), key))
        else:
            raise ValueError(  # noqa: TRY004 (TF's class)
                f"Unsupported {type(f).__name__} {f!r} for key {key!r}: sequence features are "
                "FixedLenSequenceFeature or VarLenFeature"
            )
    outs = apply_op(
        "ParseSequenceExampleV2",
        serialized,
        *defaults,
        *seq_defaults,
        ctx_sparse=tuple(ctx_sparse),
        ctx_dense=tuple(ctx_dense),
        seq_sparse=tuple(seq_sparse),
        seq_dense=tuple(seq_dense),
        single=single,
        name=name,
    )
    outs = list(outs) if isinstance(outs, tuple | list) else [outs]
    context, sequences, lengths = {}, {}, {}
    n, pos = len(ctx_sparse), 0
    for j, (key, _) in enumerate(ctx_sparse):
        context[key] = SparseTensor(outs[j], outs[n + j], outs[2 * n + j])
    pos = 3 * n
    for key, _, _ in ctx_dense:
        context[key], pos = outs[pos], pos + 1
    m = len(seq_sparse)
    for j, (key, _) in enumerate(seq_sparse):
        sequences[key] = SparseTensor(outs[pos + j], outs[pos + m + j], outs[pos + 2 * m + j])
    pos += 3 * m
    for key, _, _, _ in seq_dense:
        sequences[key], pos = outs[pos], pos + 1
    if not single:
        for key, _, _, _ in seq_dense:
            lengths[key], pos = outs[pos], pos + 1
    return context, sequences, lengths


def parse_single_sequence_example(
    serialized, context_features=None, sequence_features=None, example_name=None, name=None
):
    """Parses one serialized `tf.train.SequenceExample` into ``(context, sequences)``
    dicts. ``tf.io.parse_single_sequence_example(serialized, context_features=None,
    sequence_features=None, example_name=None, name=None)``"""
    x = array_ops.convert_to_tensor(serialized, dtype=dtypes.string)
    d = dims(x)
    if d is not None and len(d) != 0:
        raise ValueError(f"serialized must be a scalar, got rank {len(d)}")
    context, sequences, _ = _parse(
        array_ops.reshape(x, [1]), context_features, sequence_features, True, name
    )
    return context, sequences


def parse_sequence_example(
    serialized, context_features=None, sequence_features=None, example_names=None, name=None
):
    """Parses a vector of serialized `tf.train.SequenceExample`s into ``(context,
    sequences, lengths)`` dicts; ``lengths`` has the step count of each
    `FixedLenSequenceFeature`. ``tf.io.parse_sequence_example(serialized,
    context_features=None, sequence_features=None, example_names=None, name=None)``"""
    x = array_ops.convert_to_tensor(serialized, dtype=dtypes.string)
    d = dims(x)
    if d is not None and len(d) != 1:
        raise ValueError(f"serialized must be a vector, got rank {len(d)}")
    return _parse(x, context_features, sequence_features, False, name)
