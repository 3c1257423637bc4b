"""Trigonometric, special and "safe" math, scans, segment reductions and bitwise ops."""

from __future__ import annotations

from conformance.case import (
    FLOATS,
    NUMERIC,
    Arg,
    Case,
    Variant,
    binary_variants,
    const,
    integers,
    nonzero,
    positive,
    real,
    unary_variants,
    uniform,
    unit,
)

UNARY = [
    ("math.acos", unit, 2),
    ("math.asin", unit, 2),
    ("math.atan", real, 2),
    ("math.acosh", uniform(1.2, 3.0), 2),
    ("math.asinh", real, 2),
    ("math.atanh", unit, 2),
    ("math.cosh", real, 2),
    ("math.sinh", real, 2),
    ("math.erf", real, 2),
    ("math.erfc", real, 2),
    ("math.erfinv", unit, 2),
    ("math.lgamma", positive, 2),
    ("math.digamma", positive, 2),
    ("math.bessel_i0e", real, 2),
    ("math.bessel_i1e", real, 2),
    ("math.ndtri", uniform(0.05, 0.95), 2),
    ("math.rint", real, 1),
]

BINARY = [
    ("math.atan2", nonzero, FLOATS, 2),
    ("math.xdivy", nonzero, FLOATS, 2),
    ("math.xlogy", positive, FLOATS, 2),
    ("math.xlog1py", positive, FLOATS, 2),
    ("math.multiply_no_nan", real, FLOATS, 2),
    ("truncatediv", nonzero, ("int32",), 0),
    ("truncatemod", nonzero, NUMERIC, 1),
    ("math.nextafter", real, FLOATS, 0),
]


def _axis_variants(shapes=((4,), (2, 3), (2, 0), (3, 2, 2))):
    vs = []
    for s in shapes:
        for axis in (0, -1):
            for ex, rev in ((False, False), (True, False), (False, True), (True, True)):
                vs.append(Variant((s,), {"axis": axis, "exclusive": ex, "reverse": rev}))
    return vs


SORTED_IDS = Arg(const([0, 0, 1, 3, 3]), "int32", diff=False)
IDS = Arg(const([2, 0, -1, 2, 1]), "int32", diff=False)


def _unsorted(kind):
    def fn(tf, data, ids, n=3):
        return getattr(tf, kind)(data, ids, n)

    fn.__name__ = kind
    return fn


def bincount(tf, arr, minlength=None):
    return tf.math.bincount(arr, minlength=minlength)


def weighted_bincount(tf, arr, weights):
    return tf.math.bincount(arr, weights=weights)


CASES = (
    [Case(p, (Arg(d),), unary_variants(p), FLOATS, o, specials=True) for p, d, o in UNARY]
    + [
        Case(p, (Arg(d), Arg(d)), binary_variants(p), dt, o, specials=o > 0)
        for p, d, dt, o in BINARY
    ]
    + [
        Case(
            "math.xlogy",
            (Arg(const([0.0, 0.0, 1.0])), Arg(const([0.0, 2.0, 0.0]))),
            [Variant(((3,), (3,)))],
            label="zeros",
        ),
        Case(
            "math.multiply_no_nan",
            (Arg(const([1.0, 2.0])), Arg(const([float("inf"), 0.0]))),
            [Variant(((2,), (2,)))],
            order=1,
            label="inf-times-zero",
        ),
        Case(
            "math.betainc",
            (Arg(positive), Arg(positive), Arg(uniform(0.1, 0.9))),
            [Variant(((3,), (3,), (3,))), Variant(((2, 3), (3,), (2, 3)))],
            order=1,
        ),
        Case(
            "math.igamma", (Arg(positive), Arg(positive)), binary_variants("igamma", 0)[:5], order=1
        ),
        Case(
            "math.igammac",
            (Arg(positive), Arg(positive)),
            binary_variants("igammac", 0)[:5],
            order=1,
        ),
        Case(
            "math.polygamma",
            (Arg(const([0.0, 1.0, 2.0]), diff=False), Arg(positive)),
            [Variant(((3,), (3,)))],
            order=1,
        ),
        Case(
            "math.zeta",
            (Arg(uniform(1.5, 3.0), diff=False), Arg(positive)),
            [Variant(((3,), (3,))), Variant(((2, 3), (3,)))],
            order=1,
        ),
        Case("cumsum", (Arg(real),), _axis_variants(), NUMERIC),
        Case("math.cumprod", (Arg(nonzero),), _axis_variants(), NUMERIC),
        Case(
            "math.cumulative_logsumexp",
            (Arg(real),),
            [v for v in _axis_variants() if not v.kwargs["exclusive"]],
        ),
    ]
    + [
        Case(
            f"math.{k}",
            (Arg(real), SORTED_IDS),
            [Variant(((5,), (5,))), Variant(((5, 2), (5,)))],
            NUMERIC,
            1,
        )
        for k in ("segment_max", "segment_min", "segment_prod", "segment_mean")
    ]
    + [
        Case(
            _unsorted(k),
            (Arg(real), IDS),
            [Variant(((5,), (5,))), Variant(((5, 2), (5,)))],
            NUMERIC,
            1,
        )
        for k in (
            "unsorted_segment_max",
            "unsorted_segment_min",
            "unsorted_segment_prod",
            "unsorted_segment_mean",
            "unsorted_segment_sqrt_n",
        )
    ]
    + [
        Case(
            f"bitwise.{k}",
            (Arg(integers(-20, 20)), Arg(integers(-20, 20))),
            binary_variants(k)[:6],
            ("int32",),
            0,
        )
        for k in ("bitwise_and", "bitwise_or", "bitwise_xor")
    ]
    + [
        Case(
            f"bitwise.{k}",
            (Arg(integers(-20, 20)), Arg(integers(0, 8))),
            binary_variants(k)[:6],
            ("int32",),
            0,
        )
        for k in ("left_shift", "right_shift")
    ]
    + [
        Case(
            "bitwise.invert", (Arg(integers(-20, 20)),), unary_variants("invert")[:5], ("int32",), 0
        ),
        Case(
            bincount,
            (Arg(integers(0, 5), "int32", diff=False),),
            [Variant(((6,),)), Variant(((6,),), {"minlength": 8}), Variant(((0,),))],
            ("int32",),
            0,
        ),
        Case(
            weighted_bincount,
            (Arg(integers(0, 5), "int32", diff=False), Arg(real)),
            [Variant(((6,), (6,)))],
            ("float32",),
            0,
        ),
    ]
)
