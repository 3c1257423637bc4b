"""Variables, initializers, variable scopes with TF1's reuse rules, assignment and seeds."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def test_variable_basics():
    v = tf.Variable([[1, 2]], name="v", dtype=tf.float64)
    assert v.name == "v:0" and v.op.name == "v" and v.dtype == tf.float64
    assert v.shape.as_list() == [1, 2] and v.get_shape().as_list() == [1, 2]
    assert v.trainable and v in tf.trainable_variables() and v in tf.global_variables()
    w = tf.Variable(lambda: tf.ones([3]), trainable=False)
    assert w.name == "Variable:0" and not w.trainable
    assert w not in tf.trainable_variables()
    u = tf.Variable(1.0, collections=["mine"])
    assert tf.get_collection("mine") == [u] and u not in tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(v)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, [[1.0, 2.0]])
        np.testing.assert_array_equal(sess.run(w), [1.0, 1.0, 1.0])
        np.testing.assert_array_equal(sess.run(v.read_value()), [[1.0, 2.0]])
        np.testing.assert_array_equal(v.eval(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()


def test_variables_initializer_subsets():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([a]))
        assert sess.run(a) == 1.0
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(b)
        sess.run(tf.initialize_all_variables())
        assert sess.run(b) == 2.0


def test_initialized_value_chains_initialization():
    a = tf.Variable(tf.constant([1.0, 2.0]), name="a")
    b = tf.Variable(a.initialized_value() * 3.0, name="b")
    with tf.Session() as sess:
        sess.run(b.initializer)  # a is not yet initialized: its initial value is used
        np.testing.assert_array_equal(sess.run(b), [3.0, 6.0])
        sess.run(a.initializer)
        sess.run(a.assign([5.0, 5.0]))
        sess.run(b.initializer)  # now a's current value is used
        np.testing.assert_array_equal(sess.run(b), [15.0, 15.0])


def test_assignments():
    v = tf.Variable([1.0, 2.0])
    set_v = tf.assign(v, [10.0, 20.0])
    add = tf.assign_add(v, [1.0, 1.0])
    sub = tf.assign_sub(v, [0.5, 0.5])
    method_add = v.assign_add([2.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(add), [2.0, 3.0])  # returns the new value
        np.testing.assert_array_equal(sess.run(sub), [1.5, 2.5])
        np.testing.assert_array_equal(sess.run(set_v), [10.0, 20.0])
        np.testing.assert_array_equal(sess.run(method_add), [12.0, 22.0])
        np.testing.assert_array_equal(sess.run(v.assign_sub([2.0, 2.0])), [10.0, 20.0])
        np.testing.assert_array_equal(sess.run(v.assign(v * 2.0)), [20.0, 40.0])
        np.testing.assert_array_equal(sess.run(v.assign(v[::-1])), [40.0, 20.0])  # overlap
        v.load([7.0, 8.0], sess)
        np.testing.assert_array_equal(sess.run(v), [7.0, 8.0])
        with pytest.raises(ValueError, match="Cannot load value of shape"):
            v.load([1.0], sess)


def test_assign_shape_and_dtype_checks():
    v = tf.Variable([1.0, 2.0])
    bad = tf.placeholder(tf.float32, [None])
    a = v.assign(bad)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="shapes of both tensors"):
            sess.run(a, {bad: [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError):
        v.assign(tf.constant([1, 2]))  # int32 into a float32 variable
    free = tf.Variable([1.0], validate_shape=False)
    assert free.shape.ndims is None
    grow = free.assign([1.0, 2.0, 3.0], validate_shape=False)
    with tf.Session() as sess:
        sess.run(free.initializer)
        np.testing.assert_array_equal(sess.run(grow), [1.0, 2.0, 3.0])


def test_variable_state_persists_across_runs_and_training():
    w = tf.Variable(0.0)
    loss = tf.square(w - 3.0)
    step = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(step)
        # w <- w - 0.25 * 2 (w - 3) = 0.5 w + 1.5: 0 -> 1.5 -> 2.25 -> 2.625
        assert sess.run(w) == pytest.approx(2.625)


# -- get_variable and variable_scope ----------------------------------------------------------


def test_get_variable_and_reuse_rules():
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [2, 3], initializer=tf.zeros_initializer())
        assert w.name == "layer/w:0"
        with pytest.raises(ValueError, match="already exists, disallowed"):
            tf.get_variable("w", [2, 3])
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w", [2, 3]) is w
        assert tf.get_variable("w") is w
        with pytest.raises(ValueError, match="does not exist"):
            tf.get_variable("b", [3])
        with pytest.raises(ValueError, match="specified shape"):
            tf.get_variable("w", [3, 3])
        with pytest.raises(ValueError, match="specified dtype"):
            tf.get_variable("w", [2, 3], dtype=tf.float64)
        with tf.variable_scope("inner"):  # reuse is inherited
            assert tf.get_variable_scope().reuse is True
    with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w") is w
        b = tf.get_variable("b", [3], initializer=tf.ones_initializer())
        assert b.name == "layer/b:0"
        assert tf.get_variable("b") is b
    with tf.variable_scope("layer") as scope:
        scope.reuse_variables()
        assert tf.get_variable("b") is b
    with tf.variable_scope(scope, reuse=True):
        assert tf.get_variable("w") is w
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("no_shape")


def test_variable_scope_opens_a_name_scope_and_default_names():
    with tf.variable_scope("vs"):
        assert tf.identity(1.0).name == "vs/Identity:0"
        v = tf.get_variable("v", [1])
    with tf.variable_scope("vs", reuse=True):
        assert tf.identity(1.0).name == "vs_1/Identity:0"  # ops: a new name scope
        assert tf.get_variable("v") is v  # variables: the same variable scope
    with tf.variable_scope(None, default_name="block"):
        a = tf.get_variable("a", [1])
    with tf.variable_scope(None, default_name="block"):
        b = tf.get_variable("a", [1])
    assert (a.name, b.name) == ("block/a:0", "block_1/a:0")
    with tf.name_scope("ns"):  # name scopes do not prefix get_variable names
        assert tf.get_variable("free", [1]).name == "free:0"
    with pytest.raises(TypeError):
        with tf.variable_scope(None):
            pass


def test_scope_initializer_dtype_and_regularizer():
    with tf.variable_scope(
        "s",
        initializer=tf.constant_initializer(2.5),
        dtype=tf.float64,
        regularizer=lambda w: tf.reduce_sum(w) * 0.5,
    ):
        v = tf.get_variable("v", [2])
    assert v.dtype == tf.float64
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [2.5, 2.5])
        assert sess.run(losses) == [2.5]
    c = tf.get_variable("c", initializer=tf.constant([1, 2]), dtype=tf.int32)
    assert c.shape.as_list() == [2] and c.dtype == tf.int32


# -- initializers and random ops --------------------------------------------------------------


def _init_values(initializer, shape, seed=None, **kw):
    tf.reset_default_graph()
    if seed is not None:
        tf.set_random_seed(seed)
    v = tf.get_variable("v", shape, initializer=initializer, **kw)
    with tf.Session() as sess:
        sess.run(v.initializer)
        return sess.run(v)


def test_deterministic_initializers():
    np.testing.assert_array_equal(
        _init_values(tf.zeros_initializer(), [2, 2]), np.zeros((2, 2), np.float32)
    )
    np.testing.assert_array_equal(_init_values(tf.ones_initializer(), [3]), np.ones(3, np.float32))
    np.testing.assert_array_equal(_init_values(tf.constant_initializer(0.5), [2]), [0.5, 0.5])
    np.testing.assert_array_equal(
        _init_values(tf.constant_initializer([1, 2, 3, 4]), [2, 2]), [[1, 2], [3, 4]]
    )
    ints = _init_values(tf.zeros_initializer(), [2], dtype=tf.int32)
    assert ints.dtype == np.int32


def test_random_initializers_have_the_right_distributions():
    n = (200, 100)
    x = _init_values(tf.random_normal_initializer(1.0, 2.0, seed=1), n)
    assert abs(x.mean() - 1.0) < 0.05 and abs(x.std() - 2.0) < 0.05
    x = _init_values(tf.truncated_normal_initializer(0.0, 1.0, seed=2), n)
    assert np.abs(x).max() <= 2.0 and abs(x.std() - 0.8796) < 0.02
    x = _init_values(tf.random_uniform_initializer(-3.0, 1.0, seed=3), n)
    assert x.min() >= -3.0 and x.max() < 1.0 and abs(x.mean() + 1.0) < 0.05
    limit = np.sqrt(6.0 / (200 + 100))
    x = _init_values(tf.glorot_uniform_initializer(seed=4), n)
    assert np.abs(x).max() <= limit and abs(x.var() - limit**2 / 3) < 0.05 * limit**2
    x = _init_values(None, n, seed=5)  # get_variable's default is glorot uniform
    assert np.abs(x).max() <= limit and abs(x.var() - limit**2 / 3) < 0.05 * limit**2
    x = _init_values(tf.glorot_normal_initializer(seed=6), n)
    assert abs(x.std() - np.sqrt(2.0 / 300)) < 0.05 * np.sqrt(2.0 / 300)
    x = _init_values(tf.variance_scaling_initializer(2.0, "fan_in", "normal", seed=7), n)
    assert abs(x.std() - np.sqrt(2.0 / 200)) < 0.05 * np.sqrt(2.0 / 200)


def _random_values(graph_seed, op_seed, sessions=1):
    tf.reset_default_graph()
    if graph_seed is not None:
        tf.set_random_seed(graph_seed)
    tf.constant(0)  # shift the op counter: op seeds must not depend on it
    r = [
        tf.random_normal([4], seed=op_seed),
        tf.random_uniform([4], seed=op_seed),
        tf.truncated_normal([4], seed=op_seed),
    ]
    out = []
    for _ in range(sessions):
        with tf.Session() as sess:
            out.append([sess.run(r), sess.run(r)])
    return out


def test_seeds_make_random_ops_deterministic():
    a = _random_values(42, None, sessions=2)
    b = _random_values(42, None)
    np.testing.assert_array_equal(a[0], a[1])  # each session replays the same stream
    np.testing.assert_array_equal(a[0], b[0])  # and so does a rebuilt graph
    first, second = a[0]
    assert not np.array_equal(first[0], second[0])  # successive runs differ
    c = _random_values(None, 7)
    d = _random_values(None, 7)
    np.testing.assert_array_equal(c, d)  # an op seed alone is deterministic
    e = _random_values(43, None)
    assert not np.array_equal(a[0][0][0], e[0][0][0])
    f, g = _random_values(None, None), _random_values(None, None)
    assert not np.array_equal(f[0][0][0], g[0][0][0])


def test_random_ops_shapes_dtypes_and_ranges():
    tf.set_random_seed(0)
    n = tf.placeholder(tf.int32, [])
    u = tf.random_uniform([n, 2], minval=5, maxval=8, dtype=tf.int32)
    assert u.shape.as_list() == [None, 2]
    x = tf.random_normal([1000], mean=3.0, stddev=0.5, dtype=tf.float64)
    s = tf.random_shuffle(tf.range(10))
    with tf.Session() as sess:
        got = sess.run(u, {n: 500})
        assert got.dtype == np.int32 and got.shape == (500, 2)
        assert set(np.unique(got)) == {5, 6, 7}
        xs = sess.run(x)
        assert xs.dtype == np.float64 and abs(xs.mean() - 3.0) < 0.1
        np.testing.assert_array_equal(np.sort(sess.run(s)), np.arange(10))
    with pytest.raises(ValueError, match="maxval"):
        tf.random_uniform([2], dtype=tf.int32)


def test_gradient_descent_sparse_update_touches_only_gathered_rows():
    table = tf.Variable(np.ones((4, 2)))
    rows = tf.gather(table, [3, 0, 3])
    loss = tf.reduce_sum(rows * np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(table.initializer)
        sess.run(step)
        # d loss / d row3 = [1+5, 2+6], d / d row0 = [3, 4]; rows 1 and 2 untouched
        np.testing.assert_allclose(sess.run(table), [[0.7, 0.6], [1, 1], [1, 1], [0.4, 0.2]])
