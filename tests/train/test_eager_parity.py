"""Optimizers, sparse ops and scatter ops give the same numbers in eager mode as in graph
mode (the same kernels and slot mechanism under the eager executor)."""

import numpy as np
import pytest

import miniflow as tf
from tests.train.test_optimizers import CASES, GRADS, SPARSE, W0


def _graph_run(make, sparse):
    tf.reset_default_graph()
    var = tf.Variable(W0)
    g = tf.placeholder(tf.float64, [None, 3])
    ids = tf.placeholder(tf.int64, [None])
    loss = tf.reduce_sum((tf.gather(var, ids) if sparse else var) * g)
    opt = make()
    train = opt.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k in range(3):
            feed = {g: SPARSE[k][1], ids: SPARSE[k][0]} if sparse else {g: GRADS[k]}
            sess.run(train, feed)
        return sess.run(var), {n: sess.run(opt.get_slot(var, n)) for n in opt.get_slot_names()}


def _eager_run(make, sparse):
    with tf.eager_mode():
        var = tf.Variable(W0)
        opt = make()
        for k in range(3):
            if sparse:
                idx, vals = SPARSE[k]
                loss = lambda idx=idx, vals=vals: tf.reduce_sum(tf.gather(var, idx) * vals)  # noqa: E731
            else:
                loss = lambda k=k: tf.reduce_sum(var * GRADS[k])  # noqa: E731
            opt.minimize(loss, var_list=[var])
        return var.numpy(), {n: opt.get_slot(var, n).numpy() for n in opt.get_slot_names()}


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_optimizer_steps_match_between_modes(case, sparse):
    make = CASES[case][0]
    g_var, g_slots = _graph_run(make, sparse)
    e_var, e_slots = _eager_run(make, sparse)
    np.testing.assert_allclose(e_var, g_var, rtol=1e-12, atol=1e-14)
    assert sorted(e_slots) == sorted(g_slots)
    for n in g_slots:
        np.testing.assert_allclose(e_slots[n], g_slots[n], rtol=1e-12, atol=1e-14, err_msg=n)


def _sparse_program():
    st = tf.SparseTensor(
        [[0, 1], [1, 0], [2, 2]], tf.constant([1.0, -2.0, 0.5], tf.float64), [3, 3]
    )
    b = tf.constant(np.arange(6.0).reshape(3, 2))
    ids = tf.SparseTensor([[0, 0], [0, 1], [2, 0]], tf.constant([4, 1, 4], tf.int64), [3, 2])
    table = tf.constant(np.arange(10.0).reshape(5, 2))
    return [
        tf.sparse_tensor_dense_matmul(st, b),
        tf.sparse_reduce_sum(st, axis=0),
        tf.sparse.to_dense(st),
        tf.sparse_add(st, st).values,
        tf.sparse_add(st, tf.ones([3, 3], tf.float64)),
        tf.nn.embedding_lookup_sparse(table, ids, None, combiner="sqrtn"),
        tf.unsorted_segment_sum(b, [1, 1, 0], 2),
    ]


def test_sparse_ops_match_between_modes():
    tf.reset_default_graph()
    with tf.Session() as sess:
        graph_vals = sess.run(_sparse_program())
    with tf.eager_mode():
        eager_vals = [t.numpy() for t in _sparse_program()]
    for g, e in zip(graph_vals, eager_vals):
        np.testing.assert_allclose(e, g, rtol=1e-12)


def test_scatter_ops_update_eager_variables():
    with tf.eager_mode():
        v = tf.Variable(np.zeros((3, 2)))
        tf.scatter_add(v, [0, 2, 0], np.ones((3, 2)))
        tf.scatter_nd_update(v, [[1, 1]], [7.0])
        np.testing.assert_array_equal(v.numpy(), [[2, 2], [0, 7], [1, 1]])
