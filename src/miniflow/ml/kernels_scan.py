"""Byte-scanning helpers shared by the compiled text parsers (numba, inlined into them).

The libsvm and libffm chunk kernels (:mod:`miniflow.ml.kernels_text`) walk a chunk's bytes with the same few loops: skip the
blanks before a field, find a field's end, read the digits of an id up to its ``:``.
They live here once. Every helper relies on the chunk ending with a newline (``10``):
each loop stops at a byte ``<= 32`` or at the newline, so none checks the length.
Bytes ``<= 32`` other than the newline (space, tab, ``\\r``...) count as blanks.

Imported only when :func:`miniflow.ml.compiled.enabled` (this module imports numba).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["NEWLINE", "COLON", "skip_blanks", "token_end", "digits_to_colon"]

NEWLINE, COLON = 10, 58
_inline = numba.njit(cache=True, nogil=True, inline="always")


@_inline
def skip_blanks(buf, pos):
    """``(pos, byte)`` of the first newline or non-blank byte at or after ``pos``."""
    c = buf[pos]
    while c <= 32 and c != NEWLINE:
        pos += 1
        c = buf[pos]
    return pos, c


@_inline
def token_end(buf, pos):
    """``(end, byte at end, has_colon)``: the token starting at ``pos`` runs to the first
    byte ``<= 32``; ``has_colon`` if a ``:`` occurs in it."""
    c = buf[pos]
    colon = False
    while c > 32:
        colon |= c == COLON
        pos += 1
        c = buf[pos]
    return pos, c, colon


@_inline
def digits_to_colon(buf, pos):
    """``(value, end, byte at end, all_digits)`` of the run from ``pos`` up to the first
    ``:`` or byte ``<= 32``, read as a decimal integer; ``all_digits`` is False if any
    byte of it is not ``0``-``9`` (``value`` is then meaningless). The caller checks the
    length ``end - pos`` (empty, or too many digits for int64)."""
    c = buf[pos]
    value = np.int64(0)
    digits = True
    while c > 32 and c != COLON:
        d = np.int64(c) - 48
        digits &= (d >= 0) & (d <= 9)
        value = value * 10 + d
        pos += 1
        c = buf[pos]
    return value, pos, c, digits
