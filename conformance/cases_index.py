"""Index ops: gather_nd / scatter_nd, sorting and sets, searches, permutations, rolls,
shape helpers, einsum, checks and the newer linear algebra."""

from __future__ import annotations

from conformance.case import FLOATS, NUMERIC, Arg, Case, Variant, const, integers, positive, real
from conformance.cases_linalg import spd, well_conditioned

ND_IDX = Arg(const([[0, 1], [2, 0], [1, 1]]), "int32", diff=False)
ROW_IDX = Arg(const([[2], [0]]), "int32", diff=False)


def scatter_nd(tf, indices, updates, shape=(3, 2)):
    return tf.scatter_nd(indices, updates, list(shape))


def _tensor_scatter(kind):
    def fn(tf, x, indices, updates):
        return getattr(tf, kind)(x, indices, updates)

    fn.__name__ = kind
    return fn


def search(tf, sorted_seq, values, side="left"):
    return tf.searchsorted(sorted_seq, values, side=side)


def sorted_rows(rng, shape, dtype):
    return __import__("numpy").sort(rng.uniform(-2, 2, size=shape), axis=-1).astype(dtype)


def unique(tf, x):
    return tf.unique(x)


def unique_with_counts(tf, x):
    return tf.unique_with_counts(x)


def setdiff1d(tf, x, y):
    return tf.setdiff1d(x, y)


def sets(kind):
    def fn(tf, a, b):
        sp = getattr(tf.sets, kind)(a, b)
        return sp, tf.sets.size(sp)

    fn.__name__ = f"sets.{kind}"
    return fn


def unravel_index(tf, indices, dims=(3, 4)):
    return tf.unravel_index(indices, list(dims))


def roll(tf, x, shift=1, axis=0):
    return tf.roll(x, shift, axis)


def reverse_sequence(tf, x, lengths, seq_axis=1, batch_axis=0):
    return tf.reverse_sequence(x, lengths, seq_axis=seq_axis, batch_axis=batch_axis)


def broadcast_dynamic_shape(tf, a, b):
    return tf.broadcast_dynamic_shape(tf.shape(a), tf.shape(b))


def ensure_shape(tf, x, shape=(2, None)):
    return tf.ensure_shape(x, list(shape))


def einsum(tf, a, b, equation="ij,jk->ik"):
    return tf.einsum(equation, a, b)


def check_numerics(tf, x):
    return tf.debugging.check_numerics(x, "bad value")


def assert_positive_then(tf, x):
    check = tf.Assert(tf.reduce_all(x > 0), [x])
    with tf.control_dependencies([check]):
        return tf.identity(x)


def edit_distance(tf, hyp, truth, normalize=True):
    h = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], hyp, [2, 2])
    t = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], truth, [2, 2])
    return tf.edit_distance(h, t, normalize=normalize)


def slogdet(tf, a):
    return tf.linalg.slogdet(a)


def eigvalsh(tf, a):
    return tf.linalg.eigvalsh(a)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


CASES = [
    Case(
        "gather_nd",
        (Arg(real), ND_IDX),
        _v((((3, 2), (3, 2)), {}), (((3, 2, 2), (3, 2)), {})),
        NUMERIC,
    ),
    Case("gather_nd", (Arg(real), ROW_IDX), _v((((3, 2), (2, 1)), {})), label="rows"),
    Case(
        "gather_nd",
        (Arg(real), Arg(const([[[1], [0]], [[0], [0]]]), "int32", diff=False)),
        _v((((2, 3), (2, 2, 1)), {"batch_dims": 1})),
        label="batch_dims",
    ),
    Case(
        scatter_nd,
        (ND_IDX, Arg(real)),
        _v((((3, 2), (3,)), {}), (((3, 2), (3, 4)), {"shape": (3, 2, 4)})),
        NUMERIC,
    ),
    Case(
        scatter_nd,
        (Arg(const([[0], [0], [2]]), "int32", diff=False), Arg(real)),
        _v((((3, 1), (3, 2)), {})),
        label="duplicates",
    ),
    *[
        Case(
            _tensor_scatter(k),
            (Arg(real), ND_IDX, Arg(real)),
            _v((((3, 2), (3, 2), (3,)), {})),
            NUMERIC,
            1,
        )
        for k in (
            "tensor_scatter_nd_update",
            "tensor_scatter_nd_add",
            "tensor_scatter_nd_sub",
            "tensor_scatter_nd_max",
            "tensor_scatter_nd_min",
        )
    ],
    Case(
        "sort",
        (Arg(real),),
        _v(
            (((5,),), {}),
            (((2, 3),), {"direction": "DESCENDING"}),
            (((3, 2),), {"axis": 0}),
            (((0,),), {}),
        ),
        NUMERIC,
        1,
    ),
    Case(
        "argsort",
        (Arg(real),),
        _v((((5,),), {}), (((2, 3),), {"direction": "DESCENDING"})),
        NUMERIC,
        0,
    ),
    Case(
        unique,
        (Arg(integers(0, 4), "int32", diff=False),),
        _v((((8,),), {}), (((0,),), {})),
        ("int32",),
        0,
    ),
    Case(
        unique_with_counts,
        (Arg(integers(0, 4), "int32", diff=False),),
        _v((((8,),), {})),
        ("int32",),
        0,
    ),
    Case(
        setdiff1d, (Arg(integers(0, 6)), Arg(integers(0, 6))), _v((((8,), (3,)), {})), ("int32",), 0
    ),
    *[
        Case(
            sets(k),
            (Arg(integers(0, 5)), Arg(integers(0, 5))),
            _v((((2, 4), (2, 3)), {})),
            ("int32",),
            0,
        )
        for k in ("intersection", "union", "difference")
    ],
    Case(
        search,
        (Arg(sorted_rows), Arg(real)),
        _v((((2, 5), (2, 3)), {}), (((5,), (4,)), {"side": "right"})),
        ("float32",),
        0,
    ),
    Case("invert_permutation", (Arg(const([2, 0, 3, 1])),), _v((((4,),), {})), ("int32",), 0),
    Case(unravel_index, (Arg(integers(0, 12)),), _v((((5,),), {}), (((),), {})), ("int32",), 0),
    Case(
        roll,
        (Arg(real),),
        _v(
            (((5,),), {}),
            (((3, 4),), {"shift": -2, "axis": 1}),
            (((3, 4),), {"shift": [1, 2], "axis": [0, 1]}),
        ),
        NUMERIC,
    ),
    Case(
        reverse_sequence,
        (Arg(real), Arg(const([2, 4, 1]), "int32", diff=False)),
        _v((((3, 4), (3,)), {}), (((3, 4, 2), (3,)), {})),
        NUMERIC,
    ),
    Case(
        broadcast_dynamic_shape,
        (Arg(real), Arg(real)),
        _v((((2, 1), (3,)), {}), (((2, 1), (3, 2)), {})),
        ("float32",),
        0,
    ),
    Case(ensure_shape, (Arg(real),), _v((((2, 3),), {}), (((3, 3),), {})), order=1),
    Case(
        einsum,
        (Arg(real), Arg(real)),
        _v(
            (((2, 3), (3, 4)), {}),
            (((2, 3), (2, 3)), {"equation": "ij,ij->i"}),
            (((2, 2, 3), (2, 3, 4)), {"equation": "bij,bjk->bik"}),
            (((3,), (4,)), {"equation": "i,j->ij"}),
            (((3, 3), (3,)), {"equation": "ii,i->"}),
        ),
    ),
    Case(check_numerics, (Arg(real),), _v((((2, 3),), {}))),
    Case(
        check_numerics, (Arg(const([1.0, float("nan")])),), _v((((2,),), {})), order=0, label="nan"
    ),
    Case(assert_positive_then, (Arg(positive),), _v((((3,),), {})), order=1),
    Case(assert_positive_then, (Arg(real),), _v((((4,),), {})), order=0, label="fails"),
    Case(
        edit_distance,
        (Arg(integers(0, 3)), Arg(integers(0, 3))),
        _v((((3,), (3,)), {}), (((3,), (3,)), {"normalize": False})),
        ("int32",),
        0,
    ),
    Case(slogdet, (Arg(well_conditioned),), _v((((3, 3),), {}), (((2, 2, 2),), {})), tol=10),
    Case(eigvalsh, (Arg(spd),), _v((((3, 3),), {}), (((2, 2, 2),), {})), tol=100),
    Case("space_to_depth", (Arg(real),), _v((((1, 4, 4, 2),), {"block_size": 2})), FLOATS),
    Case("depth_to_space", (Arg(real),), _v((((1, 2, 2, 8),), {"block_size": 2})), FLOATS),
]
