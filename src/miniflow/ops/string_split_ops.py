"""String ops with a variable number of results per string: `tf.string_split` /
`tf.strings.split` (a SparseTensor, as in TF1), `bytes_split` and `ngrams` (the
`unicode_*` family is in `unicode_ops`).

The kernels split a scalar into a dense vector and a vector of strings into a
SparseTensor (row ``i`` holds string ``i``'s results in order); the RaggedTensor results
TF gives are built from these in ``ragged/ragged_strings.py`` (above the ops).
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.string_ops import as_bytes_array

SPARSE_INFER = [((None, 2), dtypes.int64), ((None,), dtypes.string), ((2,), dtypes.int64)]


def to_sparse(rows, value_dtype=object):
    """(indices, values, dense_shape) of a batch of result lists."""
    n = sum(len(r) for r in rows)
    indices = np.zeros((n, 2), np.int64)
    values = np.empty(n, dtype=value_dtype)
    k = 0
    for i, r in enumerate(rows):
        indices[k : k + len(r), 0] = i
        indices[k : k + len(r), 1] = np.arange(len(r))
        values[k : k + len(r)] = r
        k += len(r)
    shape = np.array([len(rows), max((len(r) for r in rows), default=0)], np.int64)
    return indices, values, shape


def vector_of(x, op):
    arr = as_bytes_array(x)
    if arr.ndim != 1:
        raise errors.InvalidArgumentError(
            None, None, f"{op}: input must be a vector, got shape: {list(arr.shape)}"
        )
    return arr


def _split_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None and len(d) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(d)} for string split input")
    return SPARSE_INFER


@register_op("StringSplit", num_outputs=3, infer=_split_infer)
def _string_split(x, delimiter, skip_empty=True):
    delim = as_bytes_array(delimiter)[()]
    rows = []
    for v in vector_of(x, "StringSplit"):
        if not v:  # TF gives an empty string no token, even with skip_empty=False
            parts = []
        elif not delim:
            parts = [v[i : i + 1] for i in range(len(v))]
        else:
            parts, start = [], 0
            for i, b in enumerate(v):
                if b in delim:
                    parts.append(v[start:i])
                    start = i + 1
            parts.append(v[start:])
        rows.append([p for p in parts if p or not skip_empty])
    return to_sparse(rows)


@register_op("StringSplitV2", num_outputs=3, infer=_split_infer)
def _string_split_v2(x, sep, maxsplit=-1):
    sep = as_bytes_array(sep)[()]
    rows = []
    for v in vector_of(x, "StringSplitV2"):
        rows.append(v.split(None, maxsplit) if not sep else v.split(sep, maxsplit))
    return to_sparse(rows)


not_differentiable("StringSplit", "StringSplitV2")


def string_split(
    source, sep=None, skip_empty=True, delimiter=None, result_type="SparseTensor", name=None
):
    """Splits each string of the vector ``source`` at any byte of ``sep`` (default ' ';
    into bytes if it is empty) into a SparseTensor [batch, max tokens]. ``delimiter`` is the
    old name of ``sep``. ``tf.string_split(source, sep=None, skip_empty=True,
    delimiter=None, result_type='SparseTensor', name=None)``"""
    if sep is not None and delimiter is not None:
        raise ValueError("Cannot specify both 'sep' and 'delimiter'")
    sep = sep if sep is not None else (delimiter if delimiter is not None else " ")
    if result_type != "SparseTensor":
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor'.")
    idx, val, shp = apply_op("StringSplit", source, sep, skip_empty=bool(skip_empty), name=name)
    return SparseTensor(idx, val, shp)


def split(
    input=None,
    sep=None,
    maxsplit=-1,
    result_type="SparseTensor",
    source=None,  # noqa: A002
    name=None,
):
    """Splits each string of a vector at ``sep`` (runs of whitespace if None), at most
    ``maxsplit`` times, into a SparseTensor. ``tf.strings.split(input=None, sep=None,
    maxsplit=-1, result_type='SparseTensor', source=None, name=None)``"""
    if input is None:
        input = source  # noqa: A001
    if input is None:
        raise ValueError("tf.strings.split needs `input` (or its alias `source`)")
    if result_type != "SparseTensor":
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor'.")
    idx, val, shp = apply_op("StringSplitV2", input, sep or "", maxsplit=int(maxsplit), name=name)
    return SparseTensor(idx, val, shp)


def _per_string(x, fn, value_dtype=object):
    """``fn(string) -> list`` over a scalar (a dense vector) or a vector (a SparseTensor's
    three arrays)."""
    arr = as_bytes_array(x)
    if arr.ndim == 0:
        return np.asarray(fn(arr[()]), dtype=value_dtype).reshape(-1)
    return to_sparse([fn(v) for v in vector_of(arr, "string op")], value_dtype)


@register_op("StringBytesSplitDense", infer=lambda i, a: [((None,), dtypes.string)])
def _bytes_split_dense(x):
    return _per_string(x, lambda v: [v[i : i + 1] for i in range(len(v))])


@register_op("StringBytesSplitSparse", num_outputs=3, infer=lambda i, a: SPARSE_INFER)
def _bytes_split_sparse(x):
    return _per_string(x, lambda v: [v[i : i + 1] for i in range(len(v))])


not_differentiable("StringBytesSplitDense", "StringBytesSplitSparse")


def rank_of(x):
    d = dims(x)
    if d is None:
        raise ValueError("the input's rank must be known statically (a scalar or a vector)")
    if len(d) > 1:
        raise errors.UnimplementedError(
            None, None, f"input of rank {len(d)}: this kernel takes a scalar or a vector"
        )
    return len(d)


def bytes_split(input, name=None):  # noqa: A002
    """Each string split into single bytes: a vector for a scalar, a SparseTensor for a
    vector (TF: a RaggedTensor). ``tf.strings.bytes_split(input, name=None)``"""
    x = array_ops.convert_to_tensor(input, dtype=dtypes.string)
    if rank_of(x) == 0:
        return apply_op("StringBytesSplitDense", x, name=name)
    return SparseTensor(*apply_op("StringBytesSplitSparse", x, name=name))


def _ngrams(tokens, widths, sep, left, right, padding_width, preserve_short):
    out = []
    for w in widths:
        pw = 0 if left is None else min(w - 1 if padding_width is None else padding_width, w - 1)
        padded = [left] * pw + list(tokens) + [right] * pw
        out += [sep.join(padded[i : i + w]) for i in range(len(padded) - w + 1)]
    if not out and preserve_short and tokens:
        pw = 0 if left is None else (max(widths) - 1 if padding_width is None else padding_width)
        out = [sep.join([left] * pw + list(tokens) + [right] * pw)]
    return out


@register_op("StringNGrams", infer=lambda i, a: [((None,), dtypes.string)])
def _string_ngrams(data, widths, separator, pad_values, padding_width, preserve_short):
    arr = vector_of(data, "StringNGrams")
    left, right = (None, None) if pad_values is None else pad_values
    return np.asarray(
        _ngrams(list(arr), widths, separator, left, right, padding_width, preserve_short),
        dtype=object,
    ).reshape(-1)


not_differentiable("StringNGrams")


def _b(v):
    return v.encode() if isinstance(v, str) else bytes(v)


def ngrams(
    data,
    ngram_width,
    separator=" ",
    pad_values=None,
    padding_width=None,
    preserve_short_sequences=False,
    name=None,
):
    """The n-grams (joined with ``separator``) of a vector of tokens, for one width or a
    list of them (concatenated). ``tf.strings.ngrams(data, ngram_width, separator=' ',
    pad_values=None, padding_width=None, preserve_short_sequences=False, name=None)``"""
    widths = (
        (int(ngram_width),) if np.ndim(ngram_width) == 0 else tuple(int(w) for w in ngram_width)
    )
    if any(w < 1 for w in widths):
        raise ValueError(f"ngram_width must be >= 1, got {list(widths)}")
    if padding_width is not None and int(padding_width) < 1:
        raise ValueError(f"padding_width must be >= 1 or None, got {padding_width}")
    if pad_values is not None:
        pad_values = (
            (_b(pad_values),) * 2
            if isinstance(pad_values, str | bytes)
            else tuple(_b(p) for p in pad_values)
        )
        if len(pad_values) != 2:
            raise ValueError("pad_values must be a string or a (left, right) pair")
    x = array_ops.convert_to_tensor(data, dtype=dtypes.string)
    if rank_of(x) != 1:
        raise errors.UnimplementedError(
            None,
            None,
            "tf.strings.ngrams: miniflow takes a vector of tokens (TF also takes ragged batches)",
        )
    return apply_op(
        "StringNGrams",
        x,
        widths=widths,
        separator=_b(separator),
        pad_values=pad_values,
        padding_width=None if padding_width is None else int(padding_width),
        preserve_short=bool(preserve_short_sequences),
        name=name,
    )
