"""The string splitters of `tf.strings` with TF's RaggedTensor results: the kernels (in
``ops/string_split_ops.py``, ``ops/unicode_ops.py``) split a vector of strings into a
SparseTensor, and the rows of that are the rows of the RaggedTensor. Inputs of rank > 1
are split flat and given their outer dimensions back as uniform rows."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.ops import array_ops, string_split_ops as _split, unicode_ops as _uni
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ragged.ragged_tensor import RaggedTensor


def _strings(input):  # noqa: A002
    x = array_ops.convert_to_tensor(input, dtype=dtypes.string)
    d = dims(x)
    if d is None or None in d[1:]:
        raise ValueError(
            "the input's rank (and all but its first dimension) must be known "
            f"statically to split it into a RaggedTensor, got shape {d}"
        )
    return x, d


def _ragged(split_vector, x, d):
    """``split_vector`` (vector -> SparseTensor) applied to ``x`` of shape ``d`` (rank
    >= 1), as a RaggedTensor [*d, None]."""
    flat = x if len(d) == 1 else array_ops.reshape(x, [-1])
    rt = RaggedTensor.from_sparse(split_vector(flat))
    for k in range(len(d) - 1, 0, -1):
        rt = RaggedTensor.from_uniform_row_length(rt, d[k], validate=False)
    return rt


def split(
    input=None,
    sep=None,
    maxsplit=-1,
    result_type="SparseTensor",
    source=None,  # noqa: A002
    name=None,
):
    """Splits each string at ``sep`` (runs of whitespace if None), at most ``maxsplit``
    times: a SparseTensor, or with ``result_type='RaggedTensor'`` a RaggedTensor (a scalar
    is split as a vector of one). ``tf.compat.v1.strings.split(input=None, sep=None,
    maxsplit=-1, result_type='SparseTensor', source=None, name=None)``"""
    input = source if input is None else input  # noqa: A001
    if result_type != "RaggedTensor":
        return _split.split(input, sep, maxsplit, result_type, name=name)
    x, d = _strings(input)
    if not d:
        x, d = array_ops.reshape(x, [1]), [1]
    return _ragged(lambda v: _split.split(v, sep, maxsplit, name=name), x, d)


def string_split(
    source, sep=None, skip_empty=True, delimiter=None, result_type="SparseTensor", name=None
):
    """Splits each string of a vector at any byte of ``sep``: a SparseTensor, or with
    ``result_type='RaggedTensor'`` a RaggedTensor. ``tf.string_split(source, sep=None,
    skip_empty=True, delimiter=None, result_type='SparseTensor', name=None)``"""
    if result_type != "RaggedTensor":
        return _split.string_split(source, sep, skip_empty, delimiter, result_type, name)
    return RaggedTensor.from_sparse(
        _split.string_split(source, sep, skip_empty, delimiter, name=name)
    )


def _per_row(fn, input, *args, name=None):  # noqa: A002
    """``fn`` on a scalar as is; on higher ranks as a RaggedTensor."""
    x, d = _strings(input)
    if not d:
        return fn(x, *args, name=name)
    return _ragged(lambda v: fn(v, *args, name=name), x, d)


def bytes_split(input, name=None):  # noqa: A002
    """Each string split into single bytes: a vector for a scalar, else a RaggedTensor.
    ``tf.strings.bytes_split(input, name=None)``"""
    return _per_row(_split.bytes_split, input, name=name)


def unicode_decode(
    input,
    input_encoding,
    errors="replace",
    replacement_char=65533,  # noqa: A002
    replace_control_characters=False,
    name=None,
):
    """The int32 code points of each string: a vector for a scalar, else a RaggedTensor.
    ``tf.strings.unicode_decode(input, input_encoding, errors='replace',
    replacement_char=65533, replace_control_characters=False, name=None)``"""
    return _per_row(
        _uni.unicode_decode,
        input,
        input_encoding,
        errors,
        replacement_char,
        replace_control_characters,
        name=name,
    )


def unicode_split(
    input,
    input_encoding,
    errors="replace",
    replacement_char=65533,  # noqa: A002
    name=None,
):
    """Each string split into its characters: a vector for a scalar, else a RaggedTensor.
    ``tf.strings.unicode_split(input, input_encoding, errors='replace',
    replacement_char=65533, name=None)``"""
    return _per_row(_uni.unicode_split, input, input_encoding, errors, replacement_char, name=name)


def _with_offsets(fn, input, *args, name=None):  # noqa: A002
    x, d = _strings(input)
    if not d:
        return fn(x, *args, name=name)
    parts = []

    def one(v, k):
        if not parts:
            parts.extend(fn(v, *args, name=name))
        st = parts[k]
        return st if isinstance(st, SparseTensor) else SparseTensor(*st)

    return _ragged(lambda v: one(v, 0), x, d), _ragged(lambda v: one(v, 1), x, d)


def unicode_decode_with_offsets(
    input,
    input_encoding,
    errors="replace",  # noqa: A002
    replacement_char=65533,
    replace_control_characters=False,
    name=None,
):
    """``(code points, int64 byte offsets of their starts)``, shaped like
    `unicode_decode`'s result. ``tf.strings.unicode_decode_with_offsets(input,
    input_encoding, errors='replace', replacement_char=65533,
    replace_control_characters=False, name=None)``"""
    return _with_offsets(
        _uni.unicode_decode_with_offsets,
        input,
        input_encoding,
        errors,
        replacement_char,
        replace_control_characters,
        name=name,
    )


def unicode_split_with_offsets(
    input,
    input_encoding,
    errors="replace",  # noqa: A002
    replacement_char=65533,
    name=None,
):
    """``(characters, int64 byte offsets of their starts)``, shaped like `unicode_split`'s
    result. ``tf.strings.unicode_split_with_offsets(input, input_encoding,
    errors='replace', replacement_char=65533, name=None)``"""
    return _with_offsets(
        _uni.unicode_split_with_offsets, input, input_encoding, errors, replacement_char, name=name
    )
