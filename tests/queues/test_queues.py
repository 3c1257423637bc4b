"""Queues: order of each kind, static shapes/dtypes/names, blocking and closing with real
threads, deadlines. Expected names, messages and values were obtained from TensorFlow
2.21's tf.compat.v1 in graph mode (benchmarks/.venv-bench) unless computed by hand."""

import threading
import time

import numpy as np
import pytest

import miniflow as tf

pytestmark = pytest.mark.timeout(60)
SHORT = tf.RunOptions(timeout_in_ms=100)


def run_in_thread(fn):
    """Starts ``fn`` in a thread; returns (thread, box) where box gets its result/error."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except Exception as e:  # noqa: BLE001  handed to the test
            box["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, box


# -- construction: names, shapes, dtypes (as TF) ------------------------------------------
def test_names_shapes_dtypes_like_tf():
    q = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []], name="q")
    assert q.name == "q" and q.queue_ref.name == "q:0"
    assert q.queue_ref.dtype == tf.resource and q.queue_ref.op.type == "FIFOQueueV2"
    assert q.dtypes == [tf.float32, tf.int32] and q.names is None
    assert [s.as_list() for s in q.shapes] == [[2], []]
    e = q.enqueue(([1.0, 2.0], 3))
    assert (e.name, e.type) == ("q_enqueue", "QueueEnqueueV2")
    assert e.inputs[0] is q.queue_ref and e.inputs[1].op.name == "q_enqueue/component_0"
    assert q.enqueue_many(([[1.0, 2.0]], [3])).name == "q_EnqueueMany"
    d = q.dequeue()
    assert [t.name for t in d] == ["q_Dequeue:0", "q_Dequeue:1"]
    assert [t.shape.as_list() for t in d] == [[2], []]
    dm = q.dequeue_many(2)
    assert [t.shape.as_list() for t in dm] == [[2, 2], [2]] and dm[0].name == "q_DequeueMany:0"
    du = q.dequeue_up_to(2)
    assert [t.shape.as_list() for t in du] == [[None, 2], [None]]
    assert q.size().name == "q_Size:0" and q.size().dtype == tf.int32
    assert q.is_closed().name == "q_Is_Closed:0" and q.is_closed().dtype == tf.bool
    assert q.close().name == "q_Close" and q.close(True).name == "q_Close_1"


def test_default_names_and_scopes():
    assert tf.FIFOQueue(1, tf.float32).name == "fifo_queue"
    assert tf.RandomShuffleQueue(10, 2, tf.float32).queue_ref.op.type == "RandomShuffleQueueV2"
    assert tf.PaddingFIFOQueue(1, tf.float32, shapes=[[None]]).name == "padding_fifo_queue"
    assert tf.PriorityQueue(1, [tf.string], shapes=[[]]).name == "priority_queue"
    with tf.name_scope("sc"):
        q = tf.FIFOQueue(1, tf.float32, name="qq")
        assert q.name == "sc/qq" and q.dequeue().name == "sc/qq_Dequeue:0"
    assert q.dequeue().name == "qq_Dequeue:0"  # ops are named after the last part
    assert tf.queue.FIFOQueue is tf.FIFOQueue and tf.queue.QueueBase is tf.QueueBase
    assert tf.io.RandomShuffleQueue is tf.RandomShuffleQueue


def test_unknown_shape_dequeue_and_names_dict():
    q = tf.FIFOQueue(3, tf.float32)
    assert q.dequeue().shape.ndims is None and q.dequeue_many(4).shape.ndims is None
    qn = tf.FIFOQueue(3, [tf.float32, tf.int32], names=["a", "b"])
    out = qn.dequeue()
    assert sorted(out) == ["a", "b"] and out["b"].dtype == tf.int32
    with tf.Session() as sess:
        sess.run(qn.enqueue({"a": 1.5, "b": 2}))
        assert sess.run(out) == {"a": 1.5, "b": 2}


def test_construction_errors_like_tf():
    q = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []])
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible"):
        q.enqueue(([1.0, 2.0, 3.0], 1))
    with pytest.raises(TypeError):
        q.enqueue(([1.0, 2.0], 1.5))
    with pytest.raises(ValueError, match="Dimensions 2 and 1 are not compatible"):
        tf.FIFOQueue(3, [tf.float32, tf.float32]).enqueue_many([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match="same length as dtypes"):
        tf.FIFOQueue(3, [tf.float32], shapes=[[2], [3]])
    with pytest.raises(ValueError, match="List of names must have the same length"):
        tf.FIFOQueue(3, [tf.float32], names=["a", "b"])
    with pytest.raises(ValueError, match="must be >= 0"):
        q.dequeue_many(-1)
    named = tf.FIFOQueue(1, [tf.float32, tf.int32], names=["a", "b"])
    with pytest.raises(ValueError, match="do not match names of Queue"):
        named.enqueue({"a": 1.0})
    with pytest.raises(ValueError, match="must enqueue a dictionary"):
        named.enqueue((1.0, 2))
    with pytest.raises(ValueError, match="must have names to enqueue a dictionary"):
        tf.FIFOQueue(1, [tf.float32]).enqueue({"a": 1.0})
    with pytest.raises(ValueError, match="fully defined"):
        tf.FIFOQueue(1, tf.float32, shapes=[[None]])
    with pytest.raises(TypeError):
        tf.PriorityQueue(10, [tf.float32])


# -- order of each kind -------------------------------------------------------------------
def test_fifo_order_and_batches():
    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[2], []])
    with tf.Session() as sess:
        sess.run(q.enqueue_many(([[1, 2], [3, 4], [5, 6]], [7, 8, 9])))
        sess.run(q.enqueue(([0, 0], 1)))
        assert sess.run(q.size()) == 4
        first = sess.run(q.dequeue())
        np.testing.assert_array_equal(first[0], [1, 2])
        assert first[0].dtype == np.float32 and first[1] == 7
        many = sess.run(q.dequeue_many(3))
        np.testing.assert_array_equal(many[0], [[3, 4], [5, 6], [0, 0]])
        np.testing.assert_array_equal(many[1], [8, 9, 1])
        empty = sess.run(q.dequeue_many(0))
        assert empty[0].shape == (0, 2) and empty[1].shape == (0,)


def test_dequeue_many_needs_shapes_at_run_time():
    q = tf.FIFOQueue(3, [tf.float32, tf.float32])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1.0, 2.0], [1.0, 2.0]]))
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match="DequeueMany and DequeueUpTo require the components to have specified shapes",
        ):
            sess.run(q.dequeue_many(0))


def test_runtime_shape_mismatch():
    q = tf.FIFOQueue(3, tf.float32, shapes=[[2]])
    p = tf.placeholder(tf.float32, [None])
    with (
        tf.Session() as sess,
        pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"Shape mismatch in tuple component 0. Expected \[2\], got \[3\]",
        ),
    ):
        sess.run(q.enqueue([p]), {p: [1.0, 2.0, 3.0]})


def test_padding_queue_pads_each_batch():
    # TF: [[1,2,3],[1,0,0]] and [[b'a', b''], [b'x', b'y']]
    q = tf.PaddingFIFOQueue(10, [tf.int32, tf.string], shapes=[[None], [None]])
    assert q.dequeue_many(3)[0].shape.as_list() == [3, None]
    with tf.Session() as sess:
        sess.run(q.enqueue(([1, 2, 3], ["a"])))
        sess.run(q.enqueue(([1], ["x", "y"])))
        ints, strs = sess.run(q.dequeue_many(2))
        np.testing.assert_array_equal(ints, [[1, 2, 3], [1, 0, 0]])
        assert strs.tolist() == [[b"a", b""], [b"x", b"y"]]
        sess.run(q.enqueue(([4, 5], ["z"])))
        one = sess.run(q.dequeue())  # a single element is not padded
        np.testing.assert_array_equal(one[0], [4, 5])
    with pytest.raises(ValueError, match="partial shapes"):
        tf.PaddingFIFOQueue(10, [tf.int32], shapes=[None])


def test_priority_queue_smallest_first():
    q = tf.PriorityQueue(10, [tf.float32], shapes=[[]])
    assert q.dtypes == [tf.int64, tf.float32]
    with tf.Session() as sess:
        sess.run(q.enqueue_many(([3, 1, 2, 1], [3.0, 1.0, 2.0, 1.5])))
        prio, vals = sess.run(q.dequeue_many(4))
        np.testing.assert_array_equal(prio, [1, 1, 2, 3])  # TF: [1 1 2 3], [1. 1.5 2. 3.]
        np.testing.assert_array_equal(vals, [1.0, 1.5, 2.0, 3.0])
    with pytest.raises(TypeError):
        q.enqueue((1.5, 1.0))


def test_random_shuffle_keeps_min_after_dequeue_until_closed():
    q = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[[]], seed=3)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([list(range(5))]))
        got = list(sess.run(q.dequeue_many(2)))  # 5 - 2 = 3 left: allowed
        with pytest.raises(
            tf.errors.DeadlineExceededError, match="Timed out waiting for notification"
        ):
            sess.run(q.dequeue(), options=SHORT)  # only min_after_dequeue left
        sess.run(q.close())
        got += list(sess.run(q.dequeue_up_to(5)))  # closed: drains the rest
        assert sorted(got) == [0, 1, 2, 3, 4]
        with pytest.raises(
            tf.errors.OutOfRangeError,
            match="RandomShuffleQueue '.*' is closed and has insufficient "
            r"elements \(requested 5, current size 0\)",
        ):
            sess.run(q.dequeue_up_to(5))


def _shuffled(seed, n=20):
    tf.reset_default_graph()
    q = tf.RandomShuffleQueue(50, 0, tf.int32, shapes=[[]], seed=seed)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([list(range(n))]))
        return list(sess.run(q.dequeue_many(n)))


def test_random_shuffle_seeded_and_uniform():
    a, b, c = _shuffled(7), _shuffled(7), _shuffled(8)
    assert sorted(a) == list(range(20)) and a == b and a != c and a != list(range(20))
    counts = np.zeros(4)
    tf.reset_default_graph()
    q = tf.RandomShuffleQueue(50, 0, tf.int32, shapes=[[]], seed=1)
    enq, deq = q.enqueue_many([[0, 1, 2, 3]]), q.dequeue_many(4)
    with tf.Session() as sess:
        for _ in range(400):
            sess.run(enq)
            counts[sess.run(deq)[0]] += 1
    chi2 = ((counts - 100) ** 2 / 100).sum()
    assert chi2 < 16.3  # 3 degrees of freedom, p = 0.001


# -- blocking, closing, cancelling --------------------------------------------------------
def test_dequeue_blocks_until_enqueue(no_thread_left):
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    deq, enq = q.dequeue(), q.enqueue(5.0)
    with tf.Session() as sess:
        t, box = run_in_thread(lambda: sess.run(deq))
        time.sleep(0.1)
        assert t.is_alive()
        sess.run(enq)
        t.join(5)
        assert box == {"value": 5.0}


def test_dequeue_blocked_then_close_raises_out_of_range(no_thread_left):
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]], name="q2")
    deq, close = q.dequeue(), q.close()
    with tf.Session() as sess:
        t, box = run_in_thread(lambda: sess.run(deq))
        time.sleep(0.1)
        sess.run(close)
        t.join(5)
        assert isinstance(box["error"], tf.errors.OutOfRangeError)
        assert (
            "FIFOQueue 'q2' is closed and has insufficient elements (requested 1, "
            "current size 0)" in box["error"].message
        )


def test_close_drains_then_out_of_range():
    q = tf.FIFOQueue(5, tf.float32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1.0, 2.0, 3.0]]))
        sess.run(q.close())
        assert sess.run(q.is_closed())
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            sess.run(q.enqueue(4.0))
        with pytest.raises(tf.errors.OutOfRangeError, match=r"requested 4, current size 3"):
            sess.run(q.dequeue_many(4))
        assert sess.run(q.size()) == 3  # a failed batch gives its elements back
        assert list(sess.run(q.dequeue_up_to(2))) == [1.0, 2.0]
        assert list(sess.run(q.dequeue_up_to(2))) == [3.0]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(q.dequeue())


def test_enqueue_blocks_when_full_and_cancel_pending(no_thread_left):
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    enq = q.enqueue(2.0)
    with tf.Session() as sess:
        sess.run(q.enqueue(1.0))
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(enq, options=SHORT)  # capacity respected
        t, box = run_in_thread(lambda: sess.run(enq))
        time.sleep(0.1)
        assert t.is_alive()
        sess.run(q.close(cancel_pending_enqueues=True))
        t.join(5)
        assert isinstance(box["error"], tf.errors.CancelledError)
        assert "Enqueue operation was cancelled" in box["error"].message
        assert sess.run(q.size()) == 1


def test_close_without_cancel_lets_pending_enqueue_finish(no_thread_left):
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    enq = q.enqueue(2.0)
    with tf.Session() as sess:
        sess.run(q.enqueue(1.0))
        t, box = run_in_thread(lambda: sess.run(enq))
        time.sleep(0.1)
        sess.run(q.close())
        assert sess.run(q.dequeue()) == 1.0
        t.join(5)
        assert box == {"value": None}
        assert sess.run(q.dequeue()) == 2.0


def test_batch_larger_than_capacity_completes(no_thread_left):
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    enq = q.enqueue_many([list(range(5))])
    deq = q.dequeue_many(5)
    with tf.Session() as sess:
        t, box = run_in_thread(lambda: sess.run(enq))
        assert list(sess.run(deq)) == [0, 1, 2, 3, 4]
        t.join(5)
        assert box == {"value": None}


def test_session_close_cancels_blocked_dequeue(no_thread_left):
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    deq = q.dequeue()
    sess = tf.Session()
    t, box = run_in_thread(lambda: sess.run(deq))
    time.sleep(0.1)
    sess.close()
    t.join(5)
    assert isinstance(box["error"], tf.errors.CancelledError)


def test_deadline_from_run_options_and_config():
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    deq = q.dequeue()
    with tf.Session() as sess:
        start = time.monotonic()
        with pytest.raises(
            tf.errors.DeadlineExceededError, match="Timed out waiting for notification"
        ):
            sess.run(deq, options=tf.RunOptions(timeout_in_ms=150))
        assert 0.1 < time.monotonic() - start < 5
        sess.run(q.enqueue(1.0))
        assert sess.run(deq, options=tf.RunOptions(timeout_in_ms=150)) == 1.0
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=100)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(deq)


def test_two_sessions_have_independent_queues():
    q = tf.FIFOQueue(5, tf.float32, shapes=[[]])
    enq, size = q.enqueue(1.0), q.size()
    with tf.Session() as a, tf.Session() as b:
        a.run(enq)
        a.run(enq)
        b.run(enq)
        assert (a.run(size), b.run(size)) == (2, 1)


def test_many_threads_each_element_once(no_thread_left):
    q = tf.FIFOQueue(4, tf.int32, shapes=[[]])
    enqs = [q.enqueue_many([list(range(k * 50, k * 50 + 50))]) for k in range(3)]
    deq = q.dequeue()
    with tf.Session() as sess:
        producers = [run_in_thread(lambda e=e: sess.run(e))[0] for e in enqs]
        got = [int(sess.run(deq)) for _ in range(150)]
        for t in producers:
            t.join(5)
    assert sorted(got) == list(range(150))
    for k in range(3):  # each producer's elements stay in order
        mine = [g for g in got if k * 50 <= g < k * 50 + 50]
        assert mine == sorted(mine)


# -- eager --------------------------------------------------------------------------------
def test_eager_queue():
    with tf.eager_mode():
        q = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []])
        q.enqueue(([1.0, 2.0], 3))
        q.enqueue_many(([[3.0, 4.0], [5.0, 6.0]], [4, 5]))
        assert int(q.size()) == 3
        x, y = q.dequeue()
        np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
        assert int(y) == 3
        xs, ys = q.dequeue_many(2)
        np.testing.assert_array_equal(ys.numpy(), [4, 5])
        q.close()
        assert bool(q.is_closed())
        with pytest.raises(tf.errors.OutOfRangeError):
            q.dequeue()
