"""String ops (`tf.strings`, TF1's `tf.string_join`, `tf.substr`, ...).

A `tf.string` tensor is a NumPy object array of ``bytes`` (see `core.values`); every kernel
here works on bytes and returns object arrays of bytes. None has a gradient, as in TF.
Regular expressions use Python's ``re`` on bytes: the RE2 syntax TF accepts is, for
ordinary patterns, the same; RE2's ``\\0`` in a rewrite means the whole match.
"""

from __future__ import annotations

import re

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.core.shapes import broadcast_dims
from miniflow.ops import shape_rules as rules
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.shape_rules import dims
from miniflow.ops.string_hash import fingerprint64, hash64, siphash24


def as_bytes_array(x) -> np.ndarray:
    """``x`` as an object array of bytes (str elements encoded as UTF-8)."""
    arr = np.asarray(x, dtype=object)
    if arr.size and not all(type(v) is bytes for v in arr.flat):
        arr = np.vectorize(
            lambda v: v.encode() if isinstance(v, str) else bytes(v), otypes=[object]
        )(arr)
    return arr


def map_strings(fn, x, otype=object) -> np.ndarray:
    """``fn`` applied to every element of the string array ``x``."""
    return map_elements(fn, as_bytes_array(x), otype)


def map_elements(fn, arr: np.ndarray, otype=object) -> np.ndarray:
    """``fn`` applied to every element of ``arr``, into a new array of ``otype``."""
    out = np.empty(arr.shape, dtype=otype)
    for i, v in enumerate(arr.flat):
        out.flat[i] = fn(v)
    return out


def _check_string(t, what="input"):
    if t.dtype != dtypes.string:
        raise TypeError(
            f"Input '{what}' of a string op has type {t.dtype.name} that does not "
            "match expected type of string; use tf.as_string to format numbers"
        )


def string_infer(out_dtype=dtypes.string):
    """Shape rule of an element-wise string op with ``out_dtype`` results."""

    def infer(inputs, attrs):
        _check_string(inputs[0])
        return [(dims(inputs[0]), out_dtype)]

    return infer


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


# ---------------------------------------------------------------------------------------
# Element-wise: join, length, case, strip, regular expressions, substrings.


def _join_infer(inputs, attrs):
    out = ()
    for i, t in enumerate(inputs):
        _check_string(t, f"inputs[{i}]")
        d = dims(t)
        if d is None or out is None:
            out = None if d != () else out
        elif d != () and out != () and len(d) == len(out):
            out = broadcast_dims(out, d)
            for a, b in zip(dims(t), out):
                if a is not None and b is not None and a != b:
                    raise ValueError(
                        f"StringJoin inputs must be scalars or have the same "
                        f"shape, got shapes {list(out)} and {list(d)}"
                    )
        elif d != () and out != ():
            raise ValueError(
                f"StringJoin inputs must be scalars or have the same shape, got "
                f"ranks {len(out)} and {len(d)}"
            )
        else:
            out = d if d != () else out
    return [(out, dtypes.string)]


@register_op("StringJoin", infer=_join_infer)
def _string_join(*inputs, separator=""):
    arrays = [as_bytes_array(a) for a in inputs]
    shapes = {a.shape for a in arrays if a.ndim}
    if len(shapes) > 1:
        raise _invalid(
            f"StringJoin: inputs must be scalars or have the same shape, got "
            f"{sorted(list(s) for s in shapes)}"
        )
    shape = shapes.pop() if shapes else ()
    sep = separator.encode() if isinstance(separator, str) else separator
    parts = [np.broadcast_to(a, shape) for a in arrays]
    out = np.empty(shape, dtype=object)
    for i in np.ndindex(shape):
        out[i] = sep.join(p[i] for p in parts)
    return out


def _utf8_len(v: bytes) -> int:
    return sum(1 for b in v if b & 0xC0 != 0x80)


@register_op("StringLength", infer=string_infer(dtypes.int32))
def _string_length(x, unit="BYTE"):
    return map_strings(len if unit == "BYTE" else _utf8_len, x, np.int32)


def _utf8(v: bytes, what: str) -> str:
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(f"{what}: invalid UTF-8 in {v[:40]!r}") from None


@register_op("StringLower", infer=string_infer())
def _string_lower(x, encoding=""):
    if encoding:
        return map_strings(lambda v: _utf8(v, "StringLower").lower().encode(), x)
    return map_strings(bytes.lower, x)


@register_op("StringUpper", infer=string_infer())
def _string_upper(x, encoding=""):
    if encoding:
        return map_strings(lambda v: _utf8(v, "StringUpper").upper().encode(), x)
    return map_strings(bytes.upper, x)


@register_op("StringStrip", infer=string_infer())
def _string_strip(x):
    return map_strings(lambda v: v.strip(b" \t\n\v\f\r"), x)


def _compile(pattern) -> re.Pattern:
    p = pattern if isinstance(pattern, bytes) else str(pattern).encode()
    try:
        return re.compile(p)
    except re.error as e:
        raise _invalid(f"Invalid pattern: {p.decode(errors='replace')}, error: {e}") from None


def _rewrite(rewrite) -> bytes:
    r = rewrite if isinstance(rewrite, bytes) else str(rewrite).encode()
    return re.sub(rb"\\(\d)", rb"\\g<\1>", r)


@register_op("StaticRegexFullMatch", infer=string_infer(dtypes.bool))
def _static_regex_full_match(x, pattern):
    rx = _compile(pattern)
    return map_strings(lambda v: rx.fullmatch(v) is not None, x, np.bool_)


@register_op("StaticRegexReplace", infer=string_infer())
def _static_regex_replace(x, pattern, rewrite, replace_global=True):
    rx, rw = _compile(pattern), _rewrite(rewrite)
    return map_strings(lambda v: rx.sub(rw, v, count=0 if replace_global else 1), x)


@register_op("RegexFullMatch", infer=string_infer(dtypes.bool))
def _regex_full_match(x, pattern):
    return _static_regex_full_match(x, as_bytes_array(pattern)[()])


@register_op("RegexReplace", infer=string_infer())
def _regex_replace(x, pattern, rewrite, replace_global=True):
    return _static_regex_replace(
        x, as_bytes_array(pattern)[()], as_bytes_array(rewrite)[()], replace_global
    )


def _utf8_offsets(v: bytes) -> list[int]:
    """Byte offset of every UTF-8 character start, then len(v)."""
    return [i for i, b in enumerate(v) if b & 0xC0 != 0x80] + [len(v)]


@register_op("Substr", infer=lambda i, a: [(rules._broadcast_all(i), dtypes.string)])
def _substr(x, pos, length, unit="BYTE"):
    x, pos, length = np.broadcast_arrays(as_bytes_array(x), np.asarray(pos), np.asarray(length))
    out = np.empty(x.shape, dtype=object)
    for i in np.ndindex(x.shape):
        v, p, n = x[i], int(pos[i]), int(length[i])
        offs = _utf8_offsets(v) if unit == "UTF8_CHAR" else None
        size = len(v) if offs is None else len(offs) - 1
        if not -size <= p <= size:
            raise _invalid(
                f"pos {p} out of range for string b'{v[:40].decode(errors='replace')}"
                f"' at index {list(i)}"
            )
        p = p + size if p < 0 else p
        end = size if n < 0 else min(size, p + n)  # TF: a negative length means "to the end"
        out[i] = v[p:end] if offs is None else v[offs[p] : offs[end]]
    return out


not_differentiable(
    "StringJoin",
    "StringLength",
    "StringLower",
    "StringUpper",
    "StringStrip",
    "StaticRegexFullMatch",
    "StaticRegexReplace",
    "RegexFullMatch",
    "RegexReplace",
    "Substr",
)


def join(inputs, separator="", name=None):
    """Element-wise concatenation of string tensors (scalars broadcast).
    ``tf.strings.join(inputs, separator='', name=None)``"""
    return apply_op("StringJoin", *inputs, separator=separator, name=name)


def length(input, name=None, unit="BYTE"):  # noqa: A002
    """Length of each string, in bytes or (``unit='UTF8_CHAR'``) characters.
    ``tf.strings.length(input, name=None, unit='BYTE')``"""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return apply_op("StringLength", input, unit=unit, name=name)


def lower(input, encoding="", name=None):  # noqa: A002
    """Lower-cases ASCII letters (all letters with ``encoding='utf-8'``).
    ``tf.strings.lower(input, encoding='', name=None)``"""
    return apply_op("StringLower", input, encoding=encoding, name=name)


def upper(input, encoding="", name=None):  # noqa: A002
    """Upper-cases ASCII letters (all letters with ``encoding='utf-8'``).
    ``tf.strings.upper(input, encoding='', name=None)``"""
    return apply_op("StringUpper", input, encoding=encoding, name=name)


def strip(input, name=None):  # noqa: A002
    """Removes leading and trailing ASCII whitespace. ``tf.strings.strip(input, name=None)``"""
    return apply_op("StringStrip", input, name=name)


def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each string matches ``pattern`` entirely.
    ``tf.strings.regex_full_match(input, pattern, name=None)``"""
    if isinstance(pattern, str | bytes):
        return apply_op("StaticRegexFullMatch", input, pattern=pattern, name=name)
    return apply_op("RegexFullMatch", input, pattern, name=name)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """Replaces matches of ``pattern`` with ``rewrite`` (``\\1`` refers to a group).
    ``tf.strings.regex_replace(input, pattern, rewrite, replace_global=True, name=None)``"""
    if isinstance(pattern, str | bytes) and isinstance(rewrite, str | bytes):
        return apply_op(
            "StaticRegexReplace",
            input,
            pattern=pattern,
            rewrite=rewrite,
            replace_global=bool(replace_global),
            name=name,
        )
    return apply_op(
        "RegexReplace", input, pattern, rewrite, replace_global=bool(replace_global), name=name
    )


def substr(input, pos, len, name=None, unit="BYTE"):  # noqa: A002
    """``len`` bytes (or UTF-8 characters) from ``pos`` (negative: from the end).
    ``tf.strings.substr(input, pos, len, name=None, unit='BYTE')``"""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return apply_op("Substr", input, pos, len, unit=unit, name=name)


# ---------------------------------------------------------------------------------------
# Numbers to and from strings, hashing.

_INT_TYPES = (dtypes.int32, dtypes.int64)


def _parse_float(v: bytes) -> float:
    s = v.decode("ascii", errors="replace").strip()
    try:
        return float(s)
    except ValueError:
        pass
    try:
        return float.fromhex(s)
    except ValueError:
        raise _invalid(
            f"StringToNumberOp could not correctly convert string: {v.decode(errors='replace')}"
        ) from None


def _parse_int(v: bytes, bits: int) -> int:
    s = v.decode("ascii", errors="replace").strip()
    try:
        out = int(s, 10) if re.fullmatch(r"[+-]?\d+", s) else None
    except ValueError:
        out = None
    if out is None or not -(1 << (bits - 1)) <= out < (1 << (bits - 1)):
        raise _invalid(
            f"StringToNumberOp could not correctly convert string: {v.decode(errors='replace')}"
        )
    return out


@register_op(
    "StringToNumber", infer=lambda i, a: string_infer(dtypes.as_dtype(a["out_type"]))(i, a)
)
def _string_to_number(x, out_type):
    dt = dtypes.as_dtype(out_type)
    if dt in _INT_TYPES:
        bits = np.dtype(dt.np).itemsize * 8
        return map_strings(lambda v: _parse_int(v, bits), x, dt.np)
    with np.errstate(over="ignore"):  # out-of-range values become inf, as in TF
        return map_strings(_parse_float, x, np.float64).astype(dt.np)


def _bucket(hash_fn):
    def kernel(x, num_buckets, key=None):
        if key is None:
            return map_strings(lambda v: hash_fn(v) % num_buckets, x, np.int64)
        k0, k1 = (int(k) & ((1 << 64) - 1) for k in key)
        return map_strings(lambda v: hash_fn(v, k0, k1) % num_buckets, x, np.int64)

    return kernel


register_op("StringToHashBucket", infer=string_infer(dtypes.int64))(_bucket(hash64))
register_op("StringToHashBucketFast", infer=string_infer(dtypes.int64))(_bucket(fingerprint64))
register_op("StringToHashBucketStrong", infer=string_infer(dtypes.int64))(_bucket(siphash24))


def _as_string_format(kind, precision, scientific, shortest, width, fill):
    """The printf spec of AsString for values of NumPy ``kind``; InvalidArgumentError (at
    run time, as in TF) for attributes that do not fit."""
    if len(fill) > 1:
        raise _invalid(f"Fill string must be one or fewer characters, got {fill!r}")
    if fill not in ("", " ", "0", "-"):
        raise _invalid(f"Fill argument not supported: {fill!r}; use ' ', '0' or '-'")
    if scientific and shortest:
        raise _invalid("Cannot select both scientific and shortest notation")
    flags = "0" if fill == "0" else ("-" if fill == "-" else "")
    spec = "%" + flags + (str(width) if width > -1 else "")
    if kind in "fc":
        spec += f".{precision}" if precision > -1 else ""
        spec += "e" if scientific else ("g" if shortest else "f")
    elif kind in "iu":
        if precision > -1 or scientific or shortest:
            raise _invalid(
                "precision, scientific and shortest apply to floating point values, not integers"
            )
        spec += "d"
    else:
        spec += "s"
    return spec


@register_op("AsString", infer=lambda i, a: [(dims(i[0]), dtypes.string)])
def _as_string(x, precision=-1, scientific=False, shortest=False, width=-1, fill=""):
    arr = np.asarray(x)
    spec = _as_string_format(arr.dtype.kind, precision, scientific, shortest, width, fill)
    if arr.dtype == np.bool_:
        return map_elements(lambda v: b"true" if v else b"false", arr)
    if arr.dtype.kind == "c":
        return map_elements(
            lambda v: ("(" + spec % v.real + "," + spec % v.imag + ")").encode(), arr
        )
    if arr.dtype.kind == "f":  # TF's CPU treats subnormal inputs as zero (DAZ)
        arr = np.where(np.abs(arr) < np.finfo(arr.dtype).tiny, np.copysign(0, arr), arr)
    cast = (
        float
        if arr.dtype.kind == "f"
        else (int if arr.dtype.kind in "iu" else (lambda v: v.decode(errors="replace")))
    )
    return map_elements(lambda v: (spec % cast(v)).encode(), arr)


not_differentiable(
    "StringToNumber",
    "StringToHashBucket",
    "StringToHashBucketFast",
    "StringToHashBucketStrong",
    "AsString",
)


def to_number(string_tensor=None, out_type=dtypes.float32, name=None, input=None):  # noqa: A002
    """Parses each string as a number (float32 default; int32/int64/float64 too).
    ``tf.strings.to_number(string_tensor=None, out_type=tf.float32, name=None, input=None)``
    """
    string_tensor = _either(string_tensor, input, "string_tensor")
    dt = dtypes.as_dtype(out_type)
    if dt not in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64):
        raise TypeError(f"out_type must be float32, float64, int32 or int64, got {dt.name}")
    return apply_op("StringToNumber", string_tensor, out_type=dt.name, name=name)


def _check_buckets(num_buckets):
    if int(num_buckets) < 1:
        raise ValueError(f"num_buckets must be >= 1, got {num_buckets}")
    return int(num_buckets)


def _either(value, alias, what):
    if value is not None and alias is not None:
        raise ValueError(f"Cannot specify both '{what}' and 'input'")
    if value is None and alias is None:
        raise ValueError(f"'{what}' (or 'input') is required")
    return value if value is not None else alias


def to_hash_bucket(string_tensor=None, num_buckets=None, name=None, input=None):  # noqa: A002
    """``Hash64(s) % num_buckets`` (TF's MurmurHash variant, bit-exact).
    ``tf.strings.to_hash_bucket(string_tensor=None, num_buckets=None, name=None,
    input=None)``"""
    string_tensor = _either(string_tensor, input, "string_tensor")
    if num_buckets is None:
        raise ValueError("num_buckets is required")
    return apply_op(
        "StringToHashBucket", string_tensor, num_buckets=_check_buckets(num_buckets), name=name
    )


def to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002
    """``Fingerprint64(s) % num_buckets`` (FarmHash, bit-exact with TF).
    ``tf.strings.to_hash_bucket_fast(input, num_buckets, name=None)``"""
    return apply_op(
        "StringToHashBucketFast", input, num_buckets=_check_buckets(num_buckets), name=name
    )


def to_hash_bucket_strong(input, num_buckets, key, name=None):  # noqa: A002
    """``SipHash-2-4_key(s) % num_buckets`` with a 2-int key (bit-exact with TF).
    ``tf.strings.to_hash_bucket_strong(input, num_buckets, key, name=None)``"""
    key = [int(k) for k in key]
    if len(key) != 2:
        raise ValueError(f"key must have exactly 2 elements, got {len(key)}")
    return apply_op(
        "StringToHashBucketStrong",
        input,
        num_buckets=_check_buckets(num_buckets),
        key=tuple(key),
        name=name,
    )


def as_string(
    input,
    precision=-1,
    scientific=False,
    shortest=False,
    width=-1,  # noqa: A002
    fill="",
    name=None,
):
    """Formats each number as a string like C's printf (``%f``, ``%e``, ``%g``, ``%d``).
    ``tf.strings.as_string(input, precision=-1, scientific=False, shortest=False, width=-1,
    fill='', name=None)``"""
    return apply_op(
        "AsString",
        input,
        precision=int(precision),
        scientific=bool(scientific),
        shortest=bool(shortest),
        width=int(width),
        fill=fill,
        name=name,
    )


# ---------------------------------------------------------------------------------------
# Reductions and formatting.


@register_op("ReduceJoin", infer=lambda i, a: [(rules.reduced(i, a)[0][0], dtypes.string)])
def _reduce_join(x, axis=None, keepdims=False, separator=""):
    arr = as_bytes_array(x)
    sep = separator.encode() if isinstance(separator, str) else separator
    axes = (
        tuple(range(arr.ndim))
        if axis is None
        else tuple(sorted({a % max(arr.ndim, 1) for a in axis}))
    )
    rest = [d for d in range(arr.ndim) if d not in axes]
    moved = np.transpose(arr, rest + list(axes)).reshape([arr.shape[d] for d in rest] + [-1])
    out = np.empty(moved.shape[:-1], dtype=object)
    for i in np.ndindex(out.shape):
        out[i] = sep.join(moved[i])
    if keepdims:
        out = out.reshape([1 if d in axes else arr.shape[d] for d in range(arr.ndim)])
    return out


@register_op("UnsortedSegmentJoin", infer=lambda i, a: [(None, dtypes.string)])
def _unsorted_segment_join(x, segment_ids, num_segments, separator=""):
    arr, ids = as_bytes_array(x), np.asarray(segment_ids)
    n = int(num_segments)
    if ids.shape != arr.shape[: ids.ndim]:
        raise _invalid(
            f"segment_ids shape {list(ids.shape)} must be a prefix of the input "
            f"shape {list(arr.shape)}"
        )
    sep = separator.encode() if isinstance(separator, str) else separator
    groups = [[] for _ in range(n)]
    inner = arr.reshape((ids.size,) + arr.shape[ids.ndim :])
    for k, s in enumerate(ids.reshape(-1)):
        if s >= n:
            raise _invalid(f"segment_ids[{k}] = {s} is out of range [0, {n})")
        if s >= 0:
            groups[s].append(k)
    out = np.empty((n,) + arr.shape[ids.ndim :], dtype=object)
    for s in range(n):
        for j in np.ndindex(out.shape[1:]):
            out[(s,) + j] = sep.join(inner[(k,) + j] for k in groups[s])
    return out


not_differentiable("ReduceJoin", "UnsortedSegmentJoin")


def reduce_join(
    inputs,
    axis=None,
    keep_dims=None,
    separator="",
    name=None,
    reduction_indices=None,
    keepdims=None,
):
    """Joins the strings along ``axis`` (all axes if None) with ``separator``.
    ``tf.strings.reduce_join(inputs, axis=None, keep_dims=False, separator='', name=None)``"""
    if axis is None:
        axis = reduction_indices
    if axis is not None:
        axis = (int(axis),) if np.ndim(axis) == 0 else tuple(int(a) for a in axis)
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name, "ReduceJoin"):
        return apply_op(
            "ReduceJoin", inputs, axis=axis, keepdims=keep, separator=separator, name="ReduceJoin"
        )


def unsorted_segment_join(inputs, segment_ids, num_segments, separator="", name=None):
    """Joins the strings of each segment (empty for segments with none).
    ``tf.strings.unsorted_segment_join(inputs, segment_ids, num_segments, separator='',
    name=None)``"""
    return apply_op(
        "UnsortedSegmentJoin",
        inputs,
        segment_ids,
        int(num_segments),
        separator=separator,
        name=name,
    )


def _format_float(v: np.floating) -> str:
    """TF's FloatToBuffer / DoubleToBuffer: ``%g`` with 6 (15) digits if that reads back
    as the same value, else 9 (17)."""
    if v.dtype == np.float64:
        short, full, cast = 15, 17, np.float64
    else:
        short, full, cast = 6, 9, np.float32
    text = f"{v:.{short}g}"
    return text if cast(float(text)) == cast(v) else f"{v:.{full}g}"


def _format_scalar(v) -> str:
    if isinstance(v, bytes):
        return '"' + v.decode(errors="replace") + '"'
    if isinstance(v, np.bool_ | bool):
        return "1" if v else "0"
    if isinstance(v, np.floating):
        return _format_float(v)
    return str(v)


def summarize(arr: np.ndarray, n: int) -> str:
    """TF's summary of a tensor (as `tf.print`): at most ``n`` leading and trailing
    entries per dimension (all if ``n < 0``), strings quoted."""
    if arr.ndim == 0:
        return _format_scalar(arr[()])

    def rec(a, depth):
        if not isinstance(a, np.ndarray):  # an element of an object (string) array
            return _format_scalar(a)
        if a.ndim == 0:
            return _format_scalar(a[()])
        size = a.shape[0]
        idx = list(range(size))
        cut = n >= 0 and size > 2 * n
        if cut:
            idx = idx[:n] + [None] + idx[size - n :]
        parts = ["..." if i is None else rec(a[i], depth + 1) for i in idx]
        sep = " " if a.ndim == 1 else "\n" * (a.ndim - 1) + " " * (depth + 1)
        return "[" + sep.join(parts) + "]"

    return rec(arr, 0)


@register_op("StringFormat", infer=lambda i, a: [((), dtypes.string)])
def _string_format(*inputs, template, placeholder="{}", summarize=3):
    pieces = template.split(placeholder)
    texts = [summarize_value(v, summarize) for v in inputs]
    out = pieces[0] + "".join(t + p for t, p in zip(texts, pieces[1:]))
    return np.asarray(out.encode(), dtype=object)


def summarize_value(value, n):
    arr = np.asarray(value)
    if arr.dtype == object:
        arr = as_bytes_array(arr)
    return summarize(arr, n)


not_differentiable("StringFormat")


def string_format(template, inputs, placeholder="{}", summarize=3, name=None):
    """``template`` with each ``placeholder`` replaced by a summary of one input tensor.
    ``tf.strings.format(template, inputs, placeholder='{}', summarize=3, name=None)``"""
    if not isinstance(inputs, list | tuple):
        inputs = [inputs]
    if template.count(placeholder) != len(inputs):
        raise ValueError(
            f"{template.count(placeholder)} placeholder(s) in template does not "
            f"match {len(inputs)} tensor(s) provided as input"
        )
    return apply_op(
        "StringFormat",
        *inputs,
        template=template,
        placeholder=placeholder,
        summarize=int(summarize),
        name=name,
    )
