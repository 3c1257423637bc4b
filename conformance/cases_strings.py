"""tf.strings and the tf.io decoders (string tensors are object arrays of bytes)."""

from __future__ import annotations

import numpy as np

from conformance.case import Arg, Case, Variant, const, integers, real

WORDS = [b"hello", b"World", b"  padded ", b"a,b,c", b"", b"tf 1.x", b"caf\xc3\xa9", b"123"]


def words(rng, shape, dtype):
    return np.array(rng.choice(np.array(WORDS, dtype=object), size=shape), dtype=object)


def numbers(rng, shape, dtype):
    v = rng.uniform(-100, 100, size=shape)
    return np.array([str(round(x, 3)).encode() for x in v.reshape(-1)], dtype=object).reshape(shape)


S = "string"
TEXT = Arg(words, S, diff=False)


def _strings(kind, **kw):
    def fn(tf, x):
        return getattr(tf.strings, kind)(x, **kw)

    fn.__name__ = f"strings.{kind}" + "".join(f",{k}={v}" for k, v in kw.items())
    return fn


def join(tf, a, b):
    return tf.strings.join([a, b], separator="-")


def reduce_join(tf, x, axis=None, separator=""):
    return tf.strings.reduce_join(x, axis=axis, separator=separator)


def split_sparse(tf, x, sep=","):
    return tf.strings.split(x, sep=sep, result_type="SparseTensor")


def string_split(tf, x):
    return tf.string_split(x, delimiter=" ")


def bytes_split(tf, x):
    return tf.strings.bytes_split(x)


def ngrams(tf, x, width=2):
    return tf.strings.ngrams(x, width, separator=" ")


def substr(tf, x, pos=1, length=2):
    return tf.strings.substr(x, pos, length)


def to_number(tf, x, out_type="float32"):
    return tf.strings.to_number(x, out_type=out_type)


def as_string(tf, x, precision=-1):
    return tf.strings.as_string(x, precision=precision)


def string_format(tf, x):
    return tf.strings.format("value: {}", [x])


def regex_replace(tf, x, pattern="l+", rewrite="L", replace_global=True):
    return tf.strings.regex_replace(x, pattern, rewrite, replace_global=replace_global)


def regex_full_match(tf, x, pattern="[a-z]+"):
    return tf.strings.regex_full_match(x, pattern)


def hash_bucket(tf, x):
    return (
        tf.strings.to_hash_bucket_fast(x, 10),
        tf.strings.to_hash_bucket_strong(x, 10, [1, 2]),
        tf.strings.to_hash_bucket(x, 10),
    )


def unsorted_segment_join(tf, x, ids):
    return tf.strings.unsorted_segment_join(x, ids, 3, separator="+")


def unicode_decode(tf, x):
    return tf.strings.unicode_decode(x, "UTF-8")


def unicode_encode(tf, codes):
    return tf.strings.unicode_encode(codes, "UTF-8")


def unicode_transcode(tf, x):
    return tf.strings.unicode_transcode(x, "UTF-8", "UTF-16-BE")


def base64_roundtrip(tf, x):
    enc = tf.io.encode_base64(x)
    return enc, tf.io.decode_base64(enc)


def decode_csv(tf, x):
    return tf.io.decode_csv(x, [[0.0], ["none"], [0]])


def decode_raw(tf, x):
    return tf.io.decode_raw(tf.io.serialize_tensor(x), "uint8")


def serialize_roundtrip(tf, x):
    return tf.io.parse_tensor(tf.io.serialize_tensor(x), x.dtype)


def decode_compressed(tf, x):
    return tf.io.decode_compressed(x)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


SHAPES = _v((((4,),), {}), (((2, 3),), {}), (((0,),), {}))
CSV = Arg(const([b"1.5,abc,3", b",,", b"-2,x y,0"]), S, diff=False)
CASES = [
    *[Case(_strings(k), (TEXT,), SHAPES, (S,), 0) for k in ("length", "lower", "upper", "strip")],
    Case(_strings("length", unit="UTF8_CHAR"), (TEXT,), SHAPES[:1], (S,), 0),
    Case(join, (TEXT, TEXT), _v((((4,), (4,)), {}), (((2, 3), (3,)), {})), (S,), 0),
    Case(
        reduce_join,
        (TEXT,),
        _v((((2, 3),), {}), (((2, 3),), {"axis": 1, "separator": "|"}), (((0,),), {})),
        (S,),
        0,
    ),
    Case(split_sparse, (TEXT,), _v((((4,),), {}), (((3,),), {"sep": " "})), (S,), 0),
    Case(string_split, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(bytes_split, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(ngrams, (TEXT,), _v((((4,),), {}), (((4,),), {"width": 3})), (S,), 0),
    Case(substr, (TEXT,), _v((((4,),), {"pos": 0, "length": 10}), (((4,),), {})), (S,), 0),
    Case(
        to_number,
        (Arg(numbers, S, diff=False),),
        _v((((4,),), {}), (((3,),), {"out_type": "float64"})),
        (S,),
        0,
    ),
    Case(
        to_number,
        (Arg(const([b"12", b"x"]), S, diff=False),),
        _v((((2,),), {})),
        (S,),
        0,
        label="bad",
    ),
    Case(
        as_string, (Arg(real),), _v((((4,),), {}), (((2, 2),), {"precision": 2})), ("float32",), 0
    ),
    Case(as_string, (Arg(integers(-50, 50)),), _v((((4,),), {})), ("int32",), 0, label="int"),
    Case(string_format, (Arg(integers(0, 9)),), _v((((3,),), {})), ("int32",), 0),
    Case(regex_replace, (TEXT,), _v((((4,),), {}), (((4,),), {"replace_global": False})), (S,), 0),
    Case(regex_full_match, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(hash_bucket, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(
        unsorted_segment_join,
        (TEXT, Arg(const([0, 2, 0, 1]), "int32", diff=False)),
        _v((((4,), (4,)), {})),
        (S,),
        0,
    ),
    Case(unicode_decode, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(
        unicode_encode,
        (Arg(const([[104, 233], [8364, 97]]), "int32", diff=False),),
        _v((((2, 2),), {})),
        ("int32",),
        0,
    ),
    Case(unicode_transcode, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(base64_roundtrip, (TEXT,), _v((((4,),), {})), (S,), 0),
    Case(decode_csv, (CSV,), _v((((3,),), {})), (S,), 0),
    Case(decode_raw, (Arg(integers(0, 100)),), _v((((3,),), {})), ("int32",), 0),
    Case(serialize_roundtrip, (Arg(real),), _v((((2, 3),), {})), ("float32",), 0),
    Case(decode_compressed, (TEXT,), _v((((4,),), {})), (S,), 0),
]
