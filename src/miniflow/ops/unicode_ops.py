"""The `tf.strings.unicode_*` ops: decode to code points (with byte offsets), encode,
transcode and split into characters.

Decoding follows Python's codecs with ``errors='replace'`` semantics (one replacement per
maximal invalid subsequence); ``errors='ignore'`` drops those, ``'strict'`` raises
`InvalidArgumentError`. A batch of strings gives a SparseTensor where TF gives a
RaggedTensor (see `string_split_ops`).
"""

from __future__ import annotations

import codecs

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.errors import InvalidArgumentError
from miniflow.ops import array_ops, unicode_script_table
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.string_ops import as_bytes_array, map_strings, string_infer
from miniflow.ops.string_split_ops import SPARSE_INFER, rank_of, to_sparse, vector_of

_CODECS = {
    "UTF-8": "utf-8",
    "UTF-16-BE": "utf-16-be",
    "UTF-32-BE": "utf-32-be",
    "US-ASCII": "ascii",
    "ISO-8859-1": "latin-1",
}
_OUTPUT_CODECS = ("UTF-8", "UTF-16-BE", "UTF-32-BE")  # what TF's ops accept as output


def _codec(encoding):
    try:
        return _CODECS[encoding.upper()]
    except KeyError:
        raise ValueError(
            f"encoding {encoding!r} is not supported; use one of {sorted(_CODECS)}"
        ) from None


def _output_codec(encoding):
    if encoding.upper() not in _OUTPUT_CODECS:
        raise ValueError(
            f"output_encoding {encoding!r} is not supported; use one of {list(_OUTPUT_CODECS)}"
        )
    return _codec(encoding)


def _chars_with_offsets(v: bytes, codec: str, strict: bool) -> list[tuple[str, int]]:
    """(character, byte offset of its start) for each decoded character; U+FFFD marks an
    invalid subsequence unless ``strict``."""
    dec = codecs.getincrementaldecoder(codec)("strict" if strict else "replace")
    out, start = [], 0
    try:
        for i in range(len(v) + 1):
            chars = dec.decode(v[i : i + 1], final=i == len(v))
            if not chars:
                continue
            end = i + 1 - len(dec.getstate()[0]) if i < len(v) else len(v)
            # The last characters end at `end`; walk back with their widths, the first
            # one starts where the previous output stopped.
            starts, pos = [], end
            for ch in reversed(chars[1:]):
                pos -= 1 if ch == "\ufffd" else len(ch.encode(codec))
                starts.append(pos)
            out += list(zip(chars, [start] + starts[::-1]))
            start = end
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(None, None, f"Invalid formatting on input string: {e}") from None
    return out


def _decode(v: bytes, encoding, errors_mode, replacement_char, replace_control):
    """(code points, byte offsets) of one string."""
    codes, offsets = [], []
    for ch, off in _chars_with_offsets(v, _codec(encoding), errors_mode == "strict"):
        c = ord(ch)
        if c == 0xFFFD and errors_mode != "strict":
            if errors_mode == "ignore":
                continue
            c = replacement_char
        elif replace_control and (c < 0x20 or 0x7F <= c < 0xA0):
            c = replacement_char
        codes.append(c)
        offsets.append(off)
    return codes, offsets


def _encode(codes, encoding, errors_mode, replacement_char) -> bytes:
    chars = []
    for c in codes:
        c = int(c)
        if not (0 <= c <= 0x10FFFF) or 0xD800 <= c <= 0xDFFF:
            if errors_mode == "strict":
                raise InvalidArgumentError(None, None, f"Invalid code point {c}")
            if errors_mode == "ignore":
                continue
            c = replacement_char
        chars.append(chr(c))
    return "".join(chars).encode(_codec(encoding))


@register_op("UnicodeTranscode", infer=string_infer())
def _unicode_transcode(
    x,
    input_encoding,
    output_encoding,
    errors="replace",
    replacement_char=65533,
    replace_control_characters=False,
):
    return map_strings(
        lambda v: _encode(
            _decode(v, input_encoding, errors, replacement_char, replace_control_characters)[0],
            output_encoding,
            errors,
            replacement_char,
        ),
        x,
    )


@register_op(
    "UnicodeEncode", infer=lambda i, a: [(dims(i[0])[:-1] if dims(i[0]) else None, dtypes.string)]
)
def _unicode_encode(codes, output_encoding, errors="replace", replacement_char=65533):
    arr = np.asarray(codes)
    if arr.ndim == 0:
        raise InvalidArgumentError(
            None, None, "unicode_encode needs at least a vector of code points"
        )
    out = np.empty(arr.shape[:-1], dtype=object)
    for i in np.ndindex(out.shape):
        out[i] = _encode(arr[i], output_encoding, errors, replacement_char)
    return out


@register_op(
    "UnicodeDecodeDense",
    num_outputs=2,
    infer=lambda i, a: [((None,), dtypes.int32), ((None,), dtypes.int64)],
)
def _unicode_decode_dense(
    x, input_encoding, errors="replace", replacement_char=65533, replace_control_characters=False
):
    codes, offsets = _decode(
        as_bytes_array(x)[()], input_encoding, errors, replacement_char, replace_control_characters
    )
    return np.asarray(codes, np.int32), np.asarray(offsets, np.int64)


@register_op(
    "UnicodeDecodeSparse",
    num_outputs=4,
    infer=lambda i, a: [
        SPARSE_INFER[0],
        ((None,), dtypes.int32),
        SPARSE_INFER[2],
        ((None,), dtypes.int64),
    ],
)
def _unicode_decode_sparse(
    x, input_encoding, errors="replace", replacement_char=65533, replace_control_characters=False
):
    pairs = [
        _decode(v, input_encoding, errors, replacement_char, replace_control_characters)
        for v in vector_of(x, "UnicodeDecode")
    ]
    idx, codes, shape = to_sparse([c for c, _ in pairs], np.int32)
    offsets = np.array([o for _, offs in pairs for o in offs], np.int64)
    return idx, codes, shape, offsets


not_differentiable("UnicodeTranscode", "UnicodeEncode", "UnicodeDecodeDense", "UnicodeDecodeSparse")


def unicode_transcode(
    input,
    input_encoding,
    output_encoding,
    errors="replace",  # noqa: A002
    replacement_char=65533,
    replace_control_characters=False,
    name=None,
):
    """Re-encodes each string from ``input_encoding`` to ``output_encoding``.
    ``tf.strings.unicode_transcode(input, input_encoding, output_encoding, errors='replace',
    replacement_char=65533, replace_control_characters=False, name=None)``"""
    _codec(input_encoding), _output_codec(output_encoding)
    return apply_op(
        "UnicodeTranscode",
        input,
        input_encoding=input_encoding,
        output_encoding=output_encoding,
        errors=errors,
        replacement_char=int(replacement_char),
        replace_control_characters=bool(replace_control_characters),
        name=name,
    )


def unicode_encode(
    input,
    output_encoding,
    errors="replace",
    replacement_char=65533,  # noqa: A002
    name=None,
):
    """Encodes the code points along the last axis of ``input`` into one string each.
    ``tf.strings.unicode_encode(input, output_encoding, errors='replace',
    replacement_char=65533, name=None)``"""
    _output_codec(output_encoding)
    return apply_op(
        "UnicodeEncode",
        input,
        output_encoding=output_encoding,
        errors=errors,
        replacement_char=int(replacement_char),
        name=name,
    )


def _decode_op(
    input,
    input_encoding,
    errors,
    replacement_char,  # noqa: A002
    replace_control_characters,
    name,
):
    """(code points, offsets): dense vectors for a scalar, SparseTensors for a vector."""
    _codec(input_encoding)
    x = array_ops.convert_to_tensor(input, dtype=dtypes.string)
    attrs = {
        "input_encoding": input_encoding,
        "errors": errors,
        "replacement_char": int(replacement_char),
        "replace_control_characters": bool(replace_control_characters),
        "name": name,
    }
    if rank_of(x) == 0:
        return apply_op("UnicodeDecodeDense", x, **attrs)
    idx, codes, shape, offsets = apply_op("UnicodeDecodeSparse", x, **attrs)
    return SparseTensor(idx, codes, shape), SparseTensor(idx, offsets, shape)


def unicode_decode(
    input,
    input_encoding,
    errors="replace",
    replacement_char=65533,  # noqa: A002
    replace_control_characters=False,
    name=None,
):
    """The code points (int32) of a string (a vector), or of a vector of strings (a
    SparseTensor; TF gives a RaggedTensor). ``tf.strings.unicode_decode(input,
    input_encoding, errors='replace', replacement_char=65533,
    replace_control_characters=False, name=None)``"""
    return _decode_op(
        input, input_encoding, errors, replacement_char, replace_control_characters, name
    )[0]


def unicode_decode_with_offsets(
    input,
    input_encoding,
    errors="replace",  # noqa: A002
    replacement_char=65533,
    replace_control_characters=False,
    name=None,
):
    """``(code points, byte offsets of their starts)``, shaped like `unicode_decode`'s
    result. ``tf.strings.unicode_decode_with_offsets(input, input_encoding,
    errors='replace', replacement_char=65533, replace_control_characters=False,
    name=None)``"""
    return _decode_op(
        input, input_encoding, errors, replacement_char, replace_control_characters, name
    )


def _split_chars(codes, input_encoding, errors, replacement_char):
    if isinstance(codes, SparseTensor):
        chars = unicode_encode(
            array_ops.expand_dims(codes.values, 1), input_encoding, errors, replacement_char
        )
        return SparseTensor(codes.indices, chars, codes.dense_shape)
    return unicode_encode(array_ops.expand_dims(codes, 1), input_encoding, errors, replacement_char)


def unicode_split(
    input,
    input_encoding,
    errors="replace",
    replacement_char=65533,  # noqa: A002
    name=None,
):
    """Each string split into its characters (each one encoded as a string): a vector for
    a scalar, a SparseTensor for a vector. ``tf.strings.unicode_split(input, input_encoding,
    errors='replace', replacement_char=65533, name=None)``"""
    codes = unicode_decode(input, input_encoding, errors, replacement_char, name=name)
    return _split_chars(codes, input_encoding, errors, replacement_char)


def unicode_split_with_offsets(
    input,
    input_encoding,
    errors="replace",  # noqa: A002
    replacement_char=65533,
    name=None,
):
    """``(characters, byte offsets of their starts)``, shaped like `unicode_split`'s result.
    ``tf.strings.unicode_split_with_offsets(input, input_encoding, errors='replace',
    replacement_char=65533, name=None)``"""
    codes, offsets = unicode_decode_with_offsets(
        input, input_encoding, errors, replacement_char, name=name
    )
    return _split_chars(codes, input_encoding, errors, replacement_char), offsets


_SCRIPT_STARTS = np.asarray(unicode_script_table.STARTS, np.int64)
_SCRIPT_CODES = np.asarray(unicode_script_table.CODES, np.int32)


def _script_infer(inputs, attrs):
    if inputs[0].dtype != dtypes.int32:
        raise TypeError(f"unicode_script takes int32 code points, got {inputs[0].dtype.name}")
    return [(dims(inputs[0]), dtypes.int32)]


@register_op("UnicodeScript", infer=_script_infer)
def _unicode_script(x):
    cp = np.asarray(x, np.int64)
    codes = _SCRIPT_CODES[np.searchsorted(_SCRIPT_STARTS, cp, side="right") - 1]
    return np.where((cp < 0) | (cp > 0x10FFFF), np.int32(-1), codes).astype(np.int32)


not_differentiable("UnicodeScript")


def unicode_script(input, name=None):  # noqa: A002
    """The ICU ``UScriptCode`` of each int32 code point (-1 for invalid ones), from the
    same table as TF. ``tf.strings.unicode_script(input, name=None)``"""
    return apply_op("UnicodeScript", input, name=name)
