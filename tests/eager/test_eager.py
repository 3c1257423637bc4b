"""Eager mode: tensors, the executor, variables (read stability, sparse gathers), the tape,
optimizers, random streams and mode switching."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def eager():
    with tf.eager_mode():
        yield


def test_eager_tensor_basics():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert tf.executing_eagerly()
    assert isinstance(t.numpy(), np.ndarray) and t.shape == tf.TensorShape([2, 2])
    assert t.dtype == tf.float32
    np.testing.assert_array_equal(np.asarray(t), [[1, 2], [3, 4]])
    np.testing.assert_array_equal((t * 2 + 1).numpy(), [[3, 5], [7, 9]])
    np.testing.assert_array_equal((1 - t).numpy(), [[0, -1], [-2, -3]])
    np.testing.assert_array_equal(
        (t @ t).numpy(), np.array([[1, 2], [3, 4]]) @ np.array([[1, 2], [3, 4]])
    )
    np.testing.assert_array_equal(t[1].numpy(), [3, 4])
    assert "[[1. 2.]" in str(t) and "shape=(2, 2)" in str(t) and "numpy=" in repr(t)
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(3)) == 3
    assert len(t) == 2 and [r.numpy().tolist() for r in t] == [[1, 2], [3, 4]]
    assert {t: 1}[t] == 1 and t != tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert bool(tf.constant(True)) and not bool(tf.constant(0))
    scalar = tf.constant(1.5).numpy()
    assert isinstance(scalar, np.floating) and scalar == 1.5


def test_numpy_returns_a_copy():
    t = tf.constant([1.0, 2.0])
    a = t.numpy()
    a[0] = 100
    assert t.numpy()[0] == 1.0


def test_kernel_errors_become_tf_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
        tf.matmul(tf.ones([2, 3]), tf.ones([2, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.gather(tf.ones([3]), [5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="float"):
        tf.add(tf.constant(1.0), tf.constant(1))
    with pytest.raises(TypeError):
        tf.constant(1) + 1.5  # a fractional literal cannot become int32


def test_gradient_tape_basic_and_constants_unwatched():
    x = tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * x + 2.0 * x
    assert g.gradient(y, x).numpy() == pytest.approx(8.0)
    c = tf.constant(2.0)
    with tf.GradientTape() as g:
        y = c * c
    assert g.gradient(y, c) is None
    with tf.GradientTape() as g:
        y = c * c
    assert g.gradient(y, c, unconnected_gradients="zero").numpy() == 0.0


def test_non_persistent_tape_can_be_used_once_persistent_many():
    x = tf.constant(2.0)
    with tf.GradientTape() as g:
        g.watch(x)
        y = x**3
    g.gradient(y, x)
    with pytest.raises(RuntimeError, match="only be called once"):
        g.gradient(y, x)
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y, z = x**3, tf.sin(x)
    assert g.gradient(y, x).numpy() == pytest.approx(12.0)
    assert g.gradient(z, x).numpy() == pytest.approx(np.cos(2.0), rel=1e-6)


def test_nested_sources_and_targets_and_output_gradients():
    a, b = tf.constant([1.0, 2.0]), tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch([a, b])
        y1 = tf.reduce_sum(a * b)
        y2 = b * b
    grads = g.gradient([y1, y2], {"a": a, "nested": (b,)})
    np.testing.assert_allclose(grads["a"].numpy(), [3.0, 3.0])
    assert grads["nested"][0].numpy() == pytest.approx(3.0 + 6.0)
    with tf.GradientTape() as g:
        g.watch(a)
        y = a * a
    got = g.gradient(y, a, output_gradients=tf.constant([10.0, 1.0]))
    np.testing.assert_allclose(got.numpy(), [20.0, 4.0])


def test_higher_order_with_nested_tapes():
    x = tf.constant(1.5, dtype=tf.float64)
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = x * x * x
        dy = t1.gradient(y, x)
    d2y = t2.gradient(dy, x)
    assert dy.numpy() == pytest.approx(3 * 1.5**2)
    assert d2y.numpy() == pytest.approx(6 * 1.5)


def test_stop_recording_and_stop_gradient():
    x = tf.constant(2.0)
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * x
        with g.stop_recording():
            z = y * x  # not recorded: z is a constant for the tape
        w = z * y + tf.stop_gradient(y) * x
    # dw/dx = z * dy/dx + y = 8 * 4 + 4
    assert g.gradient(w, x).numpy() == pytest.approx(36.0)


def test_trainable_variables_are_watched_automatically():
    v = tf.Variable(2.0)
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape() as g:
        y = v * v * frozen
    assert g.watched_variables() == [v]
    gv, gf = g.gradient(y, [v, frozen])
    assert gv.numpy() == pytest.approx(20.0) and gf is None
    with tf.GradientTape(watch_accessed_variables=False) as g:
        y = v * v
    assert g.gradient(y, v) is None and g.watched_variables() == []
    with tf.GradientTape() as g:
        g.watch(frozen)
        y = frozen * 3.0
    assert g.gradient(y, frozen).numpy() == pytest.approx(3.0)


def test_a_read_value_does_not_change_when_the_variable_is_updated():
    v = tf.Variable([1.0, 2.0])
    r = v.value()
    r2 = tf.identity(v)
    v.assign_add([10.0, 10.0])
    v.assign_sub([1.0, 1.0])
    np.testing.assert_array_equal(r.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(r2.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [10.0, 11.0])
    new = v.assign([0.0, 0.0])
    v.assign_add([1.0, 1.0])
    np.testing.assert_array_equal(new.numpy(), [0.0, 0.0])
    before = v.read_value()
    tf.train.GradientDescentOptimizer(1.0).apply_gradients([(tf.constant([1.0, 1.0]), v)])
    np.testing.assert_array_equal(before.numpy(), [1.0, 1.0])  # in-place optimizer update
    np.testing.assert_array_equal(v.numpy(), [0.0, 0.0])


def test_gather_from_a_variable_reads_rows_without_copying_the_table():
    table = tf.Variable(np.zeros((1000, 4), np.float32))
    slot = table._slot
    buf_id = id(slot.value)  # an id, not a reference: a reference would force a copy
    opt = tf.train.GradientDescentOptimizer(1.0)
    for _ in range(3):
        with tf.GradientTape() as g:
            rows = tf.gather(table, [1, 2])
            loss = tf.reduce_sum(rows)
        grad = g.gradient(loss, table)
        assert isinstance(grad, tf.IndexedSlices)
        opt.apply_gradients([(grad, table)])
    assert id(slot.value) == buf_id  # updated in place: no per-step copy of the table
    np.testing.assert_array_equal(table.numpy()[1:3], -3 * np.ones((2, 4)))
    assert table.numpy()[0].sum() == 0
    np.testing.assert_array_equal(rows.numpy(), -2 * np.ones((2, 4)))  # read before update


def test_optimizers_in_eager_mode_minimize_with_a_callable():
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    xs = np.array([0.0, 1.0, 2.0, 3.0], np.float32)
    ys = 2 * xs + 1
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    for _ in range(300):
        opt.minimize(lambda: tf.reduce_mean(tf.square(w * xs + b - ys)), global_step=step)
    assert w.numpy() == pytest.approx(2.0, abs=1e-3) and b.numpy() == pytest.approx(1.0, abs=1e-3)
    assert int(step.numpy()) == 300
    with tf.GradientTape() as g:
        loss = tf.square(w - 5.0)
    grads = g.gradient(loss, [w])
    opt.apply_gradients(zip(grads, [w]))
    assert w.numpy() == pytest.approx(2.0 - 0.1 * 2 * (2.0 - 5.0), abs=1e-3)


def test_random_ops_stream_advances_and_seeds_reproduce():
    tf.set_random_seed(7)
    a = tf.random_normal([3], seed=1).numpy()
    b = tf.random_normal([3], seed=1).numpy()
    assert not np.array_equal(a, b)
    tf.set_random_seed(7)
    a2 = tf.random_normal([3], seed=1).numpy()
    assert not np.array_equal(a2, b)  # same op seed, same stream: it keeps advancing


def test_graph_mode_inside_eager_and_back():
    assert tf.executing_eagerly()
    with tf.graph_mode():
        assert not tf.executing_eagerly()
        t = tf.constant(1.0)
        assert isinstance(t, tf.Tensor)
    assert tf.executing_eagerly()


def test_eager_tensor_into_a_graph_becomes_a_constant():
    e = tf.constant([1.0, 2.0])
    with tf.graph_mode(), tf.Graph().as_default():
        t = tf.convert_to_tensor(e) * 2
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(t), [2.0, 4.0])


def test_enable_eager_execution_is_global():
    code = (
        "import miniflow as tf\nassert not tf.executing_eagerly()\n"
        "tf.enable_eager_execution()\nassert tf.executing_eagerly()\n"
        "print((tf.constant(2.0) * 3).numpy())\n"
        "tf.compat.v1.disable_eager_execution()\nassert not tf.executing_eagerly()\n"
        "t = tf.constant(2.0) * 3\nprint(t.name, tf.Session().run(t))\n"
        "tf.disable_eager_execution()\n"
    )  # graph mode already: nothing to do
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["6.0", "mul:0", "6.0"]


def test_jacobian_matches_the_analytic_one():
    x = tf.constant([1.0, 2.0, 3.0], dtype=tf.float64)
    a = tf.constant(np.arange(6.0).reshape(2, 3))
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = tf.matmul(a, tf.reshape(x * x, [3, 1]))  # shape (2, 1)
    jac = g.jacobian(y, x).numpy()
    want = (np.arange(6.0).reshape(2, 3) * 2 * np.array([1.0, 2.0, 3.0])).reshape(2, 1, 3)
    np.testing.assert_allclose(jac, want)


def test_partitioned_embedding_variables_get_sparse_updates():
    parts = [tf.Variable(np.zeros((3, 2), np.float32)), tf.Variable(np.zeros((2, 2), np.float32))]
    with tf.GradientTape() as g:
        rows = tf.nn.embedding_lookup(parts, [0, 1, 4])  # mod: ids 0, 4 -> part 0; 1 -> part 1
        loss = tf.reduce_sum(rows * tf.constant([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
    grads = g.gradient(loss, parts)
    assert all(isinstance(gr, tf.IndexedSlices) for gr in grads)
    tf.train.GradientDescentOptimizer(1.0).apply_gradients(zip(grads, parts))
    np.testing.assert_array_equal(parts[0].numpy(), [[-1, -1], [0, 0], [-3, -3]])
    np.testing.assert_array_equal(parts[1].numpy(), [[-2, -2], [0, 0]])


def test_scalars_are_numpy_scalars_and_python_floats_keep_their_sign():
    w = tf.Variable(3.0)
    t = tf.constant(2.0)
    for value in (w.value(), t, t * t, tf.ones_like(t), tf.zeros_like(t), w.assign_add(1.0)):
        assert type(value._value) is np.float32  # 0-d values: NumPy scalars, not 0-d arrays
    read = w.value()
    w.assign_sub(10.0)
    assert float(read) == 4.0 and float(w.value()) == -6.0  # a read is a copy
    one = tf.constant(1.0)
    with np.errstate(divide="ignore"):
        assert float(one / (one * -0.0)) == -np.inf and float(one / (one * 0.0)) == np.inf
    assert float(0.5 * one) == 0.5 and float(-0.5 * one) == -0.5  # cached literals
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
        tf.constant(1.0) + tf.constant(1)


def test_optimizer_hyperparameters_follow_a_changing_learning_rate():
    w = tf.Variable(1.0)
    lr = [0.5]
    opt = tf.train.GradientDescentOptimizer(lambda: lr[0])
    for expected in (0.5, 0.25, 0.0):  # w -= lr * 1
        opt.apply_gradients([(tf.constant(1.0), w)])
        assert float(w.numpy()) == pytest.approx(expected)
        lr[0] = 0.25
    opt2 = tf.train.GradientDescentOptimizer(0.1)
    opt2.apply_gradients([(tf.constant(1.0), w)])
    assert float(w.numpy()) == pytest.approx(-0.1)


def test_a_read_slot_variable_does_not_change_when_the_optimizer_updates_it():
    v = tf.Variable([1.0, 2.0])
    for opt, name in (
        (tf.train.AdagradOptimizer(0.1), "accumulator"),
        (tf.train.AdamOptimizer(0.1), "m"),
    ):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
        read = opt.get_slot(v, name).value()
        before = read.numpy().copy()
        opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
        np.testing.assert_array_equal(read.numpy(), before)  # copy-on-write, as for v
        assert not np.array_equal(opt.get_slot(v, name).numpy(), before)


def test_jacobian_of_an_unconnected_source_is_none_or_zeros():
    x, z = tf.constant([1.0, 2.0]), tf.constant([3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = tf.stack([x[0] * 3.0, tf.constant(5.0)])  # row 1 depends on nothing
    jx, jz = tape.jacobian(y, [x, z])
    np.testing.assert_array_equal(jx.numpy(), [[3.0, 0.0], [0.0, 0.0]])
    assert jz is None
    np.testing.assert_array_equal(
        tape.jacobian(y, [x, z], unconnected_gradients="zero")[1].numpy(), [[0.0], [0.0]]
    )


def test_compute_gradients_of_a_tensor_loss_in_eager_mode_is_an_error():
    v = tf.Variable(1.0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(RuntimeError, match="should be a function"):
        opt.minimize(v * v)
    opt.minimize(lambda: v * v)
    assert float(v.numpy()) == pytest.approx(0.8)


def test_eager_hyperparameters_keep_the_sign_of_zero():
    from miniflow.train.slot_apply import hyper

    assert np.signbit(hyper(0.0, "lr").numpy()) == np.signbit(0.0)
    assert np.signbit(hyper(-0.0, "lr").numpy())
    assert np.isnan(hyper(float("nan"), "lr").numpy())
