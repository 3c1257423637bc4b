"""`tf.gradients`: multiple ys, grad_ys, unconnected inputs, stopping, higher orders,
sparse (IndexedSlices) gradients; and user ops/gradients joining autodiff."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow import extend
from miniflow.testing import check_grads


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_gradients_sum_over_multiple_ys_and_use_grad_ys():
    x = tf.constant([1.0, 2.0])
    y1, y2 = x * x, 3.0 * x
    g = tf.gradients([y1, y2], x)
    assert isinstance(g, list) and len(g) == 1
    np.testing.assert_allclose(run(g[0]), 2 * np.array([1.0, 2.0]) + 3.0)
    gy = tf.gradients([y1, y2], [x], grad_ys=[tf.constant([1.0, 0.0]), [0.0, 2.0]])
    np.testing.assert_allclose(run(gy[0]), [2.0, 6.0])
    # a fan-out inside one y is summed too
    np.testing.assert_allclose(run(tf.gradients(x * x * x + x, x)[0]), 3 * np.array([1, 4]) + 1)


def test_gradient_of_a_non_scalar_is_of_its_sum():
    x = tf.placeholder(tf.float64, [3])
    y = tf.sin(x)
    xv = np.array([0.1, 0.5, 1.0])
    np.testing.assert_allclose(run(tf.gradients(y, x)[0], {x: xv}), np.cos(xv))


def test_unconnected_and_integer_inputs_give_none():
    x, z = tf.constant(1.0), tf.constant(2.0)
    y = x * 2.0
    assert tf.gradients(y, [x, z])[1] is None
    assert tf.gradients(y, z) == [None]
    zero = tf.gradients(y, z, unconnected_gradients="zero")[0]
    assert run(zero) == 0.0
    i = tf.constant(3)
    assert tf.gradients(tf.cast(i, tf.float32) * x, i) == [None]
    assert tf.gradients(tf.argmax(tf.stack([x, z])), x) == [None]
    # a path through a non-differentiable op contributes nothing
    assert tf.gradients(tf.floor(x) + tf.round(z), [x, z]) == [None, None]
    # ... but sign's gradient is zero, not None, as in TF
    assert run(tf.gradients(tf.sign(z), z)[0]) == 0.0


def test_stop_gradient_and_stop_gradients():
    x = tf.constant(3.0)
    y = tf.stop_gradient(x * x) + x * x
    assert run(tf.gradients(y, x)[0]) == 6.0
    assert tf.gradients(tf.stop_gradient(x), x) == [None]
    a = tf.constant(2.0)
    b = a * 3.0
    c = a + b
    ga, gb = tf.gradients(c, [a, b], stop_gradients=[b])
    assert run([ga, gb]) == [1.0, 1.0]  # b treated as a constant: no path through it
    assert run(tf.gradients(a + b, [a, b], stop_gradients=[a, b])) == [1.0, 1.0]
    ga2, gb2 = tf.gradients(c, [a, b])
    assert run([ga2, gb2]) == [4.0, 1.0]


def test_second_and_third_derivatives():
    x = tf.placeholder(tf.float64, [])
    y = x**4 + tf.sin(x)
    (g1,) = tf.gradients(y, x)
    (g2,) = tf.gradients(g1, x)
    (g3,) = tf.gradients(g2, x)
    v = 0.7
    got = run([g1, g2, g3], {x: v})
    np.testing.assert_allclose(
        got, [4 * v**3 + np.cos(v), 12 * v**2 - np.sin(v), 24 * v - np.cos(v)]
    )


def test_hessian_vector_product_of_a_matrix_function():
    w = tf.placeholder(tf.float64, [3])
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    loss = 0.5 * tf.reduce_sum(w * tf.reshape(tf.matmul(a, tf.reshape(w, [3, 1])), [3]))
    (g,) = tf.gradients(loss, w)
    v = tf.constant([1.0, -1.0, 2.0], tf.float64)
    (hv,) = tf.gradients(tf.reduce_sum(g * v), w)
    np.testing.assert_allclose(run(hv, {w: np.ones(3)}), a @ np.array([1.0, -1.0, 2.0]))


def test_gradients_are_named_graph_ops():
    x = tf.constant(1.0)
    (g,) = tf.gradients(tf.square(x), x, name="my_grads")
    assert g.name.startswith("my_grads/")
    assert isinstance(g, tf.Tensor)


def test_gather_gradient_is_indexed_slices_and_sums_duplicates():
    params = tf.Variable(np.arange(6.0).reshape(3, 2))
    y = tf.reduce_sum(tf.gather(params, [2, 0, 2]) * [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (g,) = tf.gradients(y, params)
    assert isinstance(g, tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(params.initializer)
        value = sess.run(g)
        assert isinstance(value, tf.IndexedSlicesValue)
        np.testing.assert_array_equal(value.indices, [2, 0, 2])
        dense = sess.run(tf.convert_to_tensor(g))
    np.testing.assert_array_equal(dense, [[3.0, 4.0], [0.0, 0.0], [6.0, 8.0]])
    # two sparse paths into one variable aggregate; with a dense path, densify
    y2 = tf.reduce_sum(tf.gather(params, [1])) + tf.reduce_sum(tf.gather(params, [1, 2]))
    (g2,) = tf.gradients(y2, params)
    y3 = y2 + tf.reduce_sum(params)
    (g3,) = tf.gradients(y3, params)
    with tf.Session() as sess:
        sess.run(params.initializer)
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(g2)), [[0, 0], [2, 2], [1, 1]])
        np.testing.assert_array_equal(sess.run(g3), [[1, 1], [3, 3], [2, 2]])


def test_missing_gradient_rule_is_a_lookup_error():
    extend.register_op("NoGradYet", infer=extend.same_shape)(lambda x: x)
    x = tf.constant(1.0)
    y = extend.apply_op("NoGradYet", x)
    with pytest.raises(LookupError, match="No gradient defined for operation type"):
        tf.gradients(y, x)
    assert tf.gradients(tf.stop_gradient(y) + x, x)[0] is not None


# -- user-defined ops and gradients -----------------------------------------------------------


@extend.register_op("TestCube", infer=extend.same_shape)
def _cube(x):
    return x**3


@extend.register_gradient("TestCube")
def _cube_grad(op, grad):
    return [grad * 3.0 * tf.square(op.inputs[0])]


def cube(x, name=None):
    return extend.apply_op("TestCube", x, name=name)


def test_user_op_joins_autodiff_like_a_builtin():
    x = tf.constant([1.0, -2.0])
    y = cube(x, name="c")
    assert y.op.type == "TestCube" and y.name == "c:0" and y.shape.as_list() == [2]
    np.testing.assert_allclose(run(y), [1.0, -8.0])
    check_grads(cube, [np.array([0.5, -1.5, 2.0])], order=2)
    check_grads(lambda a, b: cube(a * b), [np.array([[0.5], [1.0]]), np.array([1.0, -2.0])])


def test_register_gradient_and_gradient_override_map():
    @tf.RegisterGradient("TestClippedSquareGrad")
    def _clipped(op, grad):
        return [tf.clip_by_value(grad * 2.0 * op.inputs[0], -1.0, 1.0)]

    x = tf.constant([0.25, 3.0])
    plain = tf.square(x)
    g = tf.get_default_graph()
    with g.gradient_override_map({"Square": "TestClippedSquareGrad"}):
        overridden = tf.square(x)
    with tf.gradient_override_map({"Square": "TestClippedSquareGrad"}):
        overridden2 = tf.square(x)
    after = tf.square(x)
    got = run(
        [
            tf.gradients(plain, x)[0],
            tf.gradients(overridden, x)[0],
            tf.gradients(overridden2, x)[0],
            tf.gradients(after, x)[0],
        ]
    )
    np.testing.assert_allclose(got[0], [0.5, 6.0])
    np.testing.assert_allclose(got[1], [0.5, 1.0])
    np.testing.assert_allclose(got[2], [0.5, 1.0])
    np.testing.assert_allclose(got[3], [0.5, 6.0])
    assert overridden.op.type == "Square"
    with pytest.raises(KeyError, match="Registering two gradient"):
        tf.RegisterGradient("TestClippedSquareGrad")(_clipped)
    with pytest.raises(TypeError):
        tf.RegisterGradient(3)


def test_not_differentiable_and_duplicate_op_registration():
    extend.register_op("TestNoGrad", infer=extend.same_shape)(lambda x: x + 1)
    tf.NotDifferentiable("TestNoGrad")
    x = tf.constant(1.0)
    assert tf.gradients(extend.apply_op("TestNoGrad", x), x) == [None]
    with pytest.raises(tf.errors.AlreadyExistsError):
        extend.register_op("TestNoGrad")(lambda x: x)
    with pytest.raises(tf.errors.NotFoundError, match="not registered"):
        extend.apply_op("NoSuchOpType", x)


def test_check_grads_detects_a_wrong_gradient():
    @extend.register_op("TestWrongGrad", infer=extend.same_shape)
    def _f(x):
        return np.sin(x)

    @extend.register_gradient("TestWrongGrad")
    def _f_grad(op, grad):
        return [grad * tf.cos(op.inputs[0]) * 1.01]

    with pytest.raises(AssertionError, match="order-1 gradient of input 0"):
        check_grads(lambda x: extend.apply_op("TestWrongGrad", x), [np.array([0.3, 1.0])])
    with pytest.raises(TypeError, match="floating"):
        check_grads(tf.square, [np.array([1, 2])])


def test_check_grads_defaults_suit_float32():
    check_grads(lambda x: tf.sin(x) * x, [np.array([0.3, -1.2, 2.0], np.float32)], order=2)
    with pytest.raises(AssertionError):  # a 10% error is still caught at float32 precision
        check_grads(
            lambda x: extend.apply_op("TestWrongGrad10", x), [np.array([0.3, 1.0], np.float32)]
        )


@extend.register_op("TestWrongGrad10", infer=extend.same_shape)
def _wrong10(x):
    return np.sin(x)


@extend.register_gradient("TestWrongGrad10")
def _wrong10_grad(op, grad):
    return [grad * tf.cos(op.inputs[0]) * 1.1]


ELEMENTWISE_AFTER = [
    lambda p: p + 1.0,
    lambda p: p * 2.0,
    lambda p: 1.0 - p,
    lambda p: -p,
    tf.sqrt,
    tf.rsqrt,
    lambda p: tf.squared_difference(p, 1.0),
    lambda p: tf.add_n([p, p]),
    lambda p: tf.maximum(p, 1.0),
    tf.sigmoid,
    lambda p: tf.reshape(p, [6])[None],
]


@pytest.mark.parametrize(
    "f", ELEMENTWISE_AFTER, ids=[str(i) for i in range(len(ELEMENTWISE_AFTER))]
)
def test_sparse_gradient_flowing_into_other_ops(f):
    """gather's IndexedSlices gradient reaches rules as a dense gradient."""

    def g(p):
        return tf.gather(f(p), [0, 0])

    check_grads(g, [np.random.default_rng(1).uniform(0.5, 2.0, (3, 2))], order=2, rtol=1e-4)


def test_identity_passes_indexed_slices_through():
    p = tf.Variable(np.ones((3, 2)))
    (g,) = tf.gradients(tf.reduce_sum(tf.gather(tf.identity(p), [1])), p)
    assert isinstance(g, tf.IndexedSlices)


@extend.register_op("TestNumpyGrad", infer=extend.same_shape)
def _numpy_grad_op(x):
    return 2.0 * x


@extend.register_gradient("TestNumpyGrad")
def _numpy_grad(op, grad):
    return [np.full(op.inputs[0].shape.as_list(), 2.0)]  # wrong: NumPy, not miniflow ops


def test_check_grads_rejects_rules_written_in_numpy():
    with pytest.raises(AssertionError, match="must be written with miniflow ops"):
        check_grads(lambda x: extend.apply_op("TestNumpyGrad", x), [np.ones(3)])


def test_an_overriding_rule_declares_afresh_what_it_accepts():
    from miniflow.core.registry import gradient_inputs, register_gradient

    tf.extend.register_op("AcceptsFlagsProbe", infer=tf.extend.same_shape)(lambda x: x)
    register_gradient("AcceptsFlagsProbe", accepts_indexed_slices=True)(lambda op, g: [g])
    assert gradient_inputs("AcceptsFlagsProbe") == (False, True)
    register_gradient("AcceptsFlagsProbe", override=True)(lambda op, g: [g])
    assert gradient_inputs("AcceptsFlagsProbe") == (False, False)
