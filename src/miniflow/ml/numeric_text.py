"""Vectorised decimal numbers in text chunks: integers (SWAR) and decimals with a sign,
a fraction and an exponent, for the libsvm, VW and CSV readers.

A field ``[start, end)`` of the chunk's bytes is parsed without Python code per field:
one 8-byte gather per run of up to 8 digits (Lemire's multiply-shift digit parse), then
``mantissa * 10**k`` or ``mantissa / 10**-k`` in float64. That is exact (one correctly
rounded operation, Clinger's fast path) when the mantissa has at most 15 digits and
``|k| <= 22``, which covers the values people write (``1.79``, ``-0.5``, ``3e-4``);
rounded to float32 it equals ``np.float32(float(text))``. Only the fields outside that
range go through Python's ``float()``, one by one. NaN, infinity and values beyond
float32 (the type the readers store) are rejected. With numba (:mod:`miniflow.ml.compiled`)
the same fast path runs compiled (:mod:`miniflow.ml.kernels_text`), with equal results.
"""

from __future__ import annotations

import numpy as np

from miniflow.ml import compiled

__all__ = ["ParseError", "words_at", "uints", "decimals", "checked", "text_kernels"]

_MINUS, _PLUS, _DOT = 45, 43, 46
_ZEROS = np.uint64(0x3030303030303030)
# Per number length L (0..8): which bytes of a word to keep (the top L) and the '0'
# characters that replace the others.
_KEEP = np.array([~((1 << 8 * (8 - n)) - 1) & 0xFFFFFFFFFFFFFFFF for n in range(9)], np.uint64)
_PAD = np.array([0x3030303030303030 & ((1 << 8 * (8 - n)) - 1) for n in range(9)], np.uint64)
_POW10 = 10.0 ** np.arange(23)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class ParseError(ValueError):
    """A field that is not a valid number: ``offset`` is its byte offset in the chunk,
    ``line`` its 1-based line in the chunk (set by the parser that knows the lines)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset
        self.line = 0


def words_at(chunk: bytes) -> np.ndarray:
    """A uint64 view at *every* byte offset of the chunk, padded with 8 NULs both sides:
    ``words[e]`` holds the 8 bytes that end at chunk offset ``e``."""
    padded = b"\0" * 8 + chunk + b"\0" * 8
    return np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))


def _digits8(words: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The last ``lens`` (0..8) bytes of each word as a decimal number, SWAR-style.

    The bytes before the number are replaced by '0', then three multiply-shift steps
    combine digit pairs, quads and octets. Also returns which words held only digits.
    """
    t = words & _KEEP[lens]
    t |= _PAD[lens]
    t -= _ZEROS
    # Every byte is now 0..9: no byte has its top bit set, before or after adding
    # 0x76 (a byte above 9 reaches 0x80; one below '0' borrowed and wrapped above 0x7F).
    ok = ((t + np.uint64(0x7676767676767676)) | t) & np.uint64(0x8080808080808080) == 0
    t = (t * np.uint64(10) + (t >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    t = (t * np.uint64(100) + (t >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    t = (t * np.uint64(10000) + (t >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return t.view(np.int64), ok


def uints(
    words: np.ndarray, starts: np.ndarray, ends: np.ndarray, allow_empty: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Decimal digit fields [starts, ends) -> (int64 values, mask of fields that are not
    1..16 digits; 0..16 with ``allow_empty``, an empty field reading 0). One 8-byte
    gather per field (two above 8 digits), no per-digit loop."""
    lens = ends - starts
    if not len(starts):
        return np.zeros(0, np.int64), np.zeros(0, np.bool_)
    odd = None
    if lens.min() < (0 if allow_empty else 1) or lens.max() > 16:
        odd = (lens < (0 if allow_empty else 1)) | (lens > 16)
        lens = np.where(odd, 1, lens)
        ends = starts + lens
    values, ok = _digits8(words[ends], np.minimum(lens, 8))
    if lens.max() > 8:
        big = np.flatnonzero(lens > 8)
        high, ok_high = _digits8(words[ends[big] - 8], lens[big] - 8)
        values[big] += high * 100_000_000
        ok[big] &= ok_high
    if odd is not None:
        ok &= ~odd
    return values, ~ok


def _owner(starts: np.ndarray, ends: np.ndarray, positions: np.ndarray):
    """(field of each position inside a field, those positions)."""
    field = np.searchsorted(starts, positions, side="right") - 1
    inside = (field >= 0) & (positions < ends[np.maximum(field, 0)])
    return field[inside], positions[inside]


def text_kernels():
    """The compiled text kernels (:mod:`miniflow.ml.kernels_text`), or None when numba
    is missing or switched off (:func:`miniflow.ml.compiled.enabled`)."""
    if not compiled.enabled():
        return None
    from miniflow.ml import kernels_text

    return kernels_text


def decimals(
    chunk: bytes, b: np.ndarray, words: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Fields ``[+-]digits[.digits][(e|E)[+-]digits]`` -> float64, vectorised (compiled
    when :func:`text_kernels` is there; the same values either way).

    Raises:
        ParseError: a field that is not a number, or not a finite float32 (NaN, inf,
            ``1e39``).
    """
    if not len(starts):
        return np.zeros(0)
    kernels = text_kernels()
    if kernels is not None:
        values, slow = kernels.decimal_fields(
            b, np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        )
    else:
        values, slow = _fast_path(b, words, starts, ends)
    return checked(chunk, starts, ends, values, slow)


def _fast_path(b, words, starts, ends) -> tuple[np.ndarray, np.ndarray]:
    """(values, slow): the NumPy fast path of :func:`decimals`."""
    n = len(starts)
    first = b[starts]
    negative = first == _MINUS
    s = starts + (negative | (first == _PLUS))
    # Where the mantissa ends (an 'e'/'E' or the field end) and where its '.' is.
    mant_end, dot = ends.copy(), ends.copy()
    slow = np.zeros(n, np.bool_)
    for marks, out in ((np.flatnonzero((b | 0x20) == ord("e")), mant_end), (None, dot)):
        if marks is None:
            marks = np.flatnonzero(b == _DOT)
        field, pos = _owner(starts, ends, marks)
        if len(field):
            slow[field[:-1][field[1:] == field[:-1]]] = True  # two of them in one field
            out[field] = pos
    dot = np.minimum(dot, mant_end)
    frac_start = np.minimum(dot + 1, mant_end)
    int_part, bad_i = uints(words, s, dot, allow_empty=True)
    frac, bad_f = uints(words, frac_start, mant_end, allow_empty=True)
    int_len, frac_len = dot - s, mant_end - frac_start
    slow |= bad_i | bad_f | (int_len + frac_len == 0) | (int_len + frac_len > 15)
    scale = frac_len.copy()
    has_exp = mant_end < ends
    if has_exp.any():
        at = np.flatnonzero(has_exp)
        e0 = mant_end[at] + 1
        sign = b[np.minimum(e0, len(b) - 1)]
        e_neg = sign == _MINUS
        e0 = e0 + (e_neg | (sign == _PLUS))
        ex, bad_e = uints(words, e0, ends[at])
        slow[at] |= bad_e | (ends[at] - e0 > 3)
        scale[at] -= np.where(e_neg, -ex, ex)
    slow |= np.abs(scale) > 22
    k = np.clip(scale, -22, 22)
    mantissa = (int_part * _POW10[np.clip(frac_len, 0, 18)].astype(np.int64) + frac).astype(
        np.float64
    )
    values = np.where(k >= 0, mantissa / _POW10[np.abs(k)], mantissa * _POW10[np.abs(k)])
    values[negative] *= -1.0
    return values, slow


def checked(chunk: bytes, starts, ends, values: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """``values`` with the ``slow`` fields parsed by Python's ``float()``, checked to be
    finite float32 numbers.

    Raises:
        ParseError: a field that is not a number, or not a finite float32.
    """
    for i in np.flatnonzero(slow).tolist():
        text = chunk[starts[i] : ends[i]]
        try:
            values[i] = float(text)
        except ValueError:
            raise ParseError(
                f"{text.decode(errors='replace')!r} is not a number", int(starts[i])
            ) from None
    if not (np.abs(values) <= _FLOAT32_MAX).all():  # NaN fails this too
        i = int(np.argmin(np.abs(values) <= _FLOAT32_MAX))
        text = chunk[starts[i] : ends[i]].decode(errors="replace")
        what = (
            "beyond float32's range" if np.isfinite(values[i]) else "not a finite number (NaN/inf)"
        )
        raise ParseError(f"{text!r} is {what}", int(starts[i]))
    return values
