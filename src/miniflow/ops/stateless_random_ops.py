"""Stateless random ops (`tf.random.stateless_*`, `split`, `fold_in`): the output is a
pure function of a shape-[2] ``seed``, bit for bit TF's on CPU.

TF draws them from Philox4x32-10: the seed pair is scrambled into a key and a 128-bit
counter (one Philox call on the seed under a fixed key), then each call of the counter
gives four 32-bit words. Uniform floats take the mantissa bits of one word (two for
float64); normals are Box-Muller pairs; a truncated normal redraws out-of-range pairs
from a generator that TF skips by 256 calls per group of outputs, so each group is
independent of how many redraws the others needed.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, math_ops
from miniflow.ops.array_ops import _int_tensor, _shape_from_tensor
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.shape_rules import dims

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_LOW = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)


def philox(counters, key):
    """Philox4x32-10 of uint32 ``counters`` [n, 4] under ``key`` (k0, k1): uint32 [n, 4]."""
    c = [counters[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for _ in range(10):
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [
            ((p1 >> _32) ^ c[1] ^ k0) & _LOW,
            p1 & _LOW,
            ((p0 >> _32) ^ c[3] ^ k1) & _LOW,
            p0 & _LOW,
        ]
        k0, k1 = (k0 + _W0) & _LOW, (k1 + _W1) & _LOW
    return np.stack(c, axis=1).astype(np.uint32)


def _counters(start, n, skip=0):
    """The n 128-bit counters following ``start`` (uint64 words [4]) skipped by each of
    ``skip`` (a count or counts), as uint32 [len(skip) * n, 4]."""
    lo = start[0] | (start[1] << _32)
    hi = start[2] | (start[3] << _32)
    steps = np.add.outer(
        np.ravel(np.asarray(skip, np.uint64)), np.arange(n, dtype=np.uint64)
    ).reshape(-1)
    new_lo = lo + steps
    new_hi = hi + (new_lo < lo).astype(np.uint64)
    return np.stack([new_lo & _LOW, new_lo >> _32, new_hi & _LOW, new_hi >> _32], axis=-1).astype(
        np.uint32
    )


def key_counter(seed):
    """TF's scramble of a seed pair into a Philox key (k0, k1) and counter words [4]."""
    s = np.asarray(seed).reshape(-1)
    if s.shape != (2,):
        raise errors.InvalidArgumentError(
            None, None, f"seed must have shape [2], not {list(np.shape(seed))}"
        )
    s0, s1 = (int(v) & 0xFFFFFFFFFFFFFFFF for v in s)
    ctr = np.array([[s0 & 0xFFFFFFFF, s0 >> 32, s1 & 0xFFFFFFFF, s1 >> 32]], np.uint32)
    mix = philox(ctr, (0x3EC8F720, 0x02461E29))[0]
    return (mix[0], mix[1]), np.array([0, 0, mix[2], mix[3]], np.uint64)


def random_bits(kc, n):
    """The first ``n`` 32-bit words of the stream of a (key, counter) pair."""
    key, ctr = kc
    return philox(_counters(ctr, (n + 3) // 4), key).reshape(-1)[:n]


def state_key_counter(key, counter):
    """(key, counter) words from TF2's uint64 key [1] and counter [2] (int64 here)."""
    k = int(np.asarray(key).reshape(-1)[0]) & 0xFFFFFFFFFFFFFFFF
    c = [int(v) & 0xFFFFFFFFFFFFFFFF for v in np.asarray(counter).reshape(-1)[:2]]
    return (
        (np.uint32(k & 0xFFFFFFFF), np.uint32(k >> 32)),
        np.array([c[0] & 0xFFFFFFFF, c[0] >> 32, c[1] & 0xFFFFFFFF, c[1] >> 32], np.uint64),
    )


def _to_float(words):
    return ((words & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)).view(np.float32) - np.float32(1)


def _to_double(hi, lo):
    bits = (
        (np.uint64(1023) << np.uint64(52))
        | ((hi.astype(np.uint64) & np.uint64(0xFFFFF)) << _32)
        | lo.astype(np.uint64)
    )
    return bits.view(np.float64) - 1.0


def _to_half(words):
    bits = np.uint16(15 << 10) | (words & np.uint32(0x3FF)).astype(np.uint16)
    return bits.view(np.float16) - np.float16(1)


def _box_muller(w, double):
    """Box-Muller normals from words: float32 pairs from 2 words, float64 from 4."""
    if double:
        u1 = _to_double(w[0::4], w[1::4])
        v1 = 2.0 * np.pi * _to_double(w[2::4], w[3::4])
        u1 = np.maximum(u1, 1e-7)
        r = np.sqrt(-2 * np.log(u1))
        return np.stack([np.sin(v1) * r, np.cos(v1) * r], axis=1).reshape(-1)
    # float32 like TF, but log/sin/cos rounded from float64: TF's (Eigen's) float32
    # polynomials differ from NumPy's by an ulp or two either way.
    f32 = np.float32
    u1 = np.maximum(_to_float(w[0::2]), f32(1e-7)).astype(np.float64)
    v1 = (f32(2.0 * np.pi) * _to_float(w[1::2])).astype(np.float64)
    r = np.sqrt((-2 * np.log(u1)).astype(f32))
    return np.stack([np.sin(v1).astype(f32) * r, np.cos(v1).astype(f32) * r], axis=1).reshape(-1)


def _uniform_values(kc, n, dtype):
    if dtype == dtypes.float64:
        w = random_bits(kc, 2 * n)
        return _to_double(w[0::2], w[1::2])
    w = random_bits(kc, n)
    return _to_half(w) if dtype == dtypes.float16 else _to_float(w)


def _normal_values(kc, n, dtype):
    double = dtype == dtypes.float64
    w = random_bits(kc, (n + 1) // 2 * (4 if double else 2))  # a pair per 2 (4) words
    return _box_muller(w, double)[:n].astype(dtype.np)


def _truncated_values(kc, n, dtype):
    """Groups of 4 outputs (2 for float64), each from its own generator skipped by 256
    (128) Philox calls; candidates beyond 2 standard deviations are dropped."""
    double = dtype == dtypes.float64
    group, skip = (2, 128) if double else (4, 256)
    key, ctr = kc
    groups = -(-n // group)
    out = np.empty((groups, group), np.float64 if double else np.float32)
    calls = 4  # Philox calls per group tried at once; enough almost always
    words = philox(_counters(ctr, calls, skip * np.arange(groups, dtype=np.uint64)), key).reshape(
        groups, -1
    )
    for g in range(groups):
        w, got, used = words[g], [], calls
        while True:
            cand = _box_muller(w, double)
            got = cand[np.abs(cand) < 2.0][:group]
            if len(got) == group:
                break
            used *= 2
            w = philox(_counters(ctr, used, skip * g), key).reshape(-1)
        out[g] = got
    return out.reshape(-1)[:n].astype(dtype.np)


def _uniform_int(kc, n, dtype, lo, hi):
    if lo >= hi:
        raise errors.InvalidArgumentError(None, None, f"Need minval < maxval: {lo} >= {hi}")
    if dtype.size == 8:
        w = random_bits(kc, 2 * n).astype(np.uint64)
        bits, rng = w[0::2] | (w[1::2] << _32), np.uint64(hi - lo)
    else:
        bits, rng = random_bits(kc, n), np.uint32(hi - lo)
    return (np.asarray(lo, np.int64) + (bits % rng).astype(np.int64)).astype(dtype.np)


def _full_int(kc, n, dtype):
    if dtype.size == 8:
        w = random_bits(kc, 2 * n).astype(np.uint64)
        return (
            (w[0::2] | (w[1::2] << _32)).view(np.int64).astype(dtype.np, copy=False)
            if dtype == dtypes.int64
            else w[0::2] | (w[1::2] << _32)
        )
    return random_bits(kc, n).view(dtype.np)


def _infer(inputs, attrs):
    seed = dims(inputs[1])
    if attrs.get("v2") is None and seed is not None and seed != (2,) and None not in seed:
        raise ValueError(
            f"Shape must be [2] for the seed of a stateless random op, got {list(seed)}"
        )
    return [(_shape_from_tensor(inputs[0]), attrs["dtype"])]


_DRAW = {
    "StatelessRandomUniform": lambda kc, n, d: _uniform_values(kc, n, d).astype(d.np),
    "StatelessRandomNormal": _normal_values,
    "StatelessTruncatedNormal": _truncated_values,
    "StatelessRandomUniformFullInt": _full_int,
}


def _kernels(op_type, draw):
    """``op_type`` on a seed pair, and ``op_type``V2 on TF2's (key, counter, alg)."""

    def v1(shape, seed, *bounds, dtype=None):
        shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
        return draw(key_counter(seed), int(np.prod(shape)), dtype, *bounds).reshape(shape)

    def v2(shape, key, counter, alg, *bounds, dtype=None, v2=True):
        shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
        return draw(state_key_counter(key, counter), int(np.prod(shape)), dtype, *bounds).reshape(
            shape
        )

    register_op(op_type, infer=_infer)(v1)
    register_op(op_type + "V2", infer=_infer)(v2)
    not_differentiable(op_type, op_type + "V2")


for _type, _draw in _DRAW.items():
    _kernels(_type, _draw)
_kernels(
    "StatelessRandomUniformInt", lambda kc, n, d, lo, hi: _uniform_int(kc, n, d, int(lo), int(hi))
)


def _multinomial_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None and len(d) != 2:
        raise ValueError(f"logits must be [batch_size, num_classes], got rank {len(d)}")
    n = array_ops._const_value(inputs[1])
    return [((d[0] if d else None, None if n is None else int(n)), attrs["output_dtype"])]


@register_op("StatelessMultinomial", infer=_multinomial_infer)
def _stateless_multinomial(logits, num_samples, seed, output_dtype=None):
    """Inverse CDF on float64 cumulative weights; each sample takes two words (the rows
    one after the other, as TF's single-shard CPU kernel)."""
    logits = np.asarray(logits, np.float64)
    batch, classes = logits.shape
    n = int(num_samples)
    if n and batch and not classes:
        raise errors.InvalidArgumentError(None, None, "num_classes should be positive, got 0")
    w = random_bits(key_counter(seed), 2 * batch * n).reshape(batch, n, 2)
    out = np.zeros((batch, n), output_dtype.np)
    for b in range(batch):
        row = logits[b]
        finite = np.isfinite(row)
        top = row[finite].max() if finite.any() else 0.0
        cdf = np.cumsum(np.where(finite, np.exp(row - top), 0.0))
        u = _to_double(w[b, :, 0], w[b, :, 1]) * cdf[-1]
        out[b] = np.minimum(np.searchsorted(cdf, u, side="right"), classes - 1)
    return out


not_differentiable("StatelessMultinomial")


def _seed(seed):
    s = array_ops.convert_to_tensor(seed)
    if not s.dtype.is_integer:
        raise TypeError(f"seed must be an int32 or int64 tensor, got {s.dtype.name}")
    return s


def stateless_random_uniform(
    shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None, alg="auto_select"
):
    """stateless_uniform(shape, seed, minval=0, maxval=None, dtype=tf.float32, name=None):
    uniform values in [minval, maxval), a function of ``seed`` only; integer dtypes need
    both bounds, or neither for the full range."""
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "stateless_random_uniform") as scope:
        shape, seed = _int_tensor(shape), _seed(seed)
        if dtype.is_integer:
            if (minval is None) != (maxval is None):
                raise ValueError(
                    f"For integer dtype {dtype}, minval and maxval must be both "
                    f"`None` or both non-`None`; got minval={minval} and maxval={maxval}."
                )
            if minval is None:
                return apply_op(
                    "StatelessRandomUniformFullInt", shape, seed, dtype=dtype, name=scope
                )
            return apply_op(
                "StatelessRandomUniformInt",
                shape,
                seed,
                array_ops.convert_to_tensor(minval, dtype=dtype),
                array_ops.convert_to_tensor(maxval, dtype=dtype),
                dtype=dtype,
                name=scope,
            )
        if not dtype.is_floating:
            raise ValueError(f"Invalid dtype {dtype.name} for stateless_random_uniform")
        rnd = apply_op("StatelessRandomUniform", shape, seed, dtype=dtype)
        if maxval is None:
            maxval = 1
        lo = array_ops.convert_to_tensor(minval, dtype=dtype, name="min")
        hi = array_ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        return math_ops.add(rnd * (hi - lo), lo, name=scope)


def stateless_random_normal(
    shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None, alg="auto_select"
):
    """stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=tf.float32, name=None)."""
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "stateless_random_normal") as scope:
        rnd = apply_op("StatelessRandomNormal", _int_tensor(shape), _seed(seed), dtype=dtype)
        return math_ops.add(
            rnd * array_ops.convert_to_tensor(stddev, dtype=dtype),
            array_ops.convert_to_tensor(mean, dtype=dtype),
            name=scope,
        )


def stateless_truncated_normal(
    shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None, alg="auto_select"
):
    """stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=tf.float32,
    name=None): normals redrawn beyond two standard deviations."""
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "stateless_truncated_normal") as scope:
        rnd = apply_op("StatelessTruncatedNormal", _int_tensor(shape), _seed(seed), dtype=dtype)
        return math_ops.add(
            rnd * array_ops.convert_to_tensor(stddev, dtype=dtype),
            array_ops.convert_to_tensor(mean, dtype=dtype),
            name=scope,
        )


def stateless_categorical(logits, num_samples, seed, dtype=dtypes.int64, name=None):
    """stateless_categorical(logits, num_samples, seed, dtype=tf.int64, name=None): class
    indices drawn from each row of unnormalized log-probabilities."""
    with name_scope(name, "stateless_categorical") as scope:
        return apply_op(
            "StatelessMultinomial",
            array_ops.convert_to_tensor(logits),
            array_ops.convert_to_tensor(num_samples, dtype=dtypes.int32),
            _seed(seed),
            output_dtype=dtypes.as_dtype(dtype),
            name=scope,
        )


def stateless_multinomial(logits, num_samples, seed, output_dtype=dtypes.int64, name=None):
    """stateless_multinomial(logits, num_samples, seed, output_dtype=tf.int64, name=None):
    the TF1 name of `stateless_categorical`."""
    with name_scope(name, "stateless_multinomial") as scope:
        return apply_op(
            "StatelessMultinomial",
            array_ops.convert_to_tensor(logits),
            array_ops.convert_to_tensor(num_samples, dtype=dtypes.int32),
            _seed(seed),
            output_dtype=dtypes.as_dtype(output_dtype),
            name=scope,
        )


def split(seed, num=2, alg="auto_select"):
    """split(seed, num=2): ``num`` new seeds [num, 2] derived from ``seed``."""
    seed = _seed(seed)
    return stateless_random_uniform([num, 2], seed, dtype=seed.dtype, minval=None, maxval=None)


def fold_in(seed, data, alg="auto_select"):
    """fold_in(seed, data): a new seed combining ``seed`` with the integer ``data``."""
    data = array_ops.convert_to_tensor(data)
    first = stateless_random_uniform([], _seed(seed), dtype=data.dtype, minval=None, maxval=None)
    return array_ops.stack([first, data])
