"""Variables and their updates, optimizer steps, random ops and control flow."""

from __future__ import annotations

from conformance.case import FLOATS, Arg, Case, Variant, booleans, integers, positive, real


def _read_after(tf, var, op):
    with tf.control_dependencies([op]):
        return tf.identity(var)


def _assign(kind):
    def fn(tf, init, value):
        var = tf.Variable(init)
        return getattr(tf, kind)(var, value)

    fn.__name__ = kind
    return fn


def _scatter(kind):
    def fn(tf, init, indices, updates):
        var = tf.Variable(init)
        return _read_after(tf, var, getattr(tf, kind)(var, indices, updates))

    fn.__name__ = kind
    return fn


def _optimizer(name, **kw):
    def fn(tf, init, grad):
        var = tf.Variable(init)
        step = getattr(tf.train, name)(0.1, **kw).apply_gradients([(grad, var)])
        return _read_after(tf, var, step)

    fn.__name__ = f"train.{name}"
    return fn


def _sparse_optimizer(name, **kw):
    def fn(tf, init, w):
        var = tf.Variable(init)
        loss = tf.reduce_sum(tf.gather(var, [0, 2, 0]) * w)
        step = getattr(tf.train, name)(0.1, **kw).minimize(loss)
        return _read_after(tf, var, step)

    fn.__name__ = f"train.{name}.sparse"
    return fn


def random_uniform(tf, shape=(3000,), dtype="float32", minval=0, maxval=None):
    return tf.random_uniform(list(shape), minval, maxval, dtype=dtype)


def random_normal(tf, shape=(3000,), mean=0.0, stddev=1.0):
    return tf.random_normal(list(shape), mean, stddev)


def truncated_normal(tf, shape=(3000,), stddev=1.0):
    return tf.truncated_normal(list(shape), stddev=stddev)


def random_shuffle(tf, x):
    return tf.sort(tf.random_shuffle(x), axis=0) if hasattr(tf, "sort") else tf.random_shuffle(x)


def cond_identity(tf, x, pred=True):
    return tf.cond(tf.constant(pred), lambda: x * 2.0, lambda: tf.identity(x))


def cond_placeholder(tf, p, x):
    return tf.cond(p, lambda: tf.square(x), lambda: x + 1.0)


def while_loop(tf, x):
    _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), [0, x])
    return y


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


IDX = Arg(integers(0, 3), "int32", diff=False)
OPTIMIZERS = [
    ("GradientDescentOptimizer", {}),
    ("MomentumOptimizer", {"momentum": 0.9}),
    ("AdagradOptimizer", {}),
    ("AdamOptimizer", {}),
    ("RMSPropOptimizer", {}),
    ("AdadeltaOptimizer", {}),
    ("FtrlOptimizer", {}),
]

CASES = (
    [
        Case(
            _assign(k), (Arg(real), Arg(real)), _v((((2, 3), (2, 3)), {}), (((), ()), {})), order=0
        )
        for k in ("assign", "assign_add", "assign_sub")
    ]
    + [
        Case(
            _assign("assign"),
            (Arg(real), Arg(real)),
            _v((((2, 3), (3, 2)), {})),
            order=0,
            label="bad-shape",
        )
    ]
    + [
        Case(
            _scatter(k),
            (Arg(positive), IDX, Arg(positive)),
            _v((((3, 2), (2,), (2, 2)), {}), (((4,), (3,), (3,)), {})),
            order=0,
        )
        for k in (
            "scatter_update",
            "scatter_add",
            "scatter_sub",
            "scatter_mul",
            "scatter_div",
            "scatter_max",
            "scatter_min",
        )
    ]
    + [
        Case(
            _scatter(k),
            (Arg(positive), Arg(integers(0, 3), "int32", diff=False), Arg(positive)),
            _v((((3, 2), (2, 1), (2, 2)), {}), (((4,), (3, 1), (3,)), {})),
            order=0,
        )
        for k in ("scatter_nd_update", "scatter_nd_add", "scatter_nd_sub")
    ]
    + [
        Case(
            _scatter("scatter_add"),
            (Arg(positive), Arg(integers(3, 5), "int32", diff=False), Arg(positive)),
            _v((((3, 2), (2,), (2, 2)), {})),
            order=0,
            label="out-of-range",
        )
    ]
    + [
        Case(
            _optimizer(n, **kw), (Arg(real), Arg(real)), _v((((2, 3), (2, 3)), {})), order=0, tol=10
        )
        for n, kw in OPTIMIZERS
    ]
    + [
        Case(
            _sparse_optimizer(n, **kw),
            (Arg(real), Arg(real)),
            _v((((4, 2), (3, 2)), {})),
            order=0,
            tol=10,
            eager=False,
        )
        for n, kw in OPTIMIZERS
    ]
    + [
        Case(
            random_uniform,
            (),
            _v(
                ((), {}),
                ((), {"dtype": "float64", "maxval": 3.0}),
                ((), {"dtype": "int32", "maxval": 10}),
                ((), {"shape": (0, 2)}),
            ),
            ("float32",),
            0,
            compare="stats",
        ),
        Case(
            random_normal,
            (),
            _v(((), {}), ((), {"mean": 2.0, "stddev": 0.5})),
            ("float32",),
            0,
            compare="stats",
        ),
        Case(
            truncated_normal,
            (),
            _v(((), {}), ((), {"stddev": 3.0})),
            ("float32",),
            0,
            compare="stats",
        ),
        Case(
            random_shuffle,
            (Arg(real),),
            _v((((5, 2),), {}), (((0,),), {})),
            order=0,
            compare="shape",
        ),
        Case(cond_identity, (Arg(real),), _v((((3,),), {}), (((3,),), {"pred": False}))),
        Case(
            cond_placeholder, (Arg(booleans, "bool", diff=False), Arg(real)), _v((((), (2, 3)), {}))
        ),
        Case(while_loop, (Arg(real),), _v((((3,),), {}), (((),), {})), FLOATS, 1),
    ]
)
