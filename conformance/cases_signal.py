"""Complex numbers and tf.signal, CTC, candidate sampling and the remaining parsers."""

from __future__ import annotations

import numpy as np

from conformance.case import FLOATS, Arg, Case, Variant, const, integers, real
from conformance.cases_more import _field


def _complex(kind):
    """kind(complex(re, im)) split back into real and imaginary parts (differentiable)."""

    def fn(tf, re, im):
        out = getattr(tf.signal, kind)(tf.complex(re, im))
        return tf.math.real(out), tf.math.imag(out)

    fn.__name__ = f"signal.{kind}"
    return fn


def _real_in(kind):
    def fn(tf, x):
        out = getattr(tf.signal, kind)(x)
        return tf.math.real(out), tf.math.imag(out)

    fn.__name__ = f"signal.{kind}"
    return fn


def _real_out(kind, inverse_of):
    def fn(tf, x):
        return getattr(tf.signal, kind)(getattr(tf.signal, inverse_of)(x))

    fn.__name__ = f"signal.{kind}"
    return fn


def complex_parts(tf, re, im):
    c = tf.complex(re, im)
    conj = tf.math.conj(c)
    return tf.math.angle(c), tf.math.real(conj * c), tf.abs(c), tf.math.imag(conj)


def ctc_loss(tf, logits, lengths):
    labels = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [1, 2, 1], [2, 2])
    return tf.nn.ctc_loss(labels, logits, lengths)


def ctc_greedy(tf, logits, lengths):
    (decoded,), neg_sum = tf.nn.ctc_greedy_decoder(logits, lengths)
    return decoded, neg_sum


def ctc_beam(tf, logits, lengths):
    (decoded,), log_prob = tf.nn.ctc_beam_search_decoder(logits, lengths, beam_width=4, top_paths=1)
    return decoded, log_prob


def ctc_unique_labels(tf, labels):
    return tf.nn.ctc_unique_labels(labels)


def candidate_sampler(kind, **kw):
    def fn(tf, true_classes):
        sampled, true_expected, sampled_expected = getattr(tf.random, kind)(
            true_classes, 1, 5, True, 10, **kw
        )
        return sampled, true_expected, sampled_expected

    fn.__name__ = f"random.{kind}"
    return fn


def accidental_hits(tf, true_classes, sampled):
    return tf.nn.compute_accidental_hits(true_classes, sampled, num_true=1)


def regex_dynamic(tf, text, pattern):
    return tf.strings.regex_full_match(text, pattern), tf.strings.regex_replace(text, pattern, "#")


def decode_json_example(tf, text):
    return tf.io.decode_json_example(text)


def sparse_serialization(tf, values):
    sp = tf.SparseTensor([[0, 0, 1], [1, 0, 0], [1, 1, 2]], values, [2, 2, 3])
    return tf.io.deserialize_many_sparse(tf.io.serialize_many_sparse(sp), values.dtype)


def _sequence_example():
    """A tf.train.SequenceExample: context "c" (int64 7), feature list "s" of 2 floats."""

    def floats(*v):
        return _field(2, _field(1, np.array(v, "<f4").tobytes()))

    ctx = _field(1, _field(1, b"c") + _field(2, _field(3, _field(1, bytes([7])))))
    flist = _field(1, floats(1.5)) + _field(1, floats(-2.0))
    lists = _field(1, _field(1, b"s") + _field(2, flist))
    return _field(1, ctx) + _field(2, lists)


def parse_sequence_example(tf, serialized):
    ctx, seq = tf.io.parse_single_sequence_example(
        serialized,
        {"c": tf.io.FixedLenFeature([], tf.int64)},
        {"s": tf.io.FixedLenSequenceFeature([], tf.float32)},
    )
    return ctx, seq


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


LOGITS = (((5, 2, 4), (2,)), {})
CASES = [
    *[
        Case(
            _complex(k),
            (Arg(real), Arg(real)),
            _v((((4,), (4,)), {}), (((2, 3), (2, 3)), {})),
            FLOATS,
            1,
            tol=10,
        )
        for k in ("fft", "ifft")
    ],
    *[
        Case(_complex(k), (Arg(real), Arg(real)), _v((((2, 3), (2, 3)), {})), FLOATS, 1, tol=10)
        for k in ("fft2d", "ifft2d")
    ],
    *[
        Case(
            _complex(k), (Arg(real), Arg(real)), _v((((2, 2, 3), (2, 2, 3)), {})), FLOATS, 1, tol=10
        )
        for k in ("fft3d", "ifft3d")
    ],
    Case(
        _real_in("rfft"), (Arg(real),), _v((((6,),), {}), (((2, 5),), {})), ("float32",), 1, tol=10
    ),
    Case(_real_in("rfft2d"), (Arg(real),), _v((((3, 4),), {})), ("float32",), 1, tol=10),
    Case(_real_in("rfft3d"), (Arg(real),), _v((((2, 3, 4),), {})), ("float32",), 1, tol=10),
    Case(_real_out("irfft", "rfft"), (Arg(real),), _v((((6,),), {})), ("float32",), 1, tol=10),
    Case(
        _real_out("irfft2d", "rfft2d"), (Arg(real),), _v((((3, 4),), {})), ("float32",), 1, tol=10
    ),
    Case(
        _real_out("irfft3d", "rfft3d"),
        (Arg(real),),
        _v((((2, 3, 4),), {})),
        ("float32",),
        1,
        tol=10,
    ),
    Case(complex_parts, (Arg(real), Arg(real)), _v((((2, 3), (2, 3)), {})), FLOATS, 1),
    Case(
        ctc_loss,
        (Arg(real), Arg(const([5, 4]), "int32", diff=False)),
        _v(LOGITS),
        ("float32",),
        1,
        tol=10,
    ),
    Case(
        ctc_greedy,
        (Arg(real), Arg(const([5, 4]), "int32", diff=False)),
        _v(LOGITS),
        ("float32",),
        0,
    ),
    Case(
        ctc_beam,
        (Arg(real), Arg(const([5, 4]), "int32", diff=False)),
        _v(LOGITS),
        ("float32",),
        0,
        tol=10,
    ),
    Case(
        ctc_unique_labels,
        (Arg(const([[3, 1, 3, 0], [2, 2, 5, 0]])),),
        _v((((2, 4),), {})),
        ("int32",),
        0,
    ),
    *[
        Case(
            candidate_sampler(k),
            (Arg(integers(0, 10), "int64", diff=False),),
            _v((((4, 1),), {})),
            ("int64",),
            0,
            compare="shape",
            eager=False,
        )
        for k in ("uniform_candidate_sampler", "log_uniform_candidate_sampler")
    ],
    Case(
        accidental_hits,
        (
            Arg(const([[1], [3]]), "int64", diff=False),
            Arg(const([3, 1, 0, 3]), "int64", diff=False),
        ),
        _v((((2, 1), (4,)), {})),
        ("int64",),
        0,
    ),
    Case(
        regex_dynamic,
        (
            Arg(const([b"abc", b"a1", b""]), "string", diff=False),
            Arg(const(b"[a-c]+"), "string", diff=False),
        ),
        _v((((3,), ()), {})),
        ("string",),
        0,
    ),
    Case(
        decode_json_example,
        (
            Arg(
                const(b'{"features": {"feature": {"x": {"floatList": {"value": [1.5]}}}}}'),
                "string",
                diff=False,
            ),
        ),
        _v((((),), {})),
        ("string",),
        0,
    ),
    Case(sparse_serialization, (Arg(real),), _v((((3,),), {})), ("float32",), 0),
    Case(
        parse_sequence_example,
        (Arg(const(_sequence_example()), "string", diff=False),),
        _v((((),), {})),
        ("string",),
        0,
    ),
]
