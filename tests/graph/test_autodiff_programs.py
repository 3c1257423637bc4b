"""The reverse sweep on random small programs: shared subexpressions (fan-out), several
outputs, broadcasting, sparse and dense paths into one input, checked to second order
against finite differences."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings, strategies as st

import miniflow as tf
from miniflow.testing import check_grads

UNARY = [
    tf.sin,
    tf.tanh,
    tf.sigmoid,
    tf.square,
    lambda x: tf.exp(x * 0.3),
    lambda x: tf.reduce_sum(x, axis=-1, keepdims=True),
    lambda x: x[..., ::-1],
    lambda x: tf.concat([x, x * 2.0], axis=-1)[..., : tf_dim(x)],
    lambda x: tf.gather(x, rotation(x)),  # axis 0: a sparse (IndexedSlices) gradient
    lambda x: tf.gather(x, [0] + list(range(tf_dim(x) - 1)), axis=-1),
]  # 0 twice


def rotation(x):
    n = x.shape.as_list()[0]
    return [n - 1] + list(range(n - 1))


BINARY = [
    tf.add,
    tf.subtract,
    tf.multiply,
    lambda x, y: x / (1.5 + tf.sin(y)),
    tf.maximum,
    lambda x, y: tf.where(x > y, x * y, x - y),
]


def tf_dim(x):
    return x.shape.as_list()[-1]


@st.composite
def programs(draw):
    """Steps over a growing list of values: ("u", op, i) or ("b", op, i, j)."""
    steps = []
    for k in range(draw(st.integers(1, 6))):
        n = 2 + k  # two inputs, then one value per step
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n - 1))))
        else:
            steps.append(
                (
                    "b",
                    draw(st.integers(0, len(BINARY) - 1)),
                    draw(st.integers(0, n - 1)),
                    draw(st.integers(0, n - 1)),
                )
            )
    outputs = draw(st.lists(st.integers(1, len(steps)), min_size=1, max_size=2))
    return steps, outputs


NON_SMOOTH = (4, 5)  # maximum and where: a kink or a jump where their arguments tie


def run_program(steps, outputs, x, y, ties=None):
    """Builds the program; ``ties`` collects the argument pairs of its non-smooth steps."""
    values = [x, y]
    for step in steps:
        if step[0] == "u":
            values.append(UNARY[step[1]](values[step[2]]))
        else:
            a, b = values[step[2]], values[step[3]]
            if ties is not None and step[1] in NON_SMOOTH and step[2] != step[3]:
                ties.append(a - b)
            values.append(BINARY[step[1]](a, b))
    return [values[1 + o] for o in outputs]


def closest_tie(steps, outputs, x, y) -> float:
    """How near the program's maximum/where arguments come to a tie at (x, y). Programs
    can tie them by construction up to rounding (y against x + (y - x)), where finite
    differences straddle the jump and are meaningless."""
    with tf.Graph().as_default(), tf.Session() as sess:
        ties = []
        run_program(steps, outputs, tf.constant(x), tf.constant(y), ties)
        return min((float(np.min(np.abs(g))) for g in sess.run(ties)), default=np.inf)


@settings(max_examples=15, deadline=None)
@given(program=programs(), seed=st.integers(0, 2**16), shape=st.sampled_from([(3,), (2, 3)]))
def test_random_programs_have_correct_first_and_second_derivatives(program, seed, shape):
    steps, outputs = program
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=shape)
    y = rng.uniform(-1.5, 1.5, size=(3,))  # broadcasts against x
    assume(closest_tie(steps, outputs, x, y) > 1e-3)
    check_grads(
        lambda a, b: run_program(steps, outputs, a, b),
        [x, y],
        order=2,
        seed=seed,
        rtol=1e-4,
        atol=1e-6,
    )


def test_sparse_and_dense_paths_into_one_variable():
    def f(p):
        rows = tf.gather(p, [0, 2, 0])
        return tf.reduce_sum(rows * rows) + tf.reduce_sum(tf.gather(p, [1]) * p[1:2])

    check_grads(f, [np.random.default_rng(0).uniform(-1, 1, (3, 2))], order=2)
