"""Shapes, slicing, joining, gathering and the other array ops."""

from __future__ import annotations

from conformance.case import NUMERIC, Arg, Case, Variant, booleans, integers, real

IDX = Arg(integers(0, 3), "int32", diff=False)


def concat(tf, a, b, axis=0):
    return tf.concat([a, b], axis)


def stack(tf, a, b, axis=0):
    return tf.stack([a, b], axis=axis)


def getitem(tf, x, key=None):
    return x[key]


def dynamic_stitch(tf, a, b):
    return tf.dynamic_stitch([[0, 2], [1, 3, 4]], [a, b])


def dynamic_partition(tf, x, parts):
    return tf.dynamic_partition(x, parts, 3)


def where_index(tf, c):
    return tf.where(c)


def placeholder_with_default(tf, x):
    return tf.placeholder_with_default(x, [None] * len(x.shape)) * 2.0


def shape_of(tf, x, out_type="int32"):
    return tf.shape(x, out_type=out_type), tf.size(x, out_type=out_type), tf.rank(x)


def fill(tf, value, dims=(2, 3)):
    return tf.fill(dims, value)


def range_(tf, start, limit, delta):
    return tf.range(start, limit, delta)


def split_sizes(tf, x, sizes=(1, 2), axis=0):
    return tf.split(x, list(sizes), axis)


def unsorted_segment_sum(tf, data, ids, n=3):
    return tf.unsorted_segment_sum(data, ids, n)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


CASES = [
    Case(
        concat,
        (Arg(real), Arg(real)),
        _v(
            (((2, 3), (1, 3)), {"axis": 0}),
            (((2, 3), (2, 1)), {"axis": 1}),
            (((2, 3), (2, 0)), {"axis": -1}),
            (((0, 3), (2, 3)), {"axis": 0}),
            (((3,), (2,)), {"axis": 0}),
            (((2, 1, 2), (2, 3, 2)), {"axis": 1}),
        ),
        NUMERIC,
    ),
    Case(concat, (Arg(real), Arg(real)), _v((((2, 3), (2, 2)), {"axis": 0})), label="bad-shape"),
    Case(
        stack,
        (Arg(real), Arg(real)),
        _v(
            (((2, 3), (2, 3)), {"axis": 0}),
            (((2, 3), (2, 3)), {"axis": -1}),
            (((), ()), {"axis": 0}),
            (((0, 2), (0, 2)), {"axis": 1}),
        ),
        NUMERIC,
    ),
    Case(
        "unstack",
        (Arg(real),),
        _v(
            (((3, 2),), {"axis": 0}),
            (((3, 2),), {"axis": 1}),
            (((2, 1, 3),), {"axis": -1}),
            (((2, 0),), {"axis": 0}),
        ),
        NUMERIC,
    ),
    Case(
        "split",
        (Arg(real),),
        _v(
            (((4, 3),), {"num_or_size_splits": 2, "axis": 0}),
            (((2, 6),), {"num_or_size_splits": 3, "axis": 1}),
            (((2, 0),), {"num_or_size_splits": 2, "axis": 0}),
        ),
        NUMERIC,
    ),
    Case(
        split_sizes,
        (Arg(real),),
        _v(
            (((3, 2),), {"sizes": (1, 2), "axis": 0}),
            (((2, 5),), {"sizes": (2, -1), "axis": 1}),
            (((3, 2),), {"sizes": (3, 0), "axis": 0}),
        ),
    ),
    Case(
        "split", (Arg(real),), _v((((3, 2),), {"num_or_size_splits": 2, "axis": 0})), label="uneven"
    ),
    Case(
        "expand_dims",
        (Arg(real),),
        _v(
            (((2, 3),), {"axis": 0}),
            (((2, 3),), {"axis": -1}),
            (((),), {"axis": 0}),
            (((2, 0),), {"axis": 1}),
        ),
        NUMERIC,
    ),
    Case(
        "squeeze",
        (Arg(real),),
        _v(
            (((1, 2, 1),), {}),
            (((1, 2, 1),), {"axis": [0]}),
            (((1, 0, 1),), {"axis": [-1]}),
            (((1,),), {}),
        ),
        NUMERIC,
    ),
    Case("squeeze", (Arg(real),), _v((((2, 3),), {"axis": [0]})), label="not-one"),
    Case(
        "reshape",
        (Arg(real),),
        _v(
            (((2, 3),), {"shape": [3, 2]}),
            (((2, 3),), {"shape": [-1]}),
            (((2, 0, 3),), {"shape": [-1, 3]}),
            (((),), {"shape": [1, 1]}),
            (((4,),), {"shape": [2, -1]}),
        ),
        NUMERIC,
    ),
    Case("reshape", (Arg(real),), _v((((2, 3),), {"shape": [4, 2]})), label="bad-size"),
    Case(
        "transpose",
        (Arg(real),),
        _v(
            (((2, 3),), {}),
            (((2, 3, 4),), {"perm": [1, 2, 0]}),
            (((0, 3),), {}),
            (((2, 1, 3),), {"perm": [2, 0, 1]}),
        ),
        NUMERIC,
    ),
    Case(
        "tile",
        (Arg(real),),
        _v(
            (((2, 3),), {"multiples": [2, 1]}),
            (((3,),), {"multiples": [0]}),
            (((1, 2),), {"multiples": [3, 2]}),
        ),
        NUMERIC,
    ),
    Case("tile", (Arg(real),), _v((((2, 3),), {"multiples": [2]})), label="bad-multiples"),
    Case(
        "broadcast_to",
        (Arg(real),),
        _v(
            (((3,),), {"shape": [2, 3]}),
            (((1, 3),), {"shape": [2, 2, 3]}),
            (((),), {"shape": [2]}),
            (((1,),), {"shape": [0]}),
        ),
        NUMERIC,
    ),
    Case("broadcast_to", (Arg(real),), _v((((3,),), {"shape": [2, 2]})), label="bad-shape"),
    Case(
        "gather",
        (Arg(real), IDX),
        _v(
            (((3, 2), (4,)), {}),
            (((3,), (2, 2)), {}),
            (((2, 3), (2,)), {"axis": 1}),
            (((3, 0), (5,)), {}),
            (((3, 2), ()), {}),
            (((3, 2), (0,)), {}),
        ),
        NUMERIC,
    ),
    Case(
        "gather",
        (Arg(real), Arg(integers(3, 5), "int32", diff=False)),
        _v((((3, 2), (2,)), {})),
        order=0,
        label="out-of-range",
    ),
    Case(
        getitem,
        (Arg(real),),
        [
            Variant(((4, 3),), {"key": k})
            for k in [
                slice(1, 3),
                (slice(None), 0),
                (slice(None, None, -1), slice(0, 2)),
                (Ellipsis, 1),
                (None, 1),
                (slice(None, None, 2), slice(None, None, -2)),
                (slice(5, 7),),
                (-1,),
            ]
        ]
        + [Variant(((0, 2),), {"key": slice(0, 1)})],
        NUMERIC,
    ),
    Case(
        "slice",
        (Arg(real),),
        _v(
            (((4, 3),), {"begin": [1, 0], "size": [2, -1]}),
            (((4, 3),), {"begin": [0, 1], "size": [0, 2]}),
        ),
        NUMERIC,
    ),
    Case(
        "slice", (Arg(real),), _v((((4, 3),), {"begin": [3, 0], "size": [2, 1]})), label="past-end"
    ),
    Case(
        "strided_slice",
        (Arg(real),),
        _v(
            (((4, 3),), {"begin": [0, 2], "end": [4, 0], "strides": [2, -1]}),
            (((4, 3),), {"begin": [1, 0], "end": [2, 3], "shrink_axis_mask": 1}),
            (((4, 3),), {"begin": [0], "end": [2], "new_axis_mask": 1}),
        ),
    ),
    Case(
        "pad",
        (Arg(real),),
        _v(
            (((2, 3),), {"paddings": [[1, 0], [2, 1]]}),
            (((2, 3),), {"paddings": [[1, 1], [2, 2]], "mode": "REFLECT"}),
            (((2, 3),), {"paddings": [[1, 2], [0, 3]], "mode": "SYMMETRIC"}),
            (((0, 2),), {"paddings": [[1, 1], [0, 0]], "constant_values": 2}),
        ),
        NUMERIC,
    ),
    Case(
        "pad",
        (Arg(real),),
        _v((((2, 3),), {"paddings": [[2, 0], [0, 0]], "mode": "REFLECT"})),
        label="reflect-too-far",
    ),
    Case(
        "one_hot",
        (IDX,),
        _v(
            (((4,),), {"depth": 3}),
            (((2, 2),), {"depth": 4, "axis": 0}),
            (((3,),), {"depth": 3, "on_value": 5.0, "off_value": -1.0}),
            (((0,),), {"depth": 2}),
            (((3,),), {"depth": 2, "dtype": "int32"}),
        ),
        ("int32",),
        0,
    ),
    Case(
        range_,
        (),
        _v(
            ((), {"start": 0, "limit": 5, "delta": 1}),
            ((), {"start": 1.0, "limit": 2.0, "delta": 0.25}),
            ((), {"start": 5, "limit": 0, "delta": -2}),
            ((), {"start": 0, "limit": 0, "delta": 1}),
        ),
        ("int32",),
        0,
    ),
    Case(
        shape_of,
        (Arg(real),),
        _v((((2, 3),), {}), (((),), {}), (((0, 4),), {}), (((2, 1),), {"out_type": "int64"})),
        ("float32",),
        0,
    ),
    Case(fill, (Arg(real),), _v((((),), {}), (((),), {"dims": (0, 2)})), NUMERIC, 2),
    Case(
        "zeros",
        (),
        _v(((), {"shape": [2, 3]}), ((), {"shape": [0]}), ((), {"shape": [2], "dtype": "int32"})),
        ("float32",),
        0,
    ),
    Case(
        "ones",
        (),
        _v(((), {"shape": [2, 3]}), ((), {"shape": [], "dtype": "float64"})),
        ("float32",),
        0,
    ),
    Case(
        where_index,
        (Arg(booleans, "bool"),),
        _v((((3, 2),), {}), (((4,),), {}), (((0, 2),), {})),
        ("bool",),
        0,
    ),
    Case(
        "where",
        (Arg(booleans, "bool", diff=False), Arg(real), Arg(real)),
        _v((((2, 3), (2, 3), (2, 3)), {}), (((2,), (2, 3), (2, 3)), {}), (((0,), (0,), (0,)), {})),
        NUMERIC,
    ),
    Case(
        "where",
        (Arg(booleans, "bool", diff=False), Arg(real), Arg(real)),
        _v((((2, 1), (2, 3), (1, 3)), {})),
        label="broadcast",
    ),
    Case(placeholder_with_default, (Arg(real),), _v((((2, 3),), {}), (((),), {}))),
    Case(
        dynamic_stitch,
        (Arg(real), Arg(real)),
        _v((((2, 3), (3, 3)), {}), (((2,), (3,)), {})),
        NUMERIC,
    ),
    Case(
        dynamic_partition,
        (Arg(real), IDX),
        _v((((5, 2), (5,)), {}), (((4,), (4,)), {}), (((0, 2), (0,)), {})),
        NUMERIC,
    ),
    Case(
        unsorted_segment_sum,
        (Arg(real), IDX),
        _v((((5, 2), (5,)), {}), (((4,), (4,)), {"n": 4}), (((0, 2), (0,)), {})),
        NUMERIC,
    ),
    Case(
        unsorted_segment_sum,
        (Arg(real), Arg(integers(-1, 3), "int32", diff=False)),
        _v((((6, 2), (6,)), {})),
        label="negative-ids",
    ),
    Case(
        "boolean_mask",
        (Arg(real), Arg(booleans, "bool", diff=False)),
        _v((((4, 2), (4,)), {}), (((2, 3), (2, 3)), {}), (((0, 2), (0,)), {})),
    ),
    Case("reverse", (Arg(real),), _v((((2, 3),), {"axis": [1]}), (((2, 3),), {"axis": [0, 1]}))),
]
