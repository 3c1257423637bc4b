"""Vectorised decimal numbers in text chunks: integers (SWAR) and decimals with a sign,
a fraction and an exponent, for the libsvm, VW and CSV readers.

A field ``[start, end)`` of the chunk's bytes is parsed without Python code per field:
one 8-byte gather per run of up to 8 digits (Lemire's multiply-shift digit parse), then
``mantissa * 10**k`` or ``mantissa / 10**-k`` in float64. That is exact (one correctly
rounded operation, Clinger's fast path) when the mantissa has at most 15 digits and
``|k| <= 22``, which covers the values people write (``1.79``, ``-0.5``, ``3e-4``);
rounded to float32 it equals ``np.float32(float(text))``. Only the fields outside that
range go through Python's ``float()``, one by one. NaN, infinity and values beyond
float32 are rejected. Fields of at most 8 bytes (nearly all) take a one-word path
(:func:`_short`); the rest are copied into a buffer of their own (:func:`_compact`), so
no step scans the whole chunk.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ParseError", "words_at", "uints", "decimals", "first_byte"]

_MINUS, _PLUS, _DOT = 45, 43, 46
_ZEROS = np.uint64(0x3030303030303030)
# Per number length L (0..8): which bytes of a word to keep (the top L) and the '0'
# characters that replace the others.
_KEEP = np.array([~((1 << 8 * (8 - n)) - 1) & 0xFFFFFFFFFFFFFFFF for n in range(9)], np.uint64)
_PAD = np.array([0x3030303030303030 & ((1 << 8 * (8 - n)) - 1) for n in range(9)], np.uint64)
_POW10 = 10.0 ** np.arange(23)
_ONE, _EIGHT, _BYTE, _ZERO = np.uint64(1), np.uint64(8), np.uint64(0xFF), np.uint64(0x30)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_DOTS, _ES, _CASE = (np.uint64(0x0101010101010101 * c) for c in (_DOT, ord("e"), 0x20))


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


def first_byte(words: np.ndarray, starts: np.ndarray, ends: np.ndarray, byte: int) -> np.ndarray:
    """The offset of the first ``byte`` in each field ``[start, end)`` of at most 16
    bytes, or -1: a zero-byte test on the field's two words, no pass over the chunk."""
    pattern = np.uint64(0x0101010101010101 * byte)
    found = np.full(len(starts), -1, np.int64)
    todo = np.arange(len(starts))
    for skip in (0, 8):
        at = starts[todo] + skip
        flags = _zero_bytes(words[np.minimum(at + 8, len(words) - 1)] ^ pattern)
        hit = flags != 0
        first, _ = _byte_at(flags[hit] & (~flags[hit] + _ONE))  # the lowest flag
        found[todo[hit]] = at[hit] + first
        todo = todo[~hit]
    found[found >= ends] = -1
    return found


def _zero_bytes(x: np.ndarray) -> np.ndarray:
    """0x80 in every byte of ``x`` that is zero, 0 elsewhere (exact, no borrows)."""
    t = (x & _LOW7) + _LOW7
    return ~(t | x | _LOW7)


def _byte_at(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index 0..7 of the byte flagged 0x80 in each word, one flag or none at most)."""
    bit = np.frexp(flags.astype(np.float64))[1].astype(np.int64) - 1
    return np.maximum(bit, 0) >> 3, flags & (flags - _ONE) == 0


def _short(
    words: np.ndarray, b: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok) of fields of 1..8 bytes ``[+-]digits[.digits][e[+-]digits]``, SWAR.

    One word per field. An exponent (after an 'e' found with a zero-byte test) is
    parsed from the word's top bytes and shifted out; the mantissa's sign byte becomes
    '0' and its '.' is cut out by shifting the bytes before it; the remaining digits go
    through :func:`_digits8`. The value is ``mantissa / 10**k`` or ``mantissa * 10**-k``,
    exact (at most 8 digits, ``|k| <= 22``). ``ok`` is False for every other field,
    which :func:`_general` then takes.
    """
    lens = np.clip(ends - starts, 0, 8)
    w = words[ends] & _KEEP[lens]
    ok = ends - starts <= 8
    es = _zero_bytes((w | _CASE) ^ _ES) & _KEEP[lens]
    has_e = es != 0
    scale = np.zeros(len(w), np.int64)
    if has_e.any():
        at, single = _byte_at(es[has_e])
        we = w[has_e]
        e_sign = (we >> (8 * at + 8).astype(np.uint64)) & _BYTE
        e_neg = e_sign == _MINUS
        e_len = 7 - at - (e_neg | (e_sign == _PLUS))
        ex, ok_e = _digits8(we, np.clip(e_len, 0, 8))
        ok[has_e] &= single & ok_e & (e_len >= 1)
        scale[has_e] = np.where(e_neg, ex, -ex)
        w[has_e] = we << (64 - 8 * at).astype(np.uint64)  # the mantissa alone, on top
        lens[has_e] = lens[has_e] - 8 + at
    first = (w >> (64 - 8 * lens).astype(np.uint64)) & _BYTE
    signed = (first == _MINUS) | (first == _PLUS)
    if signed.any():
        shift = (64 - 8 * lens[signed]).astype(np.uint64)
        w[signed] = (w[signed] & ~(_BYTE << shift)) | (_ZERO << shift)
    dots = _zero_bytes(w ^ _DOTS) & _KEEP[lens]
    has_dot = dots != 0
    at, single = _byte_at(dots)
    low = (_ONE << (8 * at).astype(np.uint64)) - _ONE
    high = ~((_ONE << (8 * at + 8).astype(np.uint64)) - _ONE)
    w = np.where(has_dot, ((w & low) << _EIGHT) | (w & high), w)
    n_digits = lens - has_dot
    mantissa, ok_m = _digits8(w, n_digits)
    scale += np.where(has_dot, 7 - at, 0)
    ok &= ok_m & single & (n_digits - signed >= 1) & (np.abs(scale) <= 22)
    k = np.clip(scale, -22, 22)
    values = np.where(k >= 0, mantissa / _POW10[np.abs(k)], mantissa * _POW10[np.abs(k)])
    values[first == _MINUS] *= -1.0
    return values, ok


def _compact(b: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """The fields' bytes alone, one blank after each: (bytes, starts, ends) there."""
    lens = ends - starts
    new_ends = np.cumsum(lens + 1) - 1
    new_starts = new_ends - lens
    out = np.full(int(new_ends[-1]) + 1, 32, np.uint8)
    pos = np.arange(int(lens.sum())) + np.repeat(new_starts - np.cumsum(lens) + lens, lens)
    out[pos] = b[np.repeat(starts - new_starts, lens) + pos]
    return out.tobytes(), new_starts, new_ends


def decimals(
    chunk: bytes, b: np.ndarray, words: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Fields ``[+-]digits[.digits][(e|E)[+-]digits]`` -> float64, vectorised.

    Fields of up to 8 bytes without an exponent (``0``, ``-0.5``, ``1.79``, ``188``)
    take a one-word SWAR path; the others are copied into a small buffer of their own
    and parsed there with the exponent handled, so no pass runs over the whole chunk.

    Raises:
        ParseError: a field that is not a number, or not a finite float32 (NaN, inf,
            ``1e39``).
    """
    n = len(starts)
    if not n:
        return np.zeros(0)
    values, ok = _short(words, b, starts, ends)
    if not ok.all():
        rest = np.flatnonzero(~ok)
        text, s, e = _compact(b, starts[rest], ends[rest])
        try:
            values[rest] = _general(text, np.frombuffer(text, np.uint8), words_at(text), s, e)
        except ParseError as err:
            field = np.searchsorted(s, err.offset, side="right") - 1
            raise ParseError(str(err), int(starts[rest[field]])) from None
    if not (np.abs(values) <= _FLOAT32_MAX).all():  # NaN fails this too
        i = int(np.argmin(np.abs(values) <= _FLOAT32_MAX))
        text = chunk[starts[i] : ends[i]].decode(errors="replace")
        what = (
            "beyond float32's range" if np.isfinite(values[i]) else "not a finite number (NaN/inf)"
        )
        raise ParseError(f"{text!r} is {what}", int(starts[i]))
    return values


def _general(
    chunk: bytes, b: np.ndarray, words: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """:func:`decimals` for any field: exponents, more than 8 bytes, errors."""
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
    for i in np.flatnonzero(slow).tolist():
        text = chunk[starts[i] : ends[i]]
        try:
            values[i] = float(text)
        except ValueError:
            raise ParseError(
                f"{text.decode(errors='replace')!r} is not a number", int(starts[i])
            ) from None
    return values
