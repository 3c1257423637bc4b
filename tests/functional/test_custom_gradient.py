"""tf.custom_gradient, tf.grad_pass_through, tf.recompute_grad, tf.hessians and
tf.py_function, in graph and eager mode. Expected numbers were obtained from TensorFlow
2.21 (tf.compat.v1) on the same programs, or computed by hand where noted."""

import numpy as np
import pytest

import miniflow as tf


@tf.custom_gradient
def _square_with_triple_grad(x):
    def grad(dy):
        return dy * 3.0 * x

    return tf.square(x), grad


@tf.custom_gradient
def _pair(a, b):
    def grad(da, db):
        return da + db, da - db

    return (a * b, a + b), grad


def test_graph_custom_gradient_replaces_the_gradient_and_names_identity_n():
    x = tf.constant([1.0, 2.0])
    y = _square_with_triple_grad(x)
    assert y.op.type == "IdentityN" and y.name == "IdentityN:0"  # as TF
    assert [t.name for t in y.op.inputs] == ["Square:0", "Const:0"]
    g = tf.gradients(y, x)[0]
    gg = tf.gradients(g, x)[0]
    with tf.Session() as sess:
        yv, gv, ggv = sess.run([y, g, gg])
    np.testing.assert_allclose(yv, [1.0, 4.0])
    np.testing.assert_allclose(gv, [3.0, 6.0])  # TF: [3, 6], not 2x
    np.testing.assert_allclose(ggv, [3.0, 3.0])


def test_eager_custom_gradient():
    with tf.eager_mode():
        x = tf.constant([1.0, 2.0])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = _square_with_triple_grad(x)
            first, _ = _pair(x, x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), [3.0, 6.0])
        # d(first)/da = 1, d/db = 1 (db filled with zeros): 2 for x used twice
        np.testing.assert_allclose(tape.gradient(first, x).numpy(), [2.0, 2.0])


def test_unused_output_gradients_are_zeros(run):
    def build():
        a, b = tf.constant(2.0), tf.constant(3.0)
        if run.mode == "eager":
            with tf.GradientTape() as tape:
                tape.watch([a, b])
                out = _pair(a, b)
            return tape.gradient(out[0], [a, b])
        return tf.gradients(_pair(a, b)[0], [a, b])

    assert [float(v) for v in run(build)] == [1.0, 1.0]  # TF: [1.0, 1.0]


def test_variables_read_inside_get_gradients_from_grad_fn():
    v = tf.get_variable("v", initializer=2.0)
    seen = []

    @tf.custom_gradient
    def h(x):
        def grad(dy, variables=None):
            seen.append(variables)
            return dy * 10.0, [dy * 100.0]

        return x * v, grad

    z = h(tf.constant(1.5))
    gv = tf.gradients(z, [v])[0]
    assert seen == [[v]]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(gv) == 100.0  # TF: 100.0


def test_eager_variables_read_inside():
    with tf.eager_mode():
        x, v = tf.constant([1.0, 2.0]), tf.Variable(2.0)

        @tf.custom_gradient
        def h(x):
            def grad(dy, variables=None):
                return dy * 10.0, [tf.reduce_sum(dy) * 100.0]

            return x * v, grad

        with tf.GradientTape() as tape:
            tape.watch(x)
            z = h(x)
        gx, gv = tape.gradient(z, [x, v])
    np.testing.assert_allclose(gx.numpy(), [10.0, 10.0])
    assert float(gv.numpy()) == 200.0


def test_grad_fn_without_variables_argument_is_a_type_error():
    v = tf.get_variable("v", initializer=2.0)

    @tf.custom_gradient
    def h(x):
        return x * v, lambda dy: dy * 10.0

    with pytest.raises(TypeError, match="must accept keyword argument 'variables'"):
        h(tf.constant(1.5))


def test_bad_return_values():
    with pytest.raises(TypeError, match="pair"):
        tf.custom_gradient(lambda x: x * 2.0)(tf.constant(1.0))
    wrong = tf.custom_gradient(lambda x: (x * 2.0, lambda dy: (dy, dy)))
    y = wrong(tf.constant(1.0))
    with pytest.raises(ValueError, match="expected to return 1 gradients"):
        tf.gradients(y, y.op.inputs[1])


def test_grad_pass_through(run):
    def build():
        x = tf.constant([0.3, 1.6])
        if run.mode == "eager":
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.grad_pass_through(tf.round)(x * 1.7)
            return [y, tape.gradient(y, x)]
        y = tf.grad_pass_through(tf.round)(x * 1.7)
        return [y, tf.gradients(y, x)[0]]

    y, g = run(build)
    np.testing.assert_allclose(y, [1.0, 3.0])
    np.testing.assert_allclose(g, [1.7, 1.7])  # round's own gradient would be None


def test_recompute_grad_keeps_values_and_gradients():
    x = tf.constant([1.0, 2.0])
    f = tf.recompute_grad(lambda t: tf.sin(t) * t)
    with tf.Session() as sess:
        y, g = sess.run([f(x), tf.gradients(f(x), x)[0]])
    np.testing.assert_allclose(y, np.sin([1.0, 2.0]) * [1.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(g, np.cos([1.0, 2.0]) * [1.0, 2.0] + np.sin([1.0, 2.0]), rtol=1e-6)


def test_hessians():
    x = tf.constant([1.0, 2.0])
    y = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    (h_x,) = tf.hessians(tf.reduce_sum(x**3) * tf.reduce_sum(x), x)
    (h_y,) = tf.hessians(tf.reduce_sum(y * y * y), y)
    assert h_y.shape.as_list() == [2, 2, 2, 2]
    with tf.Session() as sess:
        hx, hy = sess.run([h_x, h_y])
    # by hand: H_ij = 6 x_i S1 δij + 3 x_i^2 + 3 x_j^2, S1 = sum(x) = 3
    np.testing.assert_allclose(hx, [[24.0, 15.0], [15.0, 60.0]])
    np.testing.assert_allclose(hy, np.diag([6.0, 12.0, 18.0, 24.0]).reshape(2, 2, 2, 2))


def test_hessians_checks_mode_and_shape():
    with pytest.raises(ValueError, match="fully defined"):
        tf.hessians(tf.constant(1.0), tf.placeholder(tf.float32, [None]))
    with tf.eager_mode(), pytest.raises(RuntimeError, match="GradientTape"):
        tf.hessians(tf.constant(1.0), tf.constant(1.0))


def _py(a, b):
    return a * a * b, tf.reduce_sum(a)


def test_py_function_runs_eager_tensors_inside_a_graph():
    seen = []

    def fn(a):
        seen.append(type(a).__name__)
        return a.numpy() * 2

    out = tf.py_function(fn, [tf.constant([1.0, 2.0])], tf.float32)
    assert out.op.type == "EagerPyFunc"
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out), [2.0, 4.0])
    assert seen == ["EagerTensor"]


def test_py_function_gradients(run):
    def build():
        x, b = tf.constant([1.0, 2.0]), tf.constant(3.0)
        if run.mode == "eager":
            with tf.GradientTape() as tape:
                tape.watch(x)
                y, s = tf.py_function(_py, [x, b], [tf.float32, tf.float32])
            return [y, s, tape.gradient(y, x)]
        y, s = tf.py_function(_py, [x, b], [tf.float32, tf.float32])
        return [y, s, tf.gradients(y, x)[0]]

    y, s, g = run(build)
    np.testing.assert_allclose(y, [3.0, 12.0])
    assert float(s) == 3.0
    np.testing.assert_allclose(g, [6.0, 12.0])


def test_py_function_second_gradient_in_graph():
    """TF 2.21 returns None here; miniflow keeps the mathematics (documented)."""
    x = tf.constant([1.0, 2.0])
    y = tf.py_function(lambda a: a * a * a, [x], tf.float32)
    gg = tf.gradients(tf.gradients(y, x)[0], x)[0]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(gg), [6.0, 12.0])
