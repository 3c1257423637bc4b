"""`tf.signal` parts that are exact compositions of existing ops (so no gradient rows):
windows, `frame`, `overlap_and_add`, `fftshift`, DCT types I-IV (a matmul with the DCT
matrix), the mel filterbank and MFCCs. The FFTs are in `fft_ops`, STFT/MDCT in
`spectral_ops`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.manip_ops import roll
from miniflow.ops.shape_rules import dims


def _window(length, periodic, a, dtype, name):
    n = int(length)
    if n == 1:
        w = np.ones([1])
    else:
        denom = n if periodic else n - 1
        w = a - (1 - a) * np.cos(2 * np.pi * np.arange(n) / denom)
    return _arr.constant(w, dtype=dtype, name=name)


def hann_window(window_length, periodic=True, dtype=dtypes.float32, name=None):
    """0.5 - 0.5 cos(2 pi n / N) (N = length if periodic, else length - 1)."""
    return _window(window_length, periodic, 0.5, dtype, name or "hann_window")


def hamming_window(window_length, periodic=True, dtype=dtypes.float32, name=None):
    """0.54 - 0.46 cos(2 pi n / N)."""
    return _window(window_length, periodic, 0.54, dtype, name or "hamming_window")


def kaiser_window(window_length, beta=12.0, dtype=dtypes.float32, name=None):
    """I0(beta sqrt(1 - r^2)) / I0(beta), r running from -1 to 1 over the window."""
    n = int(window_length)
    if n == 1:
        return _arr.constant(np.ones([1]), dtype=dtype, name=name or "kaiser_window")
    half = (n - 1) / 2.0
    r = (np.arange(n) - half) / half
    w = np.i0(beta * np.sqrt(np.maximum(0.0, 1.0 - r * r))) / np.i0(beta)
    return _arr.constant(w, dtype=dtype, name=name or "kaiser_window")


def kaiser_bessel_derived_window(window_length, beta=12.0, dtype=dtypes.float32, name=None):
    """The Kaiser-Bessel-derived window (for MDCTs): sqrt of a normalized cumulative Kaiser
    window, mirrored."""
    half = int(window_length) // 2
    k = (
        np.i0(
            beta
            * np.sqrt(
                np.maximum(0.0, 1.0 - ((np.arange(half + 1) - half / 2.0) / (half / 2.0)) ** 2)
            )
        )
        if half
        else np.ones([1])
    )
    csum = np.cumsum(k)
    halfw = np.sqrt(csum[:-1] / csum[-1])
    return _arr.constant(
        np.concatenate([halfw, halfw[::-1]]),
        dtype=dtype,
        name=name or "kaiser_bessel_derived_window",
    )


def vorbis_window(window_length, dtype=dtypes.float32, name=None):
    """sin(pi/2 sin^2(pi (n + 1/2) / N)): the power-complementary window of Vorbis."""
    n = int(window_length)
    w = np.sin(np.pi / 2 * np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2)
    return _arr.constant(w, dtype=dtype, name=name or "vorbis_window")


def _static_len(x, axis, what):
    n = (dims(x) or (None,))[axis] if dims(x) else None
    if n is None:
        raise ValueError(f"{what} needs a static size along axis {axis}")
    return n


def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None):
    """Overlapping frames of ``frame_length`` samples every ``frame_step`` along ``axis``."""
    x = _arr.convert_to_tensor(signal)
    rank = len(dims(x))
    axis = axis % rank
    n = _static_len(x, axis, "frame")
    length, step = int(frame_length), int(frame_step)
    if pad_end:
        count = -(-n // step)
        extra = max(0, (count - 1) * step + length - n)
        pads = [[0, 0]] * rank
        pads[axis] = [0, extra]
        x = _arr.pad(x, pads, constant_values=pad_value)
    else:
        count = max(0, 1 + (n - length) // step) if n >= length else 0
    index = (np.arange(count)[:, None] * step + np.arange(length)[None, :]).astype(np.int32)
    return _arr.gather(x, index, axis=axis, name=name or "frame")


def overlap_and_add(signal, frame_step, name=None):
    """Sums frames [..., frames, length] placed every ``frame_step`` samples."""
    x = _arr.convert_to_tensor(signal)
    d = dims(x)
    count, length = _static_len(x, -2, "overlap_and_add"), _static_len(x, -1, "overlap_and_add")
    step = int(frame_step)
    out_len = (count - 1) * step + length if count else 0
    place = np.zeros([count * length, out_len])
    for f in range(count):
        place[f * length + np.arange(length), f * step + np.arange(length)] = 1.0
    flat = _arr.reshape(x, [-1, count * length])
    out = _math.matmul(flat, _arr.constant(place, dtype=x.dtype))
    shape = [(-1 if v is None else v) for v in d[:-2]] + [out_len]
    return _arr.reshape(out, shape, name=name or "overlap_and_add")


def _shift(x, axes, sign, name):
    x = _arr.convert_to_tensor(x)
    rank = len(dims(x))
    axes = list(range(rank)) if axes is None else ([axes] if np.ndim(axes) == 0 else list(axes))
    shifts = [sign * (_static_len(x, a, "fftshift") // 2) for a in axes]  # as NumPy
    return roll(x, shifts, axes, name=name)


def fftshift(x, axes=None, name=None):
    """Moves the zero-frequency term to the centre (rolls by n // 2)."""
    return _shift(x, axes, 1, name)


def ifftshift(x, axes=None, name=None):
    """The inverse of `fftshift` (rolls by -(n // 2))."""
    return _shift(x, axes, -1, name)


def _dct_matrix(n, kind, norm):
    """M with dct(x) = x @ M for TF's (unnormalized or 'ortho') DCT types I-III."""
    k, j = np.arange(n)[None, :], np.arange(n)[:, None]
    if kind == 1:
        if n < 2:
            raise ValueError("DCT type I needs at least 2 samples")
        m = 2 * np.cos(np.pi * k * j / (n - 1))
        m[0, :] = 1
        m[-1, :] = (-1.0) ** np.arange(n)
        return m
    if kind == 4:
        m = 2 * np.cos(np.pi * (2 * j + 1) * (2 * k + 1) / (4 * n))
        return m * np.sqrt(1 / (2 * n)) if norm == "ortho" else m
    if kind == 2:
        m = 2 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))
        if norm == "ortho":
            m[:, 0] *= np.sqrt(1 / (4 * n))
            m[:, 1:] *= np.sqrt(1 / (2 * n))
        return m
    m = 2 * np.cos(np.pi * j * (2 * k + 1) / (2 * n))
    m[0, :] = 1
    if norm == "ortho":
        return _dct_matrix(n, 2, "ortho").T
    return m


def dct(input, type=2, n=None, axis=-1, norm=None, name=None):  # noqa: A002
    """The discrete cosine transform of types I-IV over the last axis."""
    if type not in (1, 2, 3, 4):
        raise ValueError(f"Only DCT types 1, 2, 3 and 4 are supported, got type {type}")
    if axis not in (-1, None):
        raise NotImplementedError("dct supports axis=-1 only (as TF)")
    if norm not in (None, "ortho") or (norm == "ortho" and type == 1):
        raise ValueError(f"norm must be None or 'ortho' ('ortho' not for type 1), got {norm!r}")
    x = _arr.convert_to_tensor(input)
    size = _static_len(x, -1, "dct")
    if n is not None:
        n = int(n)
        if n < size:
            x = x[..., :n]
        elif n > size:
            x = _arr.pad(x, [[0, 0]] * (len(dims(x)) - 1) + [[0, n - size]])
        size = n
    m = _arr.constant(_dct_matrix(size, type, norm), dtype=x.dtype)
    flat = _arr.reshape(x, [-1, size])
    shape = [(-1 if v is None else v) for v in dims(x)[:-1]] + [size]
    return _arr.reshape(_math.matmul(flat, m), shape, name=name or "dct")


def idct(input, type=2, n=None, axis=-1, norm=None, name=None):  # noqa: A002
    """The inverse DCT as TF defines it: DCT of the inverse type (unscaled unless 'ortho';
    divide by 2N (type II/III) or 2(N-1) (type I) for a true inverse)."""
    inverse = {1: 1, 2: 3, 3: 2, 4: 4}.get(type, type)
    return dct(input, type=inverse, n=n, axis=axis, norm=norm, name=name or "idct")


def _hz_to_mel(hz):
    return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)


def linear_to_mel_weight_matrix(
    num_mel_bins=20,
    num_spectrogram_bins=129,
    sample_rate=8000,
    lower_edge_hertz=125.0,
    upper_edge_hertz=3800.0,
    dtype=dtypes.float32,
    name=None,
):
    """[num_spectrogram_bins, num_mel_bins] triangular mel filters (HTK mel scale)."""
    if not 0.0 <= lower_edge_hertz < upper_edge_hertz <= sample_rate / 2.0:
        raise ValueError(
            "Need 0 <= lower_edge_hertz < upper_edge_hertz <= sample_rate / 2, "
            f"got {lower_edge_hertz}, {upper_edge_hertz}, {sample_rate}"
        )
    linear = np.linspace(0.0, sample_rate / 2.0, num_spectrogram_bins)[1:]
    mel = _hz_to_mel(linear)[:, None]
    edges = np.linspace(
        _hz_to_mel(lower_edge_hertz), _hz_to_mel(upper_edge_hertz), num_mel_bins + 2
    )
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    weights = np.maximum(
        0.0, np.minimum((mel - lower) / (center - lower), (upper - mel) / (upper - center))
    )
    weights = np.concatenate([np.zeros([1, num_mel_bins]), weights], 0)
    return _arr.constant(weights, dtype=dtype, name=name or "linear_to_mel_weight_matrix")


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None):
    """MFCCs: the DCT-II of log-mel spectrograms, scaled by 1 / sqrt(2 * num_mel_bins)."""
    x = _arr.convert_to_tensor(log_mel_spectrograms)
    bins = _static_len(x, -1, "mfccs_from_log_mel_spectrograms")
    return _math.multiply(
        dct(x, type=2), 1.0 / np.sqrt(2.0 * bins), name=name or "mfccs_from_log_mel_spectrograms"
    )
