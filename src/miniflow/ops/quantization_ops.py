"""Quantization ops: Quantize/Dequantize between float32 and the quantized dtypes,
QuantizeAndDequantize (straight-through gradients) and QuantizedConcat; each kernel
follows TF's CPU kernel arithmetic (float32 or double as TF computes it). Fake
quantization is in `fake_quant_ops`."""

from __future__ import annotations

import collections

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.shape_rules import dims

_F32 = np.float32


# -- quantized <-> plain integer arrays --------------------------------------------------


def as_int(x):
    """A quantized (structured) array as its plain integer array."""
    x = np.asarray(x)
    return x[x.dtype.names[0]] if x.dtype.names else x


def as_quantized(values, dtype):
    """Plain integers as an array of quantized ``dtype`` (values already in range)."""
    base = dtype.np.fields[dtype.name][0]
    return np.ascontiguousarray(np.asarray(values).astype(base)).view(dtype.np)


def int_limits(dtype):
    info = np.iinfo(dtype.np.fields[dtype.name][0])
    return int(info.min), int(info.max)


def round_half_away(x):
    """std::round: halves away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _invalid(msg):
    return errors.InvalidArgumentError(None, None, msg)


# -- quantize / dequantize ----------------------------------------------------------------

_MODES = ("MIN_COMBINED", "MIN_FIRST", "SCALED")


def _check_mode(mode, round_mode=None):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if round_mode not in (None, "HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"):
        raise ValueError(
            f"round_mode must be 'HALF_AWAY_FROM_ZERO' or 'HALF_TO_EVEN', got {round_mode!r}"
        )


def _steps(T):
    lo, hi = int_limits(T)
    return hi - lo + 1, lo, hi


def float_to_quantized(x, range_min, range_max, T):
    """TF's scalar FloatToQuantized: double arithmetic, clamped to T's range."""
    steps, lo, hi = _steps(T)
    if range_min == range_max:
        return np.zeros(np.shape(x), np.int64) + lo
    rng = (float(range_max) - float(range_min)) * (steps / (steps - 1.0))
    scale = steps / rng
    q = (
        round_half_away(np.asarray(x, np.float64) * scale)
        - round_half_away(float(range_min) * scale)
        + lo
    )
    return np.clip(q, lo, hi).astype(np.int64)


def quantize_min_first(x, range_min, range_max, T):
    """TF's QUANTIZE_WITH_EIGEN (MIN_FIRST tensors): float32 arithmetic."""
    steps, lo, hi = _steps(T)
    range_min, range_max = _F32(range_min), _F32(range_max)
    scale = _F32(0.0 if range_max == range_min else (steps - 1.0) / float(range_max - range_min))
    min_scaled = _F32(round_half_away(range_min * scale))
    q = round_half_away(np.asarray(x, _F32) * scale) - (min_scaled - _F32(lo))
    lower, upper = max(_F32(lo), _F32(-2.147483648e9)), min(_F32(hi), _F32(2.147483520e9))
    return np.minimum(np.maximum(q, lower), upper).astype(np.int64)


def dequantize_min_first(q, range_min, range_max, T):
    """TF's DEQUANTIZE_WITH_EIGEN (MIN_FIRST tensors): float32 arithmetic, range_min
    rounded to a whole step."""
    steps, lo, _ = _steps(T)
    range_min, range_max = _F32(range_min), _F32(range_max)
    scale = _F32(float(range_max - range_min) / (steps - 1.0))
    min_rounded = (
        range_min
        if range_max == range_min
        else _F32(round_half_away(float(range_min) / float(scale)) * float(scale))
    )
    offset = _F32(min_rounded - _F32(lo) * scale)
    return (offset + np.asarray(q).astype(_F32) * scale).astype(_F32)


def _quantize_slice(x, in_min, in_max, T, mode, round_mode, narrow_range, ensure_min):
    if in_max < in_min:
        raise _invalid("input_max_range must be larger than input_min_range.")
    lo, hi = int_limits(T)
    in_min, in_max = _F32(in_min), _F32(in_max)
    mn = min(_F32(0), in_min)
    eps = _F32(max(_F32(1), max(abs(in_min), abs(in_max))) * _F32(ensure_min))
    mx = max(_F32(0), max(in_max, _F32(mn + eps)))
    x = np.asarray(x, _F32)
    if mode == "MIN_FIRST":
        return quantize_min_first(x, mn, mx, T), mn, mx
    if mode == "MIN_COMBINED":
        scale = _F32((float(hi) - float(lo)) / (mx - mn))
        shifted = (np.minimum(np.maximum(x, mn), mx) - mn) * scale
        if lo < 0:
            return round_half_away(shifted - _F32((hi - lo + 1) / 2.0)), mn, mx
        return np.floor(shifted + _F32(0.5)), mn, mx
    qlo = lo + (1 if narrow_range else 0)
    big = np.finfo(_F32).max
    from_min = _F32(qlo / mn) if qlo * mn > 0 else big
    from_max = _F32(hi / mx) if hi * mx > 0 else big
    scale = min(from_min, from_max)
    mn, mx = _F32(qlo / scale), _F32(hi / scale)
    scaled = np.minimum(np.maximum(x, mn), mx) * scale
    q = np.rint(scaled) if round_mode == "HALF_TO_EVEN" else round_half_away(scaled)
    return q, mn, mx


def _quantize(
    x,
    min_range,
    max_range,
    T=None,
    mode="MIN_COMBINED",
    round_mode="HALF_AWAY_FROM_ZERO",
    narrow_range=False,
    axis=-1,
    ensure_minimum_range=0.01,
):
    if round_mode == "HALF_TO_EVEN" and mode != "SCALED":  # TF checks it in the kernel
        raise _invalid(
            f"Round mode 'HALF_TO_EVEN' is only supported for mode 'SCALED', but mode is '{mode}'."
        )
    x = np.asarray(x, _F32)
    mins, maxs = np.asarray(min_range, _F32), np.asarray(max_range, _F32)
    args = (T, mode, round_mode, narrow_range, ensure_minimum_range)
    if axis == -1:
        if mins.size != 1 or maxs.size != 1:
            raise _invalid(
                "min_range and max_range must be scalars without axis, got shapes "
                f"{list(mins.shape)} and {list(maxs.shape)}"
            )
        q, mn, mx = _quantize_slice(x, mins.reshape(-1)[0], maxs.reshape(-1)[0], *args)
        out_min, out_max = np.asarray(mn, _F32), np.asarray(mx, _F32)
    else:
        if mode == "MIN_FIRST":
            raise errors.UnimplementedError(
                None, None, "MIN_FIRST mode is not implemented for Quantize with axis != -1."
            )
        n = x.shape[axis]
        if mins.shape != (n,) or maxs.shape != (n,):
            raise _invalid(
                f"min_range and max_range must have shape [{n}] (dimension "
                f"{axis} of the input), got {list(mins.shape)} and "
                f"{list(maxs.shape)}"
            )
        q = np.empty(x.shape, np.float64)
        out_min, out_max = np.empty(n, _F32), np.empty(n, _F32)
        for i in range(n):
            sl = (slice(None),) * axis + (i,)
            q[sl], out_min[i], out_max[i] = _quantize_slice(x[sl], mins[i], maxs[i], *args)
    return as_quantized(_cast_like_tf(q, T), T), out_min, out_max


def _cast_like_tf(q, T):
    """Eigen's float -> T cast: values past qint32's range become INT32_MIN (x86's
    conversion), as TF's MIN_COMBINED does with qint32 at the top of the range."""
    lo, hi = int_limits(T)
    if T == dtypes.qint32:
        q = np.asarray(q, np.float64)
        return np.where((q >= 2.0**31) | (q < -(2.0**31)), lo, q)
    return np.clip(q, lo, hi)


def _minmax_shape(inputs, attrs):
    if attrs["axis"] == -1:
        return ()
    x = dims(inputs[0])
    return (None if x is None else x[attrs["axis"]],)


def _quantize_infer(inputs, attrs):
    if inputs[0].dtype != dtypes.float32:
        raise TypeError(f"quantize takes a float32 input, got {inputs[0].dtype.name}")
    if not attrs["T"].is_quantized:
        raise TypeError(f"quantize: T must be a quantized type, got {attrs['T'].name}")
    m = _minmax_shape(inputs, attrs)
    return [(dims(inputs[0]), attrs["T"]), (m, dtypes.float32), (m, dtypes.float32)]


def _dequantize(
    q, min_range, max_range, mode="MIN_COMBINED", narrow_range=False, axis=-1, dtype=None
):
    T = dtypes.as_dtype(np.asarray(q).dtype.names[0])
    qi = as_int(q).astype(np.float64)
    mins, maxs = np.asarray(min_range, _F32).reshape(-1), np.asarray(max_range, _F32).reshape(-1)
    if axis == -1:
        return _dequantize_slice(qi, mins[0], maxs[0], T, mode, narrow_range)
    out = np.empty(qi.shape, _F32)
    for i in range(qi.shape[axis]):
        sl = (slice(None),) * axis + (i,)
        out[sl] = _dequantize_slice(qi[sl], mins[i], maxs[i], T, mode, narrow_range)
    return out


def _dequantize_slice(q, mn, mx, T, mode, narrow_range):
    lo, hi = int_limits(T)
    if mode == "MIN_FIRST":
        return dequantize_min_first(q, mn, mx, T)
    q = q.astype(_F32)
    if mode == "MIN_COMBINED":
        scale = _F32((mx - mn) / _F32(hi - lo))
        half = _F32(0) if lo == 0 else _F32((hi - lo + 1) / 2.0)
        return ((q + half) * scale + mn).astype(_F32)
    qlo = lo + (1 if narrow_range else 0)
    scale = _F32(mx / _F32(hi)) if lo == 0 else max(_F32(mn / _F32(qlo)), _F32(mx / _F32(hi)))
    return (q * scale).astype(_F32)


def _dequantize_infer(inputs, attrs):
    if not inputs[0].dtype.is_quantized:
        raise TypeError(f"dequantize takes a quantized input, got {inputs[0].dtype.name}")
    return [(dims(inputs[0]), dtypes.float32)]


register_op("QuantizeV2", num_outputs=3, infer=_quantize_infer)(_quantize)
register_op("Dequantize", infer=_dequantize_infer)(_dequantize)
not_differentiable("QuantizeV2", "Dequantize")


def _axis_attr(input, axis):  # noqa: A002  TF's argument name
    if axis is None:
        return -1
    axis = int(axis)
    if axis < 0:
        rank = _arr.convert_to_tensor(input).shape.ndims
        if rank is None:
            raise ValueError("input should have known rank to use negative axis.")
        axis %= rank
    return axis


QuantizeV2 = collections.namedtuple("QuantizeV2", ["output", "output_min", "output_max"])


def quantize_v2(
    input,
    min_range,
    max_range,
    T,
    mode="MIN_COMBINED",  # noqa: A002, N803
    name=None,
    round_mode="HALF_AWAY_FROM_ZERO",
    narrow_range=False,
    axis=None,
    ensure_minimum_range=0.01,
):
    """(output, output_min, output_max): float32 ``input`` quantized to dtype ``T``."""
    _check_mode(mode, round_mode)
    input = _arr.convert_to_tensor(input, dtype=dtypes.float32)  # noqa: A001
    return QuantizeV2(
        *apply_op(
            "QuantizeV2",
            input,
            _f32(min_range),
            _f32(max_range),
            T=dtypes.as_dtype(T),
            mode=mode,
            round_mode=round_mode,
            narrow_range=bool(narrow_range),
            axis=_axis_attr(input, axis),
            ensure_minimum_range=float(ensure_minimum_range),
            name=name,
        )
    )


def quantize(
    input,
    min_range,
    max_range,
    T,
    mode="MIN_COMBINED",  # noqa: A002, N803
    round_mode="HALF_AWAY_FROM_ZERO",
    name=None,
    narrow_range=False,
    axis=None,
    ensure_minimum_range=0.01,
):
    """(output, output_min, output_max): float32 ``input`` quantized to dtype ``T``."""
    return quantize_v2(
        input,
        min_range,
        max_range,
        T,
        mode=mode,
        name=name,
        round_mode=round_mode,
        narrow_range=narrow_range,
        axis=axis,
        ensure_minimum_range=ensure_minimum_range,
    )


def dequantize(
    input,
    min_range,
    max_range,
    mode="MIN_COMBINED",
    name=None,  # noqa: A002
    axis=None,
    narrow_range=False,
    dtype=dtypes.float32,
):
    """The float32 values that quantized ``input`` stands for in [min_range, max_range]."""
    _check_mode(mode)
    if dtypes.as_dtype(dtype) != dtypes.float32:
        raise TypeError(
            f"dequantize: dtype must be float32 (bfloat16 is not supported), "
            f"got {dtypes.as_dtype(dtype).name}"
        )
    input = _arr.convert_to_tensor(input)  # noqa: A001
    return apply_op(
        "Dequantize",
        input,
        _f32(min_range),
        _f32(max_range),
        mode=mode,
        narrow_range=bool(narrow_range),
        axis=_axis_attr(input, axis),
        name=name,
    )


def _f32(x):
    return _arr.convert_to_tensor(x, dtype=dtypes.float32)


# -- quantize and dequantize --------------------------------------------------------------


def _qdq_slice(x, mn, mx, signed_input, num_bits, range_given, round_mode, narrow_range):
    dt = x.dtype.type
    if not range_given:
        mn, mx = (x.min(), x.max()) if x.size else (dt(0), dt(0))
    mn, mx = dt(mn), dt(mx)
    if signed_input:
        qmin = -(1 << (num_bits - 1)) + (1 if narrow_range else 0)
        qmax = (1 << (num_bits - 1)) - 1
    else:
        qmin, qmax = 0, (1 << num_bits) - 1
    big = np.finfo(dt).max
    from_min = dt(qmin / mn) if qmin * mn > 0 else big
    from_max = dt(qmax / mx) if qmax * mx > 0 else big
    if from_min < from_max:
        scale, inv = from_min, dt(mn / dt(qmin))
        mx = dt(qmax * inv)
    else:
        scale, inv = from_max, dt(mx / dt(qmax))
        mn = dt(qmin * inv)
    if range_given:
        x = np.minimum(np.maximum(x, mn), mx)
    scaled = x * scale
    rounded = np.rint(scaled) if round_mode == "HALF_TO_EVEN" else np.floor(scaled + dt(0.5))
    return (rounded * inv).astype(dt)


def _qdq(
    x,
    input_min,
    input_max,
    signed_input=True,
    num_bits=8,
    range_given=False,
    round_mode="HALF_TO_EVEN",
    narrow_range=False,
    axis=-1,
):
    x = np.asarray(x)
    if not 1 <= num_bits <= (63 if signed_input else 62):
        raise _invalid(f"num_bits is out of range: {num_bits} with signed_input {signed_input}")
    mins = np.asarray(input_min, x.dtype).reshape(-1)
    maxs = np.asarray(input_max, x.dtype).reshape(-1)
    if range_given and (np.ndim(input_min) != 0 or np.ndim(input_max) != 0):
        raise _invalid(
            "input_min must be a scalar." if np.ndim(input_min) else "input_max must be a scalar."
        )  # TF's check, even with an axis
    if range_given and np.any(mins > maxs):
        raise _invalid(f"Invalid range: input_min {mins.tolist()} > input_max {maxs.tolist()}")
    args = (signed_input, num_bits, range_given, round_mode, narrow_range)
    if axis == -1:
        return _qdq_slice(x, mins[0], maxs[0], *args)
    out = np.empty_like(x)
    for i in range(x.shape[axis]):
        sl = (slice(None),) * axis + (i,)
        j = i if range_given or mins.size > 1 else 0
        out[sl] = _qdq_slice(x[sl], mins[j], maxs[j], *args)
    return out


def _qdq_v4_grad(g, x, input_min, input_max, axis=-1):
    x = np.asarray(x)
    mn, mx = np.asarray(input_min, x.dtype), np.asarray(input_max, x.dtype)
    if axis != -1:
        shape = [1] * x.ndim
        shape[axis] = -1
        mn, mx = mn.reshape(shape), mx.reshape(shape)
    inside = (x >= mn) & (x <= mx)
    zero = x.dtype.type(0)
    return (
        np.where(inside, g, zero).astype(x.dtype),
        np.zeros(np.shape(input_min), x.dtype),
        np.zeros(np.shape(input_max), x.dtype),
    )


def _qdq_infer(inputs, attrs):
    if not inputs[0].dtype.is_floating:
        raise TypeError(f"quantize_and_dequantize takes a float input, got {inputs[0].dtype.name}")
    return [(dims(inputs[0]), inputs[0].dtype)]


register_op("QuantizeAndDequantizeV2", infer=_qdq_infer)(_qdq)
register_op("QuantizeAndDequantizeV4", infer=_qdq_infer)(_qdq)
register_op(
    "QuantizeAndDequantizeV4Grad",
    num_outputs=3,
    infer=lambda i, a: [(dims(t), i[0].dtype) for t in i[:3]],
)(_qdq_v4_grad)
not_differentiable("QuantizeAndDequantizeV4Grad")


@register_gradient("QuantizeAndDequantizeV2")
def _v2_grad(op, grad):
    """Straight-through: the gradient passes unchanged (TF's rule for V2)."""
    return [grad, None, None]


@register_gradient("QuantizeAndDequantizeV4")
def _v4_grad(op, grad):
    """Straight-through inside [input_min, input_max], zero outside."""
    return list(apply_op("QuantizeAndDequantizeV4Grad", grad, *op.inputs, axis=op.attrs["axis"]))


def _qdq_call(
    op_type,
    input,
    input_min,
    input_max,
    signed_input,
    num_bits,  # noqa: A002
    range_given,
    round_mode,
    name,
    narrow_range,
    axis,
):
    if round_mode not in ("HALF_TO_EVEN", "HALF_UP"):
        raise ValueError(f"round_mode must be 'HALF_TO_EVEN' or 'HALF_UP', got {round_mode!r}")
    input = _arr.convert_to_tensor(input)  # noqa: A001
    return apply_op(
        op_type,
        input,
        _arr.convert_to_tensor(input_min, dtype=input.dtype),
        _arr.convert_to_tensor(input_max, dtype=input.dtype),
        signed_input=bool(signed_input),
        num_bits=int(num_bits),
        range_given=bool(range_given),
        round_mode=round_mode,
        narrow_range=bool(narrow_range),
        axis=_axis_attr(input, axis),
        name=name,
    )


def quantize_and_dequantize(
    input,
    input_min,
    input_max,
    signed_input=True,  # noqa: A002
    num_bits=8,
    range_given=False,
    round_mode="HALF_TO_EVEN",
    name=None,
    narrow_range=False,
    axis=None,
):
    """Quantizes then dequantizes ``input`` (straight-through gradient)."""
    return _qdq_call(
        "QuantizeAndDequantizeV2",
        input,
        input_min,
        input_max,
        signed_input,
        num_bits,
        range_given,
        round_mode,
        name,
        narrow_range,
        axis,
    )


def quantize_and_dequantize_v2(
    input,
    input_min,
    input_max,
    signed_input=True,  # noqa: A002
    num_bits=8,
    range_given=False,
    round_mode="HALF_TO_EVEN",
    name=None,
    narrow_range=False,
    axis=None,
):
    """As quantize_and_dequantize; the gradient is zero outside [input_min, input_max]."""
    return _qdq_call(
        "QuantizeAndDequantizeV4",
        input,
        input_min,
        input_max,
        signed_input,
        num_bits,
        range_given,
        round_mode,
        name,
        narrow_range,
        axis,
    )


# -- quantized concat ---------------------------------------------------------------------


def _quantized_concat(*args, n=1, axis=0):
    values, mins, maxs = args[:n], args[n : 2 * n], args[2 * n :]
    T = dtypes.as_dtype(np.asarray(values[0]).dtype.names[0])
    if T not in (dtypes.quint8, dtypes.qint32):
        raise _invalid(
            f"QuantizedConcat has kernels for quint8 and qint32 only (as TF's "
            f"CPU kernels), got {T.name}"
        )
    ranges = [
        (_F32(np.asarray(a).reshape(-1)[0]), _F32(np.asarray(b).reshape(-1)[0]))
        for a, b in zip(mins, maxs)
    ]
    out_min = min(_F32(0), min(r[0] for r in ranges))
    out_max = max(r[1] for r in ranges)
    if int_limits(T)[0] < 0:
        largest = max(abs(out_min), abs(out_max))
        out_min, out_max = -largest, largest
    pieces = []
    for v, (mn, mx) in zip(values, ranges):
        q = as_int(v)
        if (mn, mx) != (out_min, out_max):
            q = quantize_min_first(dequantize_min_first(q, mn, mx, T), out_min, out_max, T)
        pieces.append(q)
    return (
        as_quantized(np.concatenate(pieces, axis=axis), T),
        np.asarray(out_min, _F32),
        np.asarray(out_max, _F32),
    )


def _quantized_concat_infer(inputs, attrs):
    values, axis = inputs[: attrs["n"]], attrs["axis"]
    ds = [dims(t) for t in values]
    out = None
    if all(d is not None for d in ds):
        if len({len(d) for d in ds}) != 1 or not 0 <= axis < len(ds[0]):
            raise ValueError(
                f"quantized_concat: inputs must have one rank and concat_dim "
                f"{axis} in range, got shapes {[list(d) for d in ds]}"
            )
        col = [d[axis] for d in ds]
        out = ds[0][:axis] + (None if None in col else sum(col),) + ds[0][axis + 1 :]
    return [(out, values[0].dtype), ((), dtypes.float32), ((), dtypes.float32)]


register_op("QuantizedConcat", num_outputs=3, infer=_quantized_concat_infer)(_quantized_concat)
not_differentiable("QuantizedConcat")


def quantized_concat(concat_dim, values, input_mins, input_maxes, name=None):
    """(output, output_min, output_max): quantized tensors joined, requantized to the
    union of their ranges (symmetric around 0 for signed types)."""
    values = [_arr.convert_to_tensor(v) for v in values]
    if not (len(values) == len(input_mins) == len(input_maxes)) or len(values) < 2:
        raise ValueError(
            f"quantized_concat needs at least 2 values and one min and max "
            f"each, got {len(values)} values, {len(input_mins)} mins and "
            f"{len(input_maxes)} maxes"
        )
    axis = int(_math_constant(concat_dim))
    return tuple(
        apply_op(
            "QuantizedConcat",
            *values,
            *map(_f32, input_mins),
            *map(_f32, input_maxes),
            n=len(values),
            axis=axis,
            name=name,
        )
    )


def _math_constant(x):
    value = x if isinstance(x, (int, np.integer)) else _arr.get_static_value(x)
    if value is None:
        raise ValueError("quantized_concat: concat_dim must be a constant")
    return np.asarray(value).reshape(-1)[0]
