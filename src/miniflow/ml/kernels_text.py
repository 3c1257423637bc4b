"""Compiled (numba) kernels for the text readers: one pass over a chunk's bytes instead
of a dozen NumPy passes per field.

Imported only when :func:`miniflow.ml.compiled.enabled` (this module imports numba);
the NumPy code in :mod:`~miniflow.ml.numeric_text`, :mod:`~miniflow.ml.data` and
:mod:`~miniflow.ml.vw_text` stays the reference, and the results are equal bit for bit
(tests run both). Kernel API, for other readers (``buf`` is the chunk as ``uint8``;
fields are byte ranges ``[starts, ends)``):

- ``decimal_fields(buf, starts, ends) -> (float64 values, bool slow)``: numbers
  ``[+-]digits[.digits][(e|E)[+-]digits]`` by Clinger's fast path (at most 15 mantissa
  digits, ``|exponent| <= 22``: one correctly rounded product or quotient, so the value
  equals ``float(text)``); ``slow`` marks the fields to give to Python's ``float()``.
- ``uint_fields(buf, starts, ends) -> (int64 values, bool bad)``: 1..16 decimal digits.
- ``vw_hash_fields(buf, starts, ends, seeds) -> (int64 ids, bool slow)``: VW's
  ``hashstring`` (an all-digit name of at most 18 digits maps to ``int + seed``, any
  other name to MurmurHash3-x86-32 with ``seed``), masked to 32 bits; ``slow`` marks
  longer digit names for Python.
- ``libsvm_chunk(buf, mask)``: a whole libsvm chunk (see :func:`libsvm_chunk`).
- ``libffm_chunk(buf, low, field_bits, fields)``: a whole libffm chunk with packed
  field-aware ids (see :func:`libffm_chunk`; :mod:`~miniflow.ml.fm_data` runs it).
"""

from __future__ import annotations

import numba
import numpy as np

from miniflow.ml import compiled
from miniflow.ml.kernels_scan import COLON, NEWLINE, digits_to_colon, skip_blanks, token_end

__all__ = ["decimal_fields", "uint_fields", "vw_hash_fields", "libsvm_chunk", "libffm_chunk"]

_jit = numba.njit(cache=True, nogil=True)
_inline = numba.njit(cache=True, nogil=True, inline="always")
_POW10 = 10.0 ** np.arange(23)
_M32 = np.uint64(0xFFFFFFFF)
# libsvm_chunk's status: the chunk parsed, or a layout/error the NumPy parser must see.
OK, FALLBACK = 0, 1


@_inline
def _decimal(buf, s, e):
    """(value, True) for a field in the fast path's range, else (0.0, False)."""
    i = s
    neg = False
    if i < e and (buf[i] == 45 or buf[i] == 43):
        neg = buf[i] == 45
        i += 1
    mant = 0
    digits = 0
    frac = 0
    dot = False
    while i < e:
        c = buf[i]
        if 48 <= c <= 57:
            mant = mant * 10 + (c - 48)
            digits += 1
            frac += dot
        elif c == 46 and not dot:
            dot = True
        else:
            break
        i += 1
    if digits == 0 or digits > 15:
        return 0.0, False
    exp = 0
    if i < e:
        if buf[i] | 0x20 != 101:  # 'e' or 'E'
            return 0.0, False
        i += 1
        e_neg = False
        if i < e and (buf[i] == 45 or buf[i] == 43):
            e_neg = buf[i] == 45
            i += 1
        n = 0
        while i < e and 48 <= buf[i] <= 57:
            exp = exp * 10 + (buf[i] - 48)
            n += 1
            i += 1
        if n == 0 or n > 3 or i != e:
            return 0.0, False
        if e_neg:
            exp = -exp
    k = frac - exp
    if k > 22 or k < -22:
        return 0.0, False
    m = float(mant)
    v = m / _POW10[k] if k >= 0 else m * _POW10[-k]
    return (-v if neg else v), True


@_inline
def _uint(buf, s, e):
    """(value, True) for 1..16 decimal digits, else (0, False)."""
    if e - s < 1 or e - s > 16:
        return 0, False
    v = 0
    for i in range(s, e):
        c = buf[i]
        if c < 48 or c > 57:
            return 0, False
        v = v * 10 + (c - 48)
    return v, True


@_jit
def _rotl(x, r):
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _M32


@_jit
def _murmur3(buf, s, e, seed):
    """MurmurHash3 x86 32-bit of ``buf[s:e]`` (as ``mmh3.hash(..., signed=False)``)."""
    c1, c2 = np.uint64(0xCC9E2D51), np.uint64(0x1B873593)
    h = np.uint64(seed) & _M32
    n = e - s
    p = s
    for _ in range(n // 4):
        k = (
            np.uint64(buf[p])
            | (np.uint64(buf[p + 1]) << np.uint64(8))
            | (np.uint64(buf[p + 2]) << np.uint64(16))
            | (np.uint64(buf[p + 3]) << np.uint64(24))
        )
        k = _rotl((k * c1) & _M32, 15)
        h ^= (k * c2) & _M32
        h = (_rotl(h, 13) * np.uint64(5) + np.uint64(0xE6546B64)) & _M32
        p += 4
    rem = n & 3
    if rem:
        k = np.uint64(0)
        if rem >= 3:
            k ^= np.uint64(buf[p + 2]) << np.uint64(16)
        if rem >= 2:
            k ^= np.uint64(buf[p + 1]) << np.uint64(8)
        k ^= np.uint64(buf[p])
        k = _rotl((k * c1) & _M32, 15)
        h ^= (k * c2) & _M32
    h ^= np.uint64(n)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    h ^= h >> np.uint64(16)
    return np.int64(h)


@compiled.kernel
def decimal_fields(buf, starts, ends):
    n = len(starts)
    values = np.empty(n, np.float64)
    slow = np.zeros(n, np.bool_)
    for j in range(n):
        v, ok = _decimal(buf, starts[j], ends[j])
        values[j] = v
        slow[j] = not ok
    return values, slow


@compiled.kernel
def uint_fields(buf, starts, ends):
    n = len(starts)
    values = np.empty(n, np.int64)
    bad = np.zeros(n, np.bool_)
    for j in range(n):
        v, ok = _uint(buf, starts[j], ends[j])
        values[j] = v
        bad[j] = not ok
    return values, bad


@compiled.kernel
def vw_hash_fields(buf, starts, ends, seeds):
    n = len(starts)
    ids = np.empty(n, np.int64)
    slow = np.zeros(n, np.bool_)
    for j in range(n):
        s, e = starts[j], ends[j]
        digits = e > s
        for i in range(s, e):
            if buf[i] < 48 or buf[i] > 57:
                digits = False
                break
        if digits and e - s <= 18:
            v = 0
            for i in range(s, e):
                v = v * 10 + (buf[i] - 48)
            ids[j] = (v + seeds[j]) & 0xFFFFFFFF
        elif digits:
            ids[j] = 0
            slow[j] = True
        else:
            ids[j] = _murmur3(buf, s, e, seeds[j])
    return ids, slow


@compiled.kernel
def libsvm_chunk(buf, mask, labels, indptr, indices, values, slow):
    """Parses a libsvm chunk (ending with a newline, comments removed) in one pass.

    Takes lines ``label (idx[:value])*`` with any blanks, blank lines and ``qid:N``
    (skipped). Fills ``labels`` (float64 label values), ``indptr``, ``indices`` (ids
    ``& mask``), ``values`` (float32, 1 where a feature has none) and ``slow`` (rows
    ``(start, end, slot)`` of the fields outside the fast path, ``slot`` a value's
    position or ``-1 - row`` for a label); each must hold ``len(buf) // 2 + 2`` rows
    (``indptr`` one more). Returns ``(status, rows, nnz, all_one, n_slow)``, ``all_one``
    when every value is written ``1`` or absent. ``status`` is ``FALLBACK`` for anything
    else (bad ids, ``a:``, ``1:2:3``...): the NumPy parser then gives the result or the
    error.
    """
    n = len(buf)
    if n == 0 or buf[n - 1] != 10:
        return FALLBACK, 0, 0, True, 0
    # Every scan stops at the final newline, so no loop checks the length.
    n_slow = 0
    rows = 0
    nnz = 0
    all_one = True
    indptr[0] = 0
    pos = 0
    while pos < n:
        pos, c = skip_blanks(buf, pos)
        if c == NEWLINE:
            pos += 1
            continue
        s = pos
        pos, c, colon = token_end(buf, pos)
        if colon:
            return FALLBACK, 0, 0, all_one, 0
        v, ok = _decimal(buf, s, pos)
        labels[rows] = v
        if not ok:
            slow[n_slow, 0], slow[n_slow, 1], slow[n_slow, 2] = s, pos, -1 - rows
            n_slow += 1
        while True:
            pos, c = skip_blanks(buf, pos)
            if c == NEWLINE:
                pos += 1
                break
            s = pos
            idx, pos, c, digits = digits_to_colon(buf, pos)
            length = pos - s
            if not digits or length > 16 or length == 0:
                qid = length == 3 and buf[s] == 113 and buf[s + 1] == 105 and buf[s + 2] == 100
                if not (qid and c == COLON):
                    return FALLBACK, 0, 0, all_one, 0
            if c == COLON:
                vs = pos + 1
                pos, c, colon = token_end(buf, vs)
                if colon or pos == vs:
                    return FALLBACK, 0, 0, all_one, 0
                if not digits or length > 16 or length == 0:  # qid:N, skipped
                    continue
                if pos - vs == 1 and buf[vs] == 49:
                    values[nnz] = 1.0
                else:
                    all_one = False
                    v, ok = _decimal(buf, vs, pos)
                    values[nnz] = v
                    if not ok:
                        slow[n_slow, 0], slow[n_slow, 1], slow[n_slow, 2] = vs, pos, nnz
                        n_slow += 1
            else:
                values[nnz] = 1.0
            indices[nnz] = idx & mask
            nnz += 1
        rows += 1
        indptr[rows] = nnz
    return OK, rows, nnz, all_one, n_slow


@compiled.kernel
def libffm_chunk(buf, low, field_bits, fields, label_spans, indptr, ids, value_spans):
    """One pass over a libffm chunk (ending with a newline, comments removed): lines
    ``label (field:index:value)*``. Fills ``indptr``, packed ``ids`` (see
    :mod:`miniflow.ml.fm_data`), the byte spans of the labels and ``(start, end,
    position)`` of every value not written ``1``. Returns ``(ok, rows, nnz, n_values)``;
    not ok for anything else (no two ``:``, non-digits, over 16 digits, a field >=
    ``fields`` when that is > 0): the NumPy parser then gives the result or the error."""
    n = len(buf)
    if n == 0 or buf[n - 1] != NEWLINE:
        return False, 0, 0, 0
    # Every scan stops at the final newline, so no loop checks the length.
    low_mask = (np.int64(1) << low) - 1
    field_mask = (np.int64(1) << field_bits) - 1
    rows, nnz, n_values, pos = 0, 0, 0, 0
    indptr[0] = 0
    while pos < n:
        pos, c = skip_blanks(buf, pos)
        if c == NEWLINE:
            pos += 1
            continue
        label_spans[rows, 0] = pos
        pos, c, _ = token_end(buf, pos)
        label_spans[rows, 1] = pos
        while True:
            pos, c = skip_blanks(buf, pos)
            if c == NEWLINE:
                pos += 1
                break
            s = pos
            field, pos, c, digits = digits_to_colon(buf, pos)
            if not digits or c != COLON or pos == s or pos - s > 16:
                return False, 0, 0, 0
            s = pos + 1
            index, pos, c, digits = digits_to_colon(buf, s)
            if not digits or c != COLON or pos == s or pos - s > 16:
                return False, 0, 0, 0
            s = pos + 1
            pos, c, colon = token_end(buf, s)
            if colon or pos == s or (fields > 0 and field >= fields):
                return False, 0, 0, 0
            if not (pos - s == 1 and buf[s] == 49):
                value_spans[n_values, 0] = s
                value_spans[n_values, 1] = pos
                value_spans[n_values, 2] = nnz
                n_values += 1
            packed = index & low_mask
            if field_bits > 0:
                packed |= (field & field_mask) << low
            ids[nnz] = packed
            nnz += 1
        rows += 1
        indptr[rows] = nnz
    return True, rows, nnz, n_values
