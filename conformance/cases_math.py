"""Element-wise math, comparisons, reductions, matmul and dtype promotion."""

from __future__ import annotations

from conformance.case import (
    FLOATS,
    NUMERIC,
    Arg,
    Case,
    Variant,
    binary_variants,
    booleans,
    nonzero,
    positive,
    random_shapes,
    real,
    unary_variants,
    uniform,
    unit,
)

# path, domain, dtypes, gradient order (2: smooth)
UNARY = [
    ("abs", nonzero, NUMERIC, 2),
    ("negative", real, NUMERIC, 2),
    ("sign", nonzero, NUMERIC, 1),
    ("square", real, NUMERIC, 2),
    ("exp", real, NUMERIC, 2),
    ("expm1", real, FLOATS, 2),
    ("log", positive, NUMERIC, 2),
    ("log1p", uniform(-0.5, 2.0), FLOATS, 2),
    ("sqrt", positive, NUMERIC, 2),
    ("rsqrt", positive, FLOATS, 2),
    ("reciprocal", nonzero, NUMERIC, 2),
    ("sin", real, FLOATS, 2),
    ("cos", real, FLOATS, 2),
    ("tan", unit, FLOATS, 2),
    ("tanh", real, FLOATS, 2),
    ("sigmoid", real, FLOATS, 2),
    ("floor", real, FLOATS, 1),
    ("ceil", real, FLOATS, 1),
    ("round", real, FLOATS, 1),
    ("nn.relu", nonzero, NUMERIC, 2),
    ("nn.elu", nonzero, FLOATS, 2),
    ("nn.softplus", real, FLOATS, 2),
    ("nn.relu6", uniform(-3.0, 8.0, nonzero=True), FLOATS, 2),
    ("nn.selu", nonzero, FLOATS, 2),
    ("nn.softsign", real, FLOATS, 2),
    ("nn.leaky_relu", nonzero, FLOATS, 2),
    ("math.log_sigmoid", real, FLOATS, 2),
    ("math.is_nan", real, FLOATS, 0),
    ("math.is_inf", real, FLOATS, 0),
    ("math.is_finite", real, FLOATS, 0),
    ("stop_gradient", real, FLOATS, 1),
    ("identity", real, NUMERIC, 2),
    ("zeros_like", real, NUMERIC, 1),
    ("ones_like", real, NUMERIC, 1),
]

BINARY = [
    ("add", real, NUMERIC, 2),
    ("subtract", real, NUMERIC, 2),
    ("multiply", real, NUMERIC, 2),
    ("truediv", nonzero, NUMERIC, 2),
    ("divide", nonzero, NUMERIC, 2),
    ("realdiv", nonzero, FLOATS, 2),
    ("div", nonzero, NUMERIC, 2),
    ("floordiv", nonzero, NUMERIC, 1),
    ("floormod", nonzero, NUMERIC, 1),
    ("maximum", real, NUMERIC, 2),
    ("minimum", real, NUMERIC, 2),
    ("pow", positive, FLOATS, 2),
    ("squared_difference", real, NUMERIC, 2),
    ("equal", uniform(-1, 1), NUMERIC, 0),
    ("not_equal", uniform(-1, 1), NUMERIC, 0),
    ("less", uniform(-1, 1), NUMERIC, 0),
    ("less_equal", uniform(-1, 1), NUMERIC, 0),
    ("greater", uniform(-1, 1), NUMERIC, 0),
    ("greater_equal", uniform(-1, 1), NUMERIC, 0),
]


def add_n(tf, a, b, c):
    return tf.add_n([a, b, c])


LOGICAL = ["logical_and", "logical_or", "logical_xor"]


def _unary(path, dom, dtypes, order):
    return Case(
        path, (Arg(dom),), unary_variants(path), dtypes, order, specials=dtypes != ("int32",)
    )


def _binary(path, dom, dtypes, order):
    return Case(
        path, (Arg(dom), Arg(dom)), binary_variants(path), dtypes, order, specials=order > 0
    )


def _promotion(path):
    """Mixed dtypes and Python scalars: TF1 never promotes; it converts or raises."""
    shapes = ((2, 3), (3,))
    vs = [
        Variant(shapes, dtypes=d, label="mixed")
        for d in [("float32", "float64"), ("int32", "float32"), ("float64", "int32")]
    ]
    return [
        Case(path, (Arg(positive), Arg(positive)), vs, ("float32",), 0, label="promotion"),
        Case(path, (Arg(positive), 2), [Variant(((2, 3),))], NUMERIC, 1, label="int-literal"),
        Case(path, (Arg(positive), 1.5), [Variant(((2, 3),))], NUMERIC, 1, label="float-literal"),
    ]


def _reduction_variants(path):
    vs = []
    for shape in [(2, 3), (3,), (), (2, 0, 3), (0,), (1, 4, 1)] + random_shapes(path, 2, (1, 3)):
        r = len(shape)
        axes = [None] + ([0, -1, [0, r - 1]] if r else [])
        for axis in axes:
            for keep in (False, True):
                vs.append(Variant((shape,), {"axis": axis, "keepdims": keep}))
    return vs


REDUCTIONS = [
    ("reduce_sum", real, NUMERIC, 2),
    ("reduce_mean", real, NUMERIC, 2),
    ("reduce_prod", nonzero, NUMERIC, 2),
    ("reduce_max", real, NUMERIC, 1),
    ("reduce_min", real, NUMERIC, 1),
    ("reduce_logsumexp", real, FLOATS, 2),
    ("math.reduce_std", real, FLOATS, 2),
    ("math.reduce_variance", real, FLOATS, 2),
]


def _matmul_variants():
    vs = []
    for m, k, n in [(2, 3, 4), (1, 1, 1), (3, 0, 2), (0, 2, 3)]:
        for ta in (False, True):
            for tb in (False, True):
                a = (k, m) if ta else (m, k)
                b = (n, k) if tb else (k, n)
                vs.append(Variant((a, b), {"transpose_a": ta, "transpose_b": tb}))
    vs += [Variant(((2, 2, 3), (2, 3, 4))), Variant(((3, 2, 2, 3), (3, 2, 3, 1)))]
    return vs


CASES = (
    [_unary(*row) for row in UNARY]
    + [_binary(*row) for row in BINARY]
    + [
        Case(p, (Arg(booleans, "bool"), Arg(booleans, "bool")), binary_variants(p), ("bool",), 0)
        for p in LOGICAL
    ]
    + [Case("logical_not", (Arg(booleans, "bool"),), unary_variants("logical_not"), ("bool",), 0)]
    + [c for p in ("add", "multiply", "maximum", "truediv", "pow", "equal") for c in _promotion(p)]
    + [Case(p, (Arg(d),), _reduction_variants(p), dt, o) for p, d, dt, o in REDUCTIONS]
    + [
        Case(p, (Arg(booleans, "bool"),), _reduction_variants(p), ("bool",), 0)
        for p in ("reduce_all", "reduce_any")
    ]
    + [
        Case(
            p,
            (Arg(real),),
            [
                Variant((s,), {"axis": a})
                for s, a in [
                    ((2, 3), 0),
                    ((2, 3), 1),
                    ((4,), 0),
                    ((2, 3, 2), -1),
                    ((0, 3), 1),
                    ((3, 0), 1),
                ]
            ],
            NUMERIC,
            0,
        )
        for p in ("argmax", "argmin")
    ]
    + [
        Case("matmul", (Arg(real), Arg(real)), _matmul_variants(), NUMERIC, 2),
        Case(
            add_n,
            (Arg(real), Arg(real), Arg(real)),
            [Variant((s, s, s)) for s in [(), (3,), (2, 3), (0, 2)]],
            NUMERIC,
            2,
        ),
        Case("matmul", (Arg(real), Arg(real)), [Variant(((2, 3), (4, 2)))], label="bad-shape"),
        Case(
            "math.floordiv",
            (Arg(uniform(-3, 3)), Arg(uniform(-1, 1))),
            [Variant(((4,), (4,)))],
            ("int32",),
            0,
            label="by-zero",
        ),
        Case(
            "math.floormod",
            (Arg(uniform(-3, 3)), Arg(uniform(-1, 1))),
            [Variant(((4,), (4,)))],
            ("int32",),
            0,
            label="by-zero",
        ),
        Case(
            "cast",
            (Arg(real),),
            [
                Variant(((2, 3),), {"dtype": t})
                for t in ("float64", "float32", "int32", "bool", "int64")
            ]
            + [Variant(((0,),), {"dtype": "float64"})],
            FLOATS,
            1,
        ),
        Case(
            "cast",
            (Arg(uniform(-5, 5)),),
            [Variant(((2, 3),), {"dtype": t}) for t in ("float32", "float64", "bool")],
            ("int32",),
            0,
            label="from-int",
        ),
    ]
)
