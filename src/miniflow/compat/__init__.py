"""`tf.compat`: ``tf.compat.v1`` is miniflow itself (the TF1 API), plus the byte/text
helpers TF1 programs use."""

from __future__ import annotations

import miniflow as v1  # noqa: F401  the whole TF1 namespace
from miniflow.core.shapes import Dimension, TensorShape


def as_bytes(bytes_or_text, encoding="utf-8") -> bytes:
    """``bytes_or_text`` as bytes (str is encoded)."""
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text, encoding="utf-8") -> str:
    """``bytes_or_text`` as str (bytes are decoded)."""
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text
as_bytes_or_text = as_bytes


def dimension_value(dimension):
    """The int (or None) of a ``Dimension``, an int or None: code that works with TF1's
    ``shape[i]`` (a Dimension) and TF2's (an int) alike."""
    return dimension.value if isinstance(dimension, Dimension) else dimension


def dimension_at_index(shape, index):
    """``shape[index]`` as a ``Dimension``; unknown when the rank is unknown."""
    if not isinstance(shape, TensorShape):
        raise TypeError(f"dimension_at_index expects a TensorShape, got {shape!r}")
    if shape.dims is None:
        return Dimension(None)
    return shape.dims[index]
