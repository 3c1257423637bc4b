"""Fractional pooling (`tf.nn.fractional_max_pool`, `fractional_avg_pool`): NHWC pooling
over random regions whose sizes are k or k + 1 (k = floor(pooling ratio)).

The regions come from `FractionalPoolSequences` (random, TF's two generators: "random"
shuffles the sizes, "pseudo-random" places boundaries at ceil(alpha * (i + u))). Given the
boundaries, max pooling is `FractionalMaxPool` (gradient: each output's gradient summed at
its region's first maximum) and average pooling is a product with two averaging
matrices (rows, then columns), so it needs no gradient of its own."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.random_ops import _rng, get_seed
from miniflow.ops.shape_rules import dims


def _out_len(n, ratio):
    return int(np.floor(n / ratio))


def _sequence(rng, n, out, pseudo_random):
    """Cumulative region boundaries [0, ..., n] of ``out`` regions over ``n`` positions."""
    k = n // out
    if pseudo_random:
        alpha = n / out
        u_max = min((k + 2) / alpha - 1, (n + 1 - k) / alpha - (out - 1))
        u = rng.uniform() * u_max
        cum = [1] + [int(np.ceil(alpha * (i + u))) for i in range(1, out)] + [n + 1]
        diff = np.diff(cum)
    else:
        diff = np.full(out, k)
        diff[: n % out] += 1
        rng.shuffle(diff)
    return np.concatenate([[0], np.cumsum(diff)]).astype(np.int64)


def _sequences_infer(inputs, attrs):
    x = dims(inputs[0])
    r = attrs["pooling_ratio"]
    lens = [None if x is None or x[i] is None else _out_len(x[i], r[i]) + 1 for i in (1, 2)]
    return [((lens[0],), dtypes.int64), ((lens[1],), dtypes.int64)]


@register_op(
    "FractionalPoolSequences", infer=_sequences_infer, num_outputs=2, stateful=True, make_state=_rng
)
def _sequences_kernel(
    rng,
    x,
    pooling_ratio=(1.0,) * 4,
    pseudo_random=False,
    seed=None,
    seed2=None,
    seeded_but_random=False,
):
    if seeded_but_random:  # checked when run, as TF's kernel does
        raise errors.InvalidArgumentError(
            None, None, "Both seed and seed2 should be 0 if deterministic is false."
        )
    outs = []
    for axis in (1, 2):
        n, ratio = np.shape(x)[axis], pooling_ratio[axis]
        out = _out_len(n, ratio)
        if out < 1:
            raise errors.InvalidArgumentError(
                None, None, f"pooling_ratio {ratio} is too large for an input of size {n}"
            )
        outs.append(_sequence(rng, n, out, pseudo_random))
    return tuple(outs)


not_differentiable("FractionalPoolSequences")


def _region(seq, i, n, overlapping):
    end = seq[i + 1] if overlapping else seq[i + 1] - 1
    return int(seq[i]), int(min(end, n - 1)) + 1


def _argmax_kernel(x, rows, cols, overlapping=False):
    """Flat index (over the whole input) of each output region's first maximum."""
    n, h, w, c = x.shape
    out = np.zeros((n, len(rows) - 1, len(cols) - 1, c), np.int64)
    b, ch = np.arange(n)[:, None], np.arange(c)[None, :]
    for i in range(len(rows) - 1):
        r0, r1 = _region(rows, i, h, overlapping)
        for j in range(len(cols) - 1):
            c0, c1 = _region(cols, j, w, overlapping)
            block = x[:, r0:r1, c0:c1, :].reshape(n, -1, c)
            k = np.argmax(block, axis=1)  # (n, c), first maximum in row-major order
            y, z = r0 + k // (c1 - c0), c0 + k % (c1 - c0)
            out[:, i, j, :] = ((b * h + y) * w + z) * c + ch
    return out


def _max_infer(inputs, attrs):
    x, r, c = dims(inputs[0]), dims(inputs[1]), dims(inputs[2])
    rows = None if r is None or r[0] is None else r[0] - 1
    cols = None if c is None or c[0] is None else c[0] - 1
    return [
        ((None if x is None else x[0], rows, cols, None if x is None else x[3]), inputs[0].dtype)
    ]


@register_op("FractionalMaxPool", infer=_max_infer)
def _max_kernel(x, rows, cols, overlapping=False):
    idx = _argmax_kernel(x, rows, cols, overlapping)
    return np.asarray(x).reshape(-1)[idx]


register_op("FractionalMaxPoolArgmax", infer=lambda i, a: [(_max_infer(i, a)[0][0], dtypes.int64)])(
    _argmax_kernel
)
not_differentiable("FractionalMaxPoolArgmax")


@register_gradient("FractionalMaxPool")
def _max_grad(op, grad):
    from miniflow.ops.sparse_ops import unsorted_segment_sum

    x, rows, cols = op.inputs
    idx = apply_op("FractionalMaxPoolArgmax", x, rows, cols, **op.attrs)
    flat = unsorted_segment_sum(
        _arr.reshape(grad, [-1]), _arr.reshape(idx, [-1]), _arr.size(x, out_type=dtypes.int64)
    )
    return [_arr.reshape(flat, _arr.shape(x)), None, None]


def _matrix_infer(inputs, attrs):
    s, like = dims(inputs[0]), dims(inputs[1])
    regions = None if s is None or s[0] is None else s[0] - 1
    return [((regions, None if like is None else like[attrs["axis"]]), attrs["dtype"])]


@register_op("FractionalPoolMatrix", infer=_matrix_infer)
def _matrix_kernel(seq, like, axis=1, overlapping=False, dtype=dtypes.float32):
    """[regions, n]: row i averages region i of an axis of length n."""
    n = np.shape(like)[axis]
    m = np.zeros((len(seq) - 1, n), dtype.np)
    for i in range(len(seq) - 1):
        a, b = _region(seq, i, n, overlapping)
        m[i, a:b] = 1.0 / (b - a)
    return m


not_differentiable("FractionalPoolMatrix")


def _check(value, pooling_ratio, deterministic, seed, seed2):
    ratio = [float(r) for r in pooling_ratio]
    if len(ratio) != 4 or ratio[0] != 1.0 or ratio[3] != 1.0:
        raise ValueError(f"pooling_ratio must be [1.0, rows, cols, 1.0], got {ratio}")
    if min(ratio) < 1.0:
        raise ValueError(f"pooling_ratio must be >= 1.0, got {ratio}")
    x = _arr.convert_to_tensor(value)
    if dims(x) is not None and len(dims(x)) != 4:
        raise ValueError(f"value must be rank 4 (NHWC), got rank {len(dims(x))}")
    return x, tuple(ratio)


def _sequences(x, ratio, pseudo_random, deterministic, seed, seed2):
    s1, s2 = (seed, seed2) if deterministic else get_seed(None)
    return apply_op(
        "FractionalPoolSequences",
        x,
        pooling_ratio=ratio,
        pseudo_random=bool(pseudo_random),
        seed=s1,
        seed2=s2,
        seeded_but_random=not deterministic and bool(seed or seed2),
    )


def fractional_max_pool(
    value,
    pooling_ratio,
    pseudo_random=False,
    overlapping=False,
    deterministic=False,
    seed=0,
    seed2=0,
    name=None,
):
    """(max over random k / k+1 regions, row boundaries, column boundaries)."""
    x, ratio = _check(value, pooling_ratio, deterministic, seed, seed2)
    rows, cols = _sequences(x, ratio, pseudo_random, deterministic, seed, seed2)
    return (fractional_max_pool_with_sequences(x, rows, cols, overlapping, name=name), rows, cols)


def fractional_max_pool_with_sequences(
    value, row_pooling_sequence, col_pooling_sequence, overlapping=False, name=None
):
    """Max pooling over the regions the given boundaries define (TF's kernel, given its
    random boundaries)."""
    return apply_op(
        "FractionalMaxPool",
        value,
        _arr.cast(row_pooling_sequence, dtypes.int64),
        _arr.cast(col_pooling_sequence, dtypes.int64),
        overlapping=bool(overlapping),
        name=name,
    )


def fractional_avg_pool(
    value,
    pooling_ratio,
    pseudo_random=False,
    overlapping=False,
    deterministic=False,
    seed=0,
    seed2=0,
    name=None,
):
    """(mean over random k / k+1 regions, row boundaries, column boundaries)."""
    x, ratio = _check(value, pooling_ratio, deterministic, seed, seed2)
    rows, cols = _sequences(x, ratio, pseudo_random, deterministic, seed, seed2)
    return (fractional_avg_pool_with_sequences(x, rows, cols, overlapping, name=name), rows, cols)


def fractional_avg_pool_with_sequences(
    value, row_pooling_sequence, col_pooling_sequence, overlapping=False, name=None
):
    """Average pooling over the regions the given boundaries define."""
    from miniflow.ops.control_flow_ops import name_scope

    with name_scope(name, "FractionalAvgPool"):
        x = _arr.convert_to_tensor(value)
        kw = dict(overlapping=bool(overlapping), dtype=x.dtype)
        r = apply_op(
            "FractionalPoolMatrix", _arr.cast(row_pooling_sequence, dtypes.int64), x, axis=1, **kw
        )
        c = apply_op(
            "FractionalPoolMatrix", _arr.cast(col_pooling_sequence, dtypes.int64), x, axis=2, **kw
        )
        y = _math.matmul(_arr.transpose(x, [0, 2, 3, 1]), r, transpose_b=True)  # [N, W, C, R]
        y = _math.matmul(_arr.transpose(y, [0, 3, 2, 1]), c, transpose_b=True)  # [N, R, C, S]
        return _arr.transpose(y, [0, 1, 3, 2])
