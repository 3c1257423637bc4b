"""Transforms built on the FFT and DCT ops: `tf.signal.stft` / `inverse_stft` (with
`inverse_stft_window_fn`), `mdct` / `inverse_mdct`, and the N-D FFTs over chosen axes
(`fftnd`, `ifftnd`, `rfftnd`, `irfftnd`) composed one axis at a time."""

from __future__ import annotations

import numpy as np

from miniflow.ops import array_ops as _arr, fft_ops, math_ops as _math
from miniflow.ops.manip_ops import reverse
from miniflow.ops.shape_rules import dims
from miniflow.ops.signal_ops import dct, frame, hann_window, overlap_and_add, vorbis_window


def _default_fft_length(frame_length):
    return 1 << (int(frame_length) - 1).bit_length()


def stft(
    signals,
    frame_length,
    frame_step,
    fft_length=None,
    window_fn=hann_window,
    pad_end=False,
    name=None,
):
    """Short-time Fourier transform: rfft of windowed frames, [..., frames, bins]."""
    x = _arr.convert_to_tensor(signals)
    n = _default_fft_length(frame_length) if fft_length is None else int(fft_length)
    frames = frame(x, frame_length, frame_step, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * window_fn(int(frame_length), dtype=x.dtype)
    return fft_ops.rfft(frames, [n], name=name or "stft")


def inverse_stft(
    stfts, frame_length, frame_step, fft_length=None, window_fn=hann_window, name=None
):
    """The inverse of `stft`: irfft of each frame, windowed and overlap-added (use
    `inverse_stft_window_fn` as ``window_fn`` for perfect reconstruction)."""
    s = _arr.convert_to_tensor(stfts)
    frame_length = int(frame_length)
    n = _default_fft_length(frame_length) if fft_length is None else int(fft_length)
    frames = fft_ops.irfft(s, [n])
    if n > frame_length:
        frames = frames[..., :frame_length]
    elif n < frame_length:
        rank = len(dims(frames))
        frames = _arr.pad(frames, [[0, 0]] * (rank - 1) + [[0, frame_length - n]])
    if window_fn is not None:
        frames = frames * window_fn(frame_length, dtype=frames.dtype)
    return overlap_and_add(frames, frame_step, name=name or "inverse_stft")


def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None):
    """A window function that makes `inverse_stft` invert `stft` with
    ``forward_window_fn``: the forward window over the overlap-summed squared window."""
    step = int(frame_step)

    def window_fn(frame_length, dtype):
        length = int(frame_length)
        fwd = forward_window_fn(length, dtype=dtype)
        overlaps = -(-length // step)
        denom = _arr.pad(_math.square(fwd), [[0, overlaps * step - length]])
        denom = _math.reduce_sum(_arr.reshape(denom, [overlaps, step]), 0, keepdims=True)
        denom = _arr.reshape(_arr.tile(denom, [overlaps, 1]), [overlaps * step])
        return _math.truediv(fwd, denom[:length], name=name)

    return window_fn


def mdct(signals, frame_length, window_fn=vorbis_window, pad_end=False, norm=None, name=None):
    """Modified DCT of 50%-overlapping frames (``frame_length`` divisible by 4)."""
    length = int(frame_length)
    if length % 4:
        raise ValueError(f"frame_length must be a multiple of 4, got {length}")
    x = _arr.convert_to_tensor(signals)
    frames = frame(x, length, length // 2, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * window_fn(length, dtype=x.dtype)
    else:
        frames = frames * (1.0 / np.sqrt(2.0))
    q = length // 4
    a, b, c, d = (frames[..., i * q : (i + 1) * q] for i in range(4))
    first = _math.negative(reverse(c, [-1])) - d
    second = a - reverse(b, [-1])
    return dct(_arr.concat([first, second], -1), type=4, norm=norm, name=name or "mdct")


def inverse_mdct(mdcts, window_fn=vorbis_window, norm=None, name=None):
    """The inverse of `mdct`: DCT-IV, unfolding, window and overlap-add."""
    m = _arr.convert_to_tensor(mdcts)
    half = dims(m)[-1]
    if norm is None:
        out = dct(m, type=4) * (0.5 / half)
    elif norm == "ortho":
        out = dct(m, type=4, norm="ortho")
    else:
        raise ValueError(f"norm must be None or 'ortho', got {norm!r}")
    q = half // 2
    p0, p1 = out[..., :q], out[..., q:]
    frames = _arr.concat(
        [
            p1,
            _math.negative(reverse(p1, [-1])),
            _math.negative(reverse(p0, [-1])),
            _math.negative(p0),
        ],
        -1,
    )
    if window_fn is not None:
        frames = frames * window_fn(2 * half, dtype=frames.dtype)
    else:
        frames = frames * (1.0 / np.sqrt(2.0))
    return overlap_and_add(frames, half, name=name or "inverse_mdct")


# -- N-D transforms over chosen axes -------------------------------------------------------


def _nd_axes(x, fft_length, axes):
    rank = len(dims(x))
    if axes is None:
        axes = (
            list(range(rank)) if fft_length is None else list(range(rank - len(fft_length), rank))
        )
    axes = [int(a) % rank for a in axes]
    if fft_length is None:
        return axes, [None] * len(axes)
    if len(fft_length) != len(axes):
        raise ValueError(f"fft_length {list(fft_length)} and axes {axes} differ in length")
    return axes, [int(n) for n in fft_length]


def _along(x, axis, fn):
    """fn applied to the innermost dim after moving ``axis`` there (and back)."""
    rank = len(dims(x))
    if axis == rank - 1:
        return fn(x)
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return _arr.transpose(fn(_arr.transpose(x, perm)), perm)


def _fit_last(x, n):
    if n is None:
        return x
    have = dims(x)[-1]
    if have > n:
        return x[..., :n]
    if have < n:
        return _arr.pad(x, [[0, 0]] * (len(dims(x)) - 1) + [[0, n - have]])
    return x


def _norm_scale(x, axes, norm, inverse):
    """TF / NumPy's norm: 'backward' (default) scales the inverse by 1/N, 'ortho' both by
    1/sqrt(N), 'forward' the forward transform by 1/N."""
    if norm in (None, "backward"):
        return x
    n = float(np.prod([dims(x)[a] for a in axes]))
    if norm == "ortho":
        factor = np.sqrt(n) if inverse else 1.0 / np.sqrt(n)
    elif norm == "forward":
        factor = n if inverse else 1.0 / n
    else:
        raise ValueError(f"norm must be 'backward', 'ortho' or 'forward', got {norm!r}")
    return x * _arr.constant(factor, dtype=x.dtype)


def _complex_nd(input_tensor, fft_length, axes, norm, inverse, name):
    x = _arr.convert_to_tensor(input_tensor)
    axes, lengths = _nd_axes(x, fft_length, axes)
    transform = fft_ops.ifft if inverse else fft_ops.fft
    for a, n in zip(axes, lengths):
        x = _along(x, a, lambda t, n=n: transform(_fit_last(t, n)))
    return _arr.identity(_norm_scale(x, axes, norm, inverse), name=name)


def fftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """The DFT over ``axes`` (default: all, or the last len(fft_length))."""
    return _complex_nd(input_tensor, fft_length, axes, norm, False, name or "fftnd")


def ifftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """The inverse DFT over ``axes``."""
    return _complex_nd(input_tensor, fft_length, axes, norm, True, name or "ifftnd")


def rfftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """The DFT of a real signal over ``axes``; the last axis keeps n // 2 + 1 bins."""
    x = _arr.convert_to_tensor(input_tensor)
    axes, lengths = _nd_axes(x, fft_length, axes)
    last_n = lengths[-1] if lengths[-1] is not None else dims(x)[axes[-1]]
    out = _along(x, axes[-1], lambda t: fft_ops.rfft(t, [last_n]))
    for a, n in zip(axes[:-1], lengths[:-1]):
        out = _along(out, a, lambda t, n=n: fft_ops.fft(_fit_last(t, n)))
    if norm not in (None, "backward"):
        full = [dims(x)[a] if n is None else n for a, n in zip(axes, lengths)]
        factor = float(np.prod(full))
        factor = 1.0 / np.sqrt(factor) if norm == "ortho" else 1.0 / factor
        out = out * _arr.constant(factor, dtype=out.dtype)
    return _arr.identity(out, name=name or "rfftnd")


def irfftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """The inverse of `rfftnd`: real output of ``fft_length`` points per axis."""
    x = _arr.convert_to_tensor(input_tensor)
    axes, lengths = _nd_axes(x, fft_length, axes)
    for a, n in zip(axes[:-1], lengths[:-1]):
        x = _along(x, a, lambda t, n=n: fft_ops.ifft(_fit_last(t, n)))
    last_n = lengths[-1] if lengths[-1] is not None else 2 * (dims(x)[axes[-1]] - 1)
    out = _along(x, axes[-1], lambda t: fft_ops.irfft(t, [last_n]))
    if norm not in (None, "backward"):
        full = [dims(out)[a] for a in axes]
        factor = float(np.prod(full))
        factor = np.sqrt(factor) if norm == "ortho" else factor
        out = out * _arr.constant(factor, dtype=out.dtype)
    return _arr.identity(out, name=name or "irfftnd")
