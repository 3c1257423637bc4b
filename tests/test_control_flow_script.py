"""cond/case/while_loop/map_fn, py_func, Print/print in graph and eager mode."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import miniflow as tf


def test_cond_values_and_gradients_in_both_modes():
    def f(x):
        return tf.cond(x > 1.0, lambda: x * x, lambda: 3.0 * x)

    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        y = f(x)
        g = tf.gradients(y, x)[0]
        with tf.Session() as s:
            assert s.run([y, g], {x: 2.0}) == [4.0, 4.0]
            assert s.run([y, g], {x: 0.5}) == [1.5, 3.0]
    with tf.eager_mode():
        for v, want in ((2.0, (4.0, 4.0)), (0.5, (1.5, 3.0))):
            x = tf.constant(v)
            with tf.GradientTape() as t:
                t.watch(x)
                y = f(x)
            assert (float(y), float(t.gradient(y, x))) == want


def test_cond_nested_outputs_and_errors():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        out = tf.cond(
            p,
            lambda: (tf.constant(1), {"a": tf.constant(2.0)}),
            lambda: (tf.constant(3), {"a": tf.constant(4.0)}),
        )
        with tf.Session() as s:
            assert s.run(out, {p: False}) == (3, {"a": 4.0})
        with pytest.raises(ValueError, match="same type of outputs"):
            tf.cond(p, lambda: (tf.constant(1), tf.constant(2)), lambda: tf.constant(1))
        with pytest.raises(TypeError, match="callable"):
            tf.cond(p, 1, lambda: 2)


def test_case_picks_the_first_true_predicate():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.int32, [])
        y = tf.case(
            [(x < 0, lambda: tf.constant(-1)), (x < 10, lambda: tf.constant(1))],
            default=lambda: tf.constant(100),
        )
        with tf.Session() as s:
            assert [s.run(y, {x: v}) for v in (-5, 5, 50)] == [-1, 1, 100]
    with tf.eager_mode(), pytest.raises(tf.errors.InvalidArgumentError, match="exclusive"):
        tf.case(
            [(tf.constant(True), lambda: 1), (tf.constant(True), lambda: 2)],
            default=lambda: 3,
            exclusive=True,
        )


def test_while_loop_graph_and_eager():
    def cond(i, acc):
        return i < n

    def body(i, acc):
        return i + 1, acc + tf.cast(i, tf.float32) * w

    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        w = tf.constant(2.0)  # captured from outside the loop
        i, acc = tf.while_loop(cond, body, [tf.constant(0), tf.constant(0.0)])
        single = tf.while_loop(lambda k: k < 100, lambda k: k * 2, [tf.constant(1)])
        capped = tf.while_loop(
            lambda k: k < 100, lambda k: k + 1, [tf.constant(0)], maximum_iterations=7
        )
        g_w = tf.gradients(acc, w)[0]  # d acc / d w = 0 + 1 + ... + (n - 1)
        with tf.Session() as s:
            assert s.run([i, acc], {n: 5}) == [5, 2.0 * (0 + 1 + 2 + 3 + 4)]
            assert s.run(g_w, {n: 5}) == 10.0
            assert s.run(single) == 128 and s.run(capped) == 7
    with tf.eager_mode():
        n, w = tf.constant(4), tf.constant(2.0)
        i, acc = tf.while_loop(cond, body, [tf.constant(0), tf.constant(0.0)])
        assert int(i) == 4 and float(acc) == 12.0


def test_while_loop_in_graph_mode_rejects_stateful_bodies():
    with tf.Graph().as_default():
        with pytest.raises(NotImplementedError, match="stateful"):
            tf.while_loop(
                lambda k: k < 3.0, lambda k: k + tf.random_uniform([]), [tf.constant(0.0)]
            )


def test_map_fn_both_modes_and_nested():
    xs = np.arange(6, dtype=np.float32).reshape(3, 2)
    with tf.Graph().as_default(), tf.Session() as s:
        got = s.run(tf.map_fn(lambda r: tf.reduce_sum(r * r), tf.constant(xs)))
        a, b = s.run(
            tf.map_fn(
                lambda t: (t[0] + t[1], t[0] * t[1]),
                (tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])),
            )
        )
    np.testing.assert_allclose(got, (xs**2).sum(1))
    np.testing.assert_allclose(a, [4, 6])
    np.testing.assert_allclose(b, [3, 8])
    with tf.eager_mode():
        np.testing.assert_allclose(tf.map_fn(tf.reduce_sum, tf.constant(xs)).numpy(), xs.sum(1))


def test_py_func_with_and_without_gradient():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3])
        y = tf.py_func(np.sin, [x], tf.float64, grad=lambda op, g: [g * tf.cos(op.inputs[0])])
        two = tf.py_func(lambda a: (a + 1, a * 2), [x], [tf.float64, tf.float64])
        plain = tf.py_func(np.exp, [x], tf.float64)
        g = tf.gradients(tf.reduce_sum(y), x)[0]
        assert tf.gradients(tf.reduce_sum(plain), x) == [None]
        with tf.Session() as s:
            v = np.array([0.0, 1.0, 2.0])
            gy, gg, (t1, t2) = s.run([y, g, two], {x: v})
    np.testing.assert_allclose(gy, np.sin(v))
    np.testing.assert_allclose(gg, np.cos(v))
    np.testing.assert_allclose(t1, v + 1)
    np.testing.assert_allclose(t2, v * 2)
    with tf.eager_mode():
        a = tf.constant([1.0, 3.0])
        with tf.GradientTape() as t:
            t.watch(a)
            y = tf.py_func(np.square, [a], tf.float32, grad=lambda op, g: [2.0 * g * op.inputs[0]])
        np.testing.assert_allclose(t.gradient(y, a).numpy(), [2.0, 6.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="returned 1 values"):
            tf.py_func(np.square, [a], [tf.float32, tf.float32])


def test_print_ops(capsys):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        p = tf.Print(x, [x], "vals: ", first_n=1)
        pr = tf.print("x is", x, output_stream=sys.stdout)
        g = tf.gradients(tf.reduce_sum(p * 2.0), x)[0]
        with tf.Session() as s:
            got = s.run(p, {x: [1.0, 2.0, 3.0]})
            s.run(p, {x: [4.0, 5.0, 6.0]})
            s.run(pr, {x: [1.0, 2.0, 3.0]})
            np.testing.assert_allclose(s.run(g, {x: [1.0, 2.0, 3.0]}), [2.0, 2.0, 2.0])
    out = capsys.readouterr()
    np.testing.assert_allclose(got, [1.0, 2.0, 3.0])
    assert out.err.count("vals: [1. 2. 3.]") == 1 and "4." not in out.err
    assert "x is [1. 2. 3.]" in out.out
    with tf.eager_mode():
        tf.print("eager", tf.constant([1, 2]), output_stream=sys.stdout)
    assert "eager [1 2]" in capsys.readouterr().out


def test_graph_cond_runs_only_the_taken_branch():
    """As in TF: the untaken branch's ops do not run (no side effects, no errors)."""
    with tf.Graph().as_default():
        i = tf.placeholder(tf.int32, [])
        x = tf.placeholder(tf.float64, [])
        data = tf.constant([1.0, 2.0, 3.0], tf.float64)
        v = tf.Variable(0.0, dtype=tf.float64)
        y = tf.cond(i < 3, lambda: data[i] * x, lambda: x * x)  # data[i] fails for i >= 3
        bump = tf.cond(x > 0, lambda: tf.assign_add(v, 1.0), lambda: tf.assign_add(v, -10.0))
        gx = tf.gradients(y, x)[0]
        with tf.Session() as s:
            s.run(v.initializer)
            assert s.run([y, gx], {x: 2.0, i: 1}) == [4.0, 2.0]
            assert s.run([y, gx], {x: 2.0, i: 7}) == [4.0, 4.0]  # d(x*x)/dx
            for value in (1.0, 1.0, -1.0):
                s.run(bump, {x: value})
            assert s.run(v) == 1.0 + 1.0 - 10.0


def test_graph_cond_trains_a_variable_used_in_one_branch():
    """The untaken branch gives the variable a zero gradient (TF's Switch/Merge)."""
    with tf.Graph().as_default():
        flag = tf.placeholder(tf.bool, [])
        w = tf.Variable(1.0, dtype=tf.float64)
        loss = tf.cond(flag, lambda: tf.square(w - 3.0), lambda: tf.constant(0.0, tf.float64))
        step = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        with tf.Session() as s:
            s.run(w.initializer)
            s.run(step, {flag: False})
            assert s.run(w) == 1.0
            s.run(step, {flag: True})  # w -= 0.25 * 2 * (1 - 3)
            assert s.run(w) == 2.0
