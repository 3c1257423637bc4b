"""Gradient accumulators; names and values as TensorFlow 2.21's tf.compat.v1 gives them
(obtained in the benchmark environment), blocking take_grad with real threads."""

import time

import numpy as np
import pytest

import miniflow as tf
from tests.queues.test_queues import run_in_thread

pytestmark = pytest.mark.timeout(60)
SHORT = tf.RunOptions(timeout_in_ms=100)


def test_dense_accumulator_like_tf():
    a = tf.ConditionalAccumulator(tf.float32, shape=[2], name="acc")
    assert a.name == "acc" and a.dtype == tf.float32
    assert a.accumulator_ref.op.type == "ResourceConditionalAccumulator"
    take = a.take_grad(2)
    assert take.name.startswith("ResourceAccumulatorTakeGradient") and take.shape == [2]
    n = a.num_accumulated()
    assert n.name == "acc_NumAccumulated:0" and n.dtype == tf.int32
    with tf.Session() as sess:
        sess.run(a.apply_grad([1.0, 2.0], local_step=0))
        sess.run(a.apply_grad([3.0, 5.0], local_step=1))
        assert sess.run(n) == 2
        np.testing.assert_allclose(sess.run(take), [2.0, 3.5])  # TF: [2. 3.5]
        sess.run(a.apply_grad([10.0, 10.0], local_step=0))  # stale: the step is now 1
        assert sess.run(n) == 0
        sess.run(a.apply_grad([1.0, 1.0], local_step=1))
        np.testing.assert_allclose(sess.run(a.take_grad(1)), [1.0, 1.0])
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match="Argument num_required must be positive, but was 0",
        ):
            sess.run(a.take_grad(0))
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(a.take_grad(1), options=SHORT)
        sess.run(a.set_global_step(3))
        sess.run(a.apply_grad([1.0, 1.0], local_step=2))
        assert sess.run(n) == 0
    with pytest.raises(ValueError, match="incompatible"):
        a.apply_grad([1.0, 1.0, 1.0])


def test_sum_reduction_and_unknown_shape():
    b = tf.ConditionalAccumulator(tf.float32, shape=[2], reduction_type="SUM")
    c = tf.ConditionalAccumulator(tf.float64)
    assert c.take_grad(1).shape.ndims is None
    with tf.Session() as sess:
        sess.run(b.apply_grad([1.0, 2.0]))
        sess.run(b.apply_grad([1.0, 2.0]))
        np.testing.assert_allclose(sess.run(b.take_grad(2)), [2.0, 4.0])  # TF: [2. 4.]
        sess.run(c.apply_grad([[1.0, 2.0]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shape mismatch"):
            sess.run(c.apply_grad([1.0, 2.0]))
    with pytest.raises(ValueError, match="reduction_type"):
        tf.ConditionalAccumulator(tf.float32, reduction_type="MAX")


@pytest.mark.parametrize(
    "reduction,want", [("MEAN", [[2.0, 2.0], [2.0, 2.0]]), ("SUM", [[4.0, 4.0], [2.0, 2.0]])]
)
def test_sparse_accumulator_per_row(reduction, want):
    s = tf.SparseConditionalAccumulator(tf.float32, shape=[3, 2], reduction_type=reduction)
    assert tf.sparse.SparseConditionalAccumulator is tf.SparseConditionalAccumulator
    grad = tf.IndexedSlices(
        tf.constant([[1.0, 1.0]]), tf.constant([0], tf.int64), tf.constant([3, 2], tf.int64)
    )
    take = s.take_indexed_slices_grad(2)
    assert take.values.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        sess.run(s.apply_indexed_slices_grad(grad))
        sess.run(s.apply_grad([0, 2], [[3.0, 3.0], [2.0, 2.0]]))
        assert sess.run(s.num_accumulated()) == 2
        r = sess.run(take)
        # TF: indices [0 2], values [[2,2],[2,2]] (MEAN) / [[4,4],[2,2]] (SUM), shape [3 2]
        assert r.indices.tolist() == [0, 2] and r.dense_shape.tolist() == [3, 2]
        np.testing.assert_allclose(r.values, want)
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
            sess.run(s.apply_grad([5], [[1.0, 1.0]], local_step=1))


def test_take_grad_blocks_until_enough(no_thread_left):
    a = tf.ConditionalAccumulator(tf.float32, shape=[])
    take, apply = a.take_grad(2), a.apply_grad(4.0)
    with tf.Session() as sess:
        t, box = run_in_thread(lambda: sess.run(take))
        sess.run(apply)
        time.sleep(0.05)
        assert t.is_alive()
        sess.run(apply)
        t.join(5)
        assert box == {"value": 4.0}
    sess = tf.Session()
    t, box = run_in_thread(lambda: sess.run(take))
    time.sleep(0.05)
    sess.close()  # cancels the blocked take
    t.join(5)
    assert isinstance(box["error"], tf.errors.CancelledError)


def test_eager_accumulator():
    with tf.eager_mode():
        a = tf.ConditionalAccumulator(tf.float32, shape=[2])
        a.apply_grad([1.0, 3.0])
        a.apply_grad([3.0, 5.0])
        assert int(a.num_accumulated()) == 2
        np.testing.assert_allclose(a.take_grad(2).numpy(), [2.0, 4.0])
