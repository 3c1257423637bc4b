"""Discrete Fourier transforms over the innermost 1, 2 or 3 dimensions (`tf.signal.fft`,
`ifft`, `rfft`, `irfft` and their 2-D / 3-D forms), with TF's gradients written as the
adjoint transforms, so they are differentiable again."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.complex_ops import _TO_COMPLEX, _TO_REAL, complex, real
from miniflow.ops.shape_rules import dims


def _rank_check(inputs, k):
    d = dims(inputs[0])
    if d is not None and len(d) < k:
        raise ValueError(f"Shape must be at least rank {k} but is rank {len(d)}")
    return d


def _complex_infer(k):
    def infer(inputs, attrs):
        d = _rank_check(inputs, k)
        if not inputs[0].dtype.is_complex:
            raise TypeError(
                f"FFT ops take complex64 or complex128 input, got "
                f"{inputs[0].dtype.name}; use tf.signal.rfft for real input"
            )
        return [(d, inputs[0].dtype)]

    return infer


def _axes(k):
    return tuple(range(-k, 0))


for _k, _suffix in ((1, ""), (2, "2D"), (3, "3D")):
    register_op(f"FFT{_suffix}", infer=_complex_infer(_k))(
        lambda x, _k=_k: np.fft.fftn(x, axes=_axes(_k)).astype(x.dtype, copy=False)
    )
    register_op(f"IFFT{_suffix}", infer=_complex_infer(_k))(
        lambda x, _k=_k: np.fft.ifftn(x, axes=_axes(_k)).astype(x.dtype, copy=False)
    )


def _rfft_infer(k):
    def infer(inputs, attrs):
        d = _rank_check(inputs, k)
        if inputs[0].dtype not in _TO_COMPLEX:
            raise TypeError(f"rfft takes float32 or float64 input, got {inputs[0].dtype.name}")
        n = attrs["fft_length"]
        out = None if d is None else d[:-k] + tuple(n[:-1]) + (n[-1] // 2 + 1,)
        return [(out, _TO_COMPLEX[inputs[0].dtype])]

    return infer


def _irfft_infer(k):
    def infer(inputs, attrs):
        d = _rank_check(inputs, k)
        if inputs[0].dtype not in _TO_REAL:
            raise TypeError(
                f"irfft takes complex64 or complex128 input, got {inputs[0].dtype.name}"
            )
        out = None if d is None else d[:-k] + tuple(attrs["fft_length"])
        return [(out, _TO_REAL[inputs[0].dtype])]

    return infer


def _irfftn(x, n, k):
    real = np.float32 if x.dtype == np.complex64 else np.float64
    if 0 in n:  # nothing to transform (NumPy refuses 0 points)
        return np.zeros(x.shape[:-k] + tuple(n), real)
    return np.fft.irfftn(x, s=n, axes=_axes(k)).astype(real, copy=False)


for _k, _suffix in ((1, ""), (2, "2D"), (3, "3D")):
    register_op(f"RFFT{_suffix}", infer=_rfft_infer(_k))(
        lambda x, fft_length=(), _k=_k: np.fft.rfftn(x, s=fft_length, axes=_axes(_k)).astype(
            np.complex64 if x.dtype == np.float32 else np.complex128, copy=False
        )
    )
    register_op(f"IRFFT{_suffix}", infer=_irfft_infer(_k))(
        lambda x, fft_length=(), _k=_k: _irfftn(x, fft_length, _k)
    )


def _size(t, k):
    """The number of points the innermost ``k`` dims hold, as a real scalar tensor."""
    d = dims(t)
    if d is not None and None not in d[-k:]:
        return float(np.prod(d[-k:]))
    n = _math.reduce_prod(_arr.shape(t)[-k:] if k > 1 else _arr.shape(t)[-1])
    return _math.cast(n, dtypes.float64)


def _scale(x, s):
    """x * s for a complex x and a real scalar s (a Python float or a float tensor)."""
    if isinstance(s, float):
        return x * _arr.constant(s, dtype=x.dtype)
    s = _math.cast(s, _TO_REAL[x.dtype])
    return x * complex(s, _arr.zeros_like(s))


def _fft_grads(k, suffix):
    @register_gradient(f"FFT{suffix}")
    def _fft_grad(op, grad):
        """The adjoint of the DFT is N times the inverse DFT."""
        return [_scale(apply_op(f"IFFT{suffix}", grad), _size(grad, k))]

    @register_gradient(f"IFFT{suffix}")
    def _ifft_grad(op, grad):
        size = _size(grad, k)
        return [
            _scale(
                apply_op(f"FFT{suffix}", grad),
                1.0 / size if isinstance(size, float) else 1.0 / size,
            )
        ]

    @register_gradient(f"RFFT{suffix}")
    def _rfft_grad(op, grad):
        """Re(N ifft(g padded to the full spectrum)): the adjoint of the half spectrum."""
        n = op.attrs["fft_length"]
        half = dims(grad)
        missing = n[-1] - n[-1] // 2 - 1
        pads = [[0, 0]] * (len(half) - 1) + [[0, missing]]
        full = _arr.pad(grad, pads)
        return [real(_scale(apply_op(f"IFFT{suffix}", full), float(np.prod(n))))]

    @register_gradient(f"IRFFT{suffix}")
    def _irfft_grad(op, grad):
        """rfft(g) * c / N, c = 2 for the bins that stand for a conjugate pair, else 1."""
        n = op.attrs["fft_length"]
        bins = n[-1] // 2 + 1
        c = np.full([bins], 2.0)
        c[0] = 1.0
        if n[-1] % 2 == 0:
            c[-1] = 1.0
        spectrum = apply_op(f"RFFT{suffix}", grad, fft_length=n)
        weights = _arr.constant(c / np.prod(n), dtype=spectrum.dtype)
        return [spectrum * weights]


for _k, _suffix in ((1, ""), (2, "2D"), (3, "3D")):
    _fft_grads(_k, _suffix)


def _fit(x, lengths, k, what):
    """Crops or zero-pads the innermost ``k`` dims of ``x`` to ``lengths`` (static)."""
    d = dims(x)
    if d is None or None in d[-k:]:
        raise ValueError(f"{what} needs static sizes for its innermost {k} dims")
    have = d[-k:]
    if tuple(have) == tuple(lengths):
        return x
    if any(h > n for h, n in zip(have, lengths)):
        begin = [0] * len(d)
        size = list(d[:-k]) + [min(h, n) for h, n in zip(have, lengths)]
        x = _arr.slice(x, begin, [(-1 if s is None else s) for s in size])
    pads = [[0, 0]] * (len(d) - k) + [[0, max(0, n - h)] for h, n in zip(have, lengths)]
    return _arr.pad(x, pads) if any(p[1] for p in pads) else x


def _lengths(fft_length, x, k, inverse):
    if fft_length is None:
        d = dims(x)
        if d is None or None in d[-k:]:
            raise ValueError("fft_length is required when the input's inner dims are unknown")
        inner = list(d[-k:])
        if inverse:
            inner[-1] = 2 * (inner[-1] - 1)
        return tuple(inner)
    v = (
        _arr.get_static_value(fft_length)
        if not isinstance(fft_length, list | tuple)
        else fft_length
    )
    if v is None:
        raise ValueError("fft_length must be known when the graph is built")
    v = tuple(int(n) for n in np.reshape(v, [-1]))
    if len(v) != k:
        raise ValueError(f"fft_length must have {k} elements, got {list(v)}")
    return v


def _complex_fn(op_type, doc):
    def fn(input, name=None):  # noqa: A002
        return apply_op(op_type, input, name=name)

    fn.__doc__ = doc
    return fn


def _rfft_fn(k, suffix):
    def fn(input_tensor, fft_length=None, name=None):
        x = _arr.convert_to_tensor(input_tensor)
        n = _lengths(fft_length, x, k, inverse=False)
        return apply_op(f"RFFT{suffix}", _fit(x, n, k, "rfft"), fft_length=n, name=name)

    fn.__doc__ = (
        f"The {k}-D DFT of a real signal: the non-negative frequencies of the "
        "innermost dim (crops or zero-pads to ``fft_length``)."
    )
    return fn


def _irfft_fn(k, suffix):
    def fn(input_tensor, fft_length=None, name=None):
        x = _arr.convert_to_tensor(input_tensor)
        n = _lengths(fft_length, x, k, inverse=True)
        bins = tuple(n[:-1]) + (n[-1] // 2 + 1,)
        return apply_op(f"IRFFT{suffix}", _fit(x, bins, k, "irfft"), fft_length=n, name=name)

    fn.__doc__ = f"The inverse of the {k}-D `rfft`: a real signal of ``fft_length`` points."
    return fn


fft = _complex_fn("FFT", "The DFT over the innermost dimension.")
ifft = _complex_fn("IFFT", "The inverse DFT over the innermost dimension.")
fft2d = _complex_fn("FFT2D", "The 2-D DFT over the innermost two dimensions.")
ifft2d = _complex_fn("IFFT2D", "The inverse 2-D DFT over the innermost two dimensions.")
fft3d = _complex_fn("FFT3D", "The 3-D DFT over the innermost three dimensions.")
ifft3d = _complex_fn("IFFT3D", "The inverse 3-D DFT over the innermost three dimensions.")
rfft, rfft2d, rfft3d = (_rfft_fn(k, s) for k, s in ((1, ""), (2, "2D"), (3, "3D")))
irfft, irfft2d, irfft3d = (_irfft_fn(k, s) for k, s in ((1, ""), (2, "2D"), (3, "3D")))
