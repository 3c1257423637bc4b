"""3-D and depthwise convolution, sparse sets, more image ops, codecs, files and
tf.Example parsing."""

from __future__ import annotations

import atexit
import io
import os
import struct
import tempfile

import numpy as np

from conformance.case import Arg, Case, Variant, const, integers, real


def conv3d(tf, x, f, strides=(1, 1, 1, 1, 1), padding="SAME"):
    return tf.nn.conv3d(x, f, list(strides), padding)


def pool3d(kind):
    def fn(tf, x, ksize=(1, 2, 2, 2, 1), strides=(1, 2, 2, 2, 1), padding="VALID"):
        return getattr(tf.nn, kind)(x, list(ksize), list(strides), padding)

    fn.__name__ = f"nn.{kind}"
    return fn


def depthwise_conv2d(tf, x, f, strides=(1, 1, 1, 1), padding="SAME"):
    return tf.nn.depthwise_conv2d(x, f, list(strides), padding)


def sparse_sets(kind, both_sparse):
    def fn(tf, a, b):
        sb = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], b, [2, 2])
        sa = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], a, [2, 2]) if both_sparse else a
        return getattr(tf.sets, kind)(sa, sb)

    fn.__name__ = f"sets.{kind}.{'sparse-sparse' if both_sparse else 'dense-sparse'}"
    return fn


def nms_overlaps(tf, overlaps, scores):
    return tf.image.non_max_suppression_overlaps(overlaps, scores, 3, 0.5)


def sample_distorted_bounding_box(tf, boxes):
    begin, size, box = tf.image.sample_distorted_bounding_box(
        [40, 60, 3], boxes, min_object_covered=0.1
    )
    return begin, size, box


def _encoded(fmt, shape=(4, 5, 3)):
    """An image file's bytes (PIL; both frameworks decode the same file)."""

    def draw(rng, _, dtype):
        from PIL import Image  # noqa: PLC0415 - only these cases need it

        pixels = rng.integers(0, 256, size=shape).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format=fmt)
        return np.array(buf.getvalue(), dtype=object)

    return draw


def decode(kind):
    def fn(tf, data):
        return getattr(tf.image, kind)(data)

    fn.__name__ = f"image.{kind}"
    return fn


def decode_image_png(tf, image):
    return tf.image.decode_image(tf.image.encode_png(image))


def _path(name):
    return os.path.join(tempfile.gettempdir(), f"miniflow-conformance-{os.getpid()}-{name}")


def _remove(path):
    if os.path.exists(path):
        os.remove(path)


atexit.register(_remove, _path("roundtrip.txt"))


def file_roundtrip(tf, contents):
    path = _path("roundtrip.txt")
    write = tf.io.write_file(path, contents)
    with tf.control_dependencies([write]):
        return tf.io.read_file(path), tf.io.matching_files(_path("round*.txt"))


# -- tf.Example protos, encoded by hand (protobuf wire format) -----------------------------


def _varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _field(number, payload: bytes):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def example(floats, ints, text):
    """A serialized tf.train.Example with features "f" (floats), "i" (int64), "s" (bytes)."""
    feats = {
        b"f": _field(2, _field(1, struct.pack(f"<{len(floats)}f", *floats))),
        b"i": _field(3, _field(1, b"".join(_varint(i) for i in ints))),
        b"s": _field(1, b"".join(_field(1, t) for t in text)),
    }
    if not text:  # absent: FixedLenFeature falls back to its default
        del feats[b"s"]
    entries = b"".join(_field(1, _field(1, k) + _field(2, v)) for k, v in feats.items())
    return _field(1, entries)


EXAMPLES = np.array(
    [example([1.5, -2.0], [3], [b"a"]), example([0.25, 4.0], [7, 8], [])], dtype=object
)


def parse_example(tf, serialized):
    spec = {
        "f": tf.io.FixedLenFeature([2], tf.float32),
        "i": tf.io.VarLenFeature(tf.int64),
        "s": tf.io.FixedLenFeature([], tf.string, default_value="none"),
    }
    return tf.io.parse_example(serialized, spec)


def dilation2d(tf, x, f, strides=(1, 1, 1, 1), rates=(1, 1, 1, 1), padding="SAME"):
    return tf.nn.dilation2d(x, f, list(strides), list(rates), padding)


def max_pool_with_argmax(tf, x, padding="VALID"):
    return tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], padding)


def serialize_sparse(tf, values):
    sp = tf.SparseTensor([[0, 1], [2, 0]], values, [3, 2])
    data = tf.io.serialize_sparse(sp)
    return tf.io.deserialize_many_sparse(tf.stack([data]), values.dtype)


def static_hash_table(tf, keys):
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant([3, 5, 7], tf.int64), tf.constant([0.5, 1.5, 2.5])
        ),
        -1.0,
    )
    return table.lookup(keys), table.size()


def decode_and_crop_jpeg(tf, image):
    return tf.image.decode_and_crop_jpeg(tf.image.encode_jpeg(image), [1, 2, 4, 3])


def adjust_jpeg_quality(tf, image, quality=50):
    return tf.image.adjust_jpeg_quality(image, quality)


def extract_glimpse(tf, x, offsets, centered=False, normalized=False):
    return tf.image.extract_glimpse(x, [2, 3], offsets, centered=centered, normalized=normalized)


def fractional_max_pool(tf, x):
    return tf.nn.fractional_max_pool(x, [1.0, 1.5, 1.5, 1.0])[0]


def multinomial(tf, logits):
    return tf.multinomial(logits, 2000)


def random_poisson(tf, lam):
    return tf.random_poisson(lam, [2000])


def repeat(tf, x, repeats, axis=None):
    return tf.repeat(x, repeats, axis=axis)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


CASES = [
    Case(
        conv3d,
        (Arg(real), Arg(real)),
        _v(
            (((1, 3, 4, 4, 2), (2, 2, 2, 2, 3)), {}),
            (((2, 4, 4, 3, 1), (3, 2, 2, 1, 2)), {"strides": (1, 2, 1, 2, 1), "padding": "VALID"}),
        ),
        tol=10,
    ),
    *[
        Case(
            pool3d(k),
            (Arg(real),),
            _v(
                (((1, 4, 4, 4, 2),), {}),
                (
                    ((2, 3, 5, 4, 1),),
                    {"ksize": (1, 2, 3, 2, 1), "strides": (1, 1, 2, 1, 1), "padding": "SAME"},
                ),
            ),
        )
        for k in ("max_pool3d", "avg_pool3d")
    ],
    Case(
        depthwise_conv2d,
        (Arg(real), Arg(real)),
        _v(
            (((1, 5, 5, 2), (3, 3, 2, 2)), {}),
            (((2, 6, 5, 3), (2, 2, 3, 1)), {"strides": (1, 2, 2, 1), "padding": "VALID"}),
        ),
        tol=10,
    ),
    *[
        Case(
            sparse_sets(k, s),
            (Arg(integers(0, 4)), Arg(integers(0, 4))),
            [Variant(((3,) if s else (2, 3), (3,)))],
            ("int32",),
            0,
        )
        for k in ("intersection", "union", "difference")
        for s in (False, True)
    ],
    Case(
        nms_overlaps,
        (
            Arg(const([[1.0, 0.7, 0.2], [0.7, 1.0, 0.0], [0.2, 0.0, 1.0]])),
            Arg(const([0.9, 0.8, 0.7])),
        ),
        [Variant(((3, 3), (3,)))],
        ("float32",),
        0,
    ),
    Case(
        sample_distorted_bounding_box,
        (Arg(const([[[0.1, 0.1, 0.8, 0.9]]]), diff=False),),
        [Variant(((1, 1, 4),))],
        ("float32",),
        0,
        compare="shape",
        eager=False,
    ),
    Case(
        decode("decode_bmp"),
        (Arg(_encoded("BMP"), "string", diff=False),),
        [Variant(((),))],
        ("string",),
        0,
    ),
    Case(
        decode("decode_gif"),
        (Arg(_encoded("GIF"), "string", diff=False),),
        [Variant(((),))],
        ("string",),
        0,
    ),
    Case(
        decode("decode_webp"),
        (Arg(_encoded("WEBP"), "string", diff=False),),
        [Variant(((),))],
        ("string",),
        0,
    ),
    Case(
        decode_image_png, (Arg(integers(0, 256), "uint8"),), [Variant(((3, 4, 3),))], ("uint8",), 0
    ),
    Case(
        file_roundtrip,
        (Arg(const(b"some bytes\n"), "string", diff=False),),
        [Variant(((),))],
        ("string",),
        0,
        eager=False,
    ),
    Case(
        parse_example,
        (Arg(const(EXAMPLES), "string", diff=False),),
        [Variant(((2,),))],
        ("string",),
        0,
    ),
    Case(
        dilation2d,
        (Arg(real), Arg(real)),
        _v(
            (((1, 4, 5, 2), (2, 2, 2)), {}),
            (
                ((2, 5, 5, 1), (3, 2, 1)),
                {"strides": (1, 2, 2, 1), "rates": (1, 1, 2, 1), "padding": "VALID"},
            ),
        ),
        order=1,
    ),
    Case(
        max_pool_with_argmax,
        (Arg(real),),
        _v((((1, 4, 4, 2),), {}), (((2, 5, 3, 1),), {"padding": "SAME"})),
        ("float32",),
        1,
    ),
    Case(serialize_sparse, (Arg(real),), _v((((2,),), {})), ("float32",), 0),
    Case(
        static_hash_table,
        (Arg(const([5, 1, 7, 3]), "int64", diff=False),),
        _v((((4,),), {})),
        ("int64",),
        0,
    ),
    Case(
        "strings.bytes_split",
        (Arg(const(b"abc"), "string", diff=False),),
        [Variant(((),))],
        ("string",),
        0,
        label="scalar",
    ),
    Case(
        "strings.unicode_decode",
        (Arg(const("héllo".encode()), "string", diff=False),),
        [Variant(((),), {"input_encoding": "UTF-8"})],
        ("string",),
        0,
        label="scalar",
    ),
    Case(
        decode_and_crop_jpeg,
        (Arg(integers(0, 256), "uint8"),),
        _v((((8, 8, 3),), {})),
        ("uint8",),
        0,
        compare="shape",
    ),
    Case(
        adjust_jpeg_quality,
        (Arg(integers(0, 256), "uint8"),),
        _v((((8, 8, 3),), {})),
        ("uint8",),
        0,
        compare="shape",
    ),
    Case(
        extract_glimpse,
        (Arg(real), Arg(const([[1.0, 1.0], [2.0, 3.0]]), diff=False)),
        _v((((2, 5, 6, 1), (2, 2)), {})),
        ("float32",),
        0,
    ),
    Case(
        fractional_max_pool,
        (Arg(real),),
        _v((((1, 6, 6, 2),), {})),
        ("float32",),
        0,
        compare="shape",
        eager=False,
    ),
    Case(
        multinomial,
        (Arg(const([[0.0, 1.0, 2.0], [1.0, 1.0, -1.0]]), diff=False),),
        _v((((2, 3),), {})),
        ("float32",),
        0,
        compare="stats",
        eager=False,
    ),
    Case(
        random_poisson,
        (Arg(const([1.0, 4.0]), diff=False),),
        _v((((2,),), {})),
        ("float32",),
        0,
        compare="stats",
        eager=False,
    ),
    Case(
        repeat,
        (Arg(real), Arg(const([1, 0, 2]), "int32", diff=False)),
        _v((((3,), (3,)), {}), (((3, 2), (3,)), {"axis": 0})),
    ),
    Case(
        "strings.unicode_script",
        (Arg(const([65, 0x3B1, 0x416, 0x4E00]), "int32", diff=False),),
        _v((((4,),), {})),
        ("int32",),
        0,
    ),
]
