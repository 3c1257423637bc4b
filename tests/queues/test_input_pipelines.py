"""Producers, batchers and queue runners against hand-computed batches; shutdown leaves no
thread behind; a classic TF1 queue pipeline runs unmodified. Names were checked against
TensorFlow 2.21's tf.compat.v1."""

import time

import numpy as np
import pytest

import miniflow as tf

pytestmark = pytest.mark.timeout(60)


def drain(sess, fetch, limit=100):
    """Runs ``fetch`` until OutOfRangeError; returns the values."""
    out = []
    for _ in range(limit):
        try:
            out.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            return out
    raise AssertionError("no OutOfRangeError")


class Pipeline:
    """A session with the queue runners started under a coordinator; joined on exit."""

    def __enter__(self):
        self.sess = tf.Session()
        self.sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        self.coord = tf.train.Coordinator()
        self.threads = tf.train.start_queue_runners(sess=self.sess, coord=self.coord)
        return self.sess

    def __exit__(self, *exc):
        self.coord.request_stop()
        self.coord.join(self.threads, stop_grace_period_secs=5)
        self.sess.close()


def test_names_like_tf():
    q = tf.train.string_input_producer(["a", "b"])
    assert q.name == "input_producer"
    tf.train.string_input_producer(["a", "b"], num_epochs=2)
    assert [v.name for v in tf.local_variables()] == ["input_producer_1/limit_epochs/epochs:0"]
    assert tf.train.input_producer([1, 2]).name == "input_producer_2/FIFOQueueV2"
    xs = tf.train.slice_input_producer([[1, 2], [3.0, 4.0]])
    assert [t.dtype for t in xs] == [tf.int32, tf.float32] and xs[0].shape.as_list() == []
    b = tf.train.batch([tf.constant(1.0)], 4)
    assert b.name == "batch:0" and b.shape.as_list() == [4]  # one tensor, not a list
    b2 = tf.train.batch([tf.constant(1.0), tf.constant(2)], 4)
    assert [t.name for t in b2] == ["batch_1:0", "batch_1:1"]
    assert list(tf.train.batch({"x": tf.constant(1.0)}, 4)) == ["x"]
    assert tf.train.shuffle_batch([tf.constant(1.0)], 4, 10, 5).name == "shuffle_batch:0"
    assert tf.train.batch(
        [tf.constant([1.0, 2.0])], 4, enqueue_many=True, allow_smaller_final_batch=True
    ).shape.as_list() == [None]
    runners = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
    assert [r.name for r in runners][-5:] == [
        "batch/fifo_queue",
        "batch_1/fifo_queue",
        "batch_2/fifo_queue",
        "shuffle_batch/random_shuffle_queue",
        "batch_3/fifo_queue",
    ]
    assert runners[-2].enqueue_ops[0].name == "shuffle_batch/random_shuffle_queue_enqueue"
    assert runners[-1].enqueue_ops[0].name == "batch_3/fifo_queue_EnqueueMany"


def test_limit_epochs():
    x = tf.train.limit_epochs(tf.constant([1, 2]), num_epochs=2)
    assert x.op.name == "limit_epochs" and tf.train.limit_epochs(x) is x
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert [list(v) for v in drain(sess, x)] == [[1, 2], [1, 2]]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(x)
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        tf.train.limit_epochs(x, 0)


def test_range_and_string_producers_in_order(no_thread_left):
    r = tf.train.range_input_producer(5, num_epochs=2, shuffle=False).dequeue()
    s = tf.train.string_input_producer(["a", "b", "c"], num_epochs=1, shuffle=False).dequeue()
    with Pipeline() as sess:
        assert drain(sess, r) == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
        assert drain(sess, s) == [b"a", b"b", b"c"]


def test_shuffled_producer_permutes_each_epoch(no_thread_left):
    r = tf.train.range_input_producer(6, num_epochs=3, shuffle=True, seed=4).dequeue()
    with Pipeline() as sess:
        got = [int(v) for v in drain(sess, r)]
    epochs = [got[0:6], got[6:12], got[12:18]]
    assert len(got) == 18 and all(sorted(e) == list(range(6)) for e in epochs)
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]


def test_slice_input_producer_keeps_rows_together(no_thread_left):
    x, y = tf.train.slice_input_producer(
        [[1, 2, 3], [10.0, 20.0, 30.0]], num_epochs=1, shuffle=False
    )
    with Pipeline() as sess:
        assert drain(sess, [x, y]) == [[1, 10.0], [2, 20.0], [3, 30.0]]


def test_string_input_producer_rejects_empty():
    with pytest.raises(ValueError, match="requires a non-null input tensor"):
        tf.train.string_input_producer([])


def _counter(n, epochs=1):
    return tf.train.range_input_producer(n, num_epochs=epochs, shuffle=False).dequeue()


def test_batch_final_batch_dropped_or_kept(no_thread_left):
    b = tf.train.batch([_counter(7)], batch_size=3)
    b_small = tf.train.batch([_counter(7)], batch_size=3, allow_smaller_final_batch=True)
    with Pipeline() as sess:
        assert [list(v) for v in drain(sess, b)] == [[0, 1, 2], [3, 4, 5]]
        assert [list(v) for v in drain(sess, b_small)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_batch_enqueue_many_and_dict(no_thread_left):
    x = _counter(6)
    rows = tf.stack([x, x * 10])  # one element becomes two rows with enqueue_many
    b = tf.train.batch({"v": tf.reshape(rows, [2, 1])}, batch_size=4, enqueue_many=True)
    with Pipeline() as sess:
        got = [v["v"][:, 0].tolist() for v in drain(sess, b)]
    assert got == [[0, 0, 1, 10], [2, 20, 3, 30], [4, 40, 5, 50]]


def test_batch_dynamic_pad(no_thread_left):
    n = _counter(4)
    seq = tf.range(n + 1)  # lengths 1, 2, 3, 4
    b = tf.train.batch([seq], batch_size=2, dynamic_pad=True)
    assert b.shape.as_list() == [2, None]
    with Pipeline() as sess:
        got = [v.tolist() for v in drain(sess, b)]
    assert got == [[[0, 0], [0, 1]], [[0, 1, 2, 0], [0, 1, 2, 3]]]
    with pytest.raises(ValueError, match="fully defined"):
        tf.train.batch([seq], batch_size=2)


def test_batch_num_threads_each_element_once(no_thread_left):
    b = tf.train.batch([_counter(30)], batch_size=5, num_threads=3, capacity=4)
    with Pipeline() as sess:
        got = sorted(int(v) for batch in drain(sess, b) for v in batch)
    assert got == list(range(30))


def test_shuffle_batch(no_thread_left):
    b = tf.train.shuffle_batch(
        [_counter(40)],
        batch_size=8,
        capacity=20,
        min_after_dequeue=5,
        seed=3,
        allow_smaller_final_batch=True,
    )
    with Pipeline() as sess:
        batches = drain(sess, b)
    got = [int(v) for batch in batches for v in batch]
    assert sorted(got) == list(range(40)) and got != list(range(40))
    assert [len(x) for x in batches] == [8] * 5
    with pytest.raises(ValueError, match="capacity 5 must be bigger than min_after_dequeue 5"):
        tf.train.shuffle_batch([tf.constant(1)], 2, capacity=5, min_after_dequeue=5)


def test_batch_join_and_shuffle_batch_join(no_thread_left):
    a, c = _counter(5), _counter(5)
    b = tf.train.batch_join([[a], [c + 100]], batch_size=2, allow_smaller_final_batch=True)
    a2, c2 = _counter(5), _counter(5)
    sb = tf.train.shuffle_batch_join(
        [[a2], [c2 + 100]], batch_size=5, capacity=10, min_after_dequeue=2, seed=1
    )
    want = list(range(5)) + list(range(100, 105))
    with Pipeline() as sess:
        assert sorted(int(v) for x in drain(sess, b) for v in x) == want
        assert sorted(int(v) for x in drain(sess, sb) for v in x) == want
    runner = [
        r for r in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS) if r.name.startswith("batch_join")
    ][0]
    assert len(runner.enqueue_ops) == 2  # one thread per list


def test_maybe_batchers_keep_selected(no_thread_left):
    x = _counter(10)
    b = tf.train.maybe_batch([x], keep_input=tf.equal(x % 2, 0), batch_size=5)
    y = _counter(3)
    rows = tf.stack([y * 2, y * 2 + 1])
    bm = tf.train.maybe_batch(
        [rows], keep_input=tf.constant([True, False]), batch_size=3, enqueue_many=True
    )
    z = _counter(10)
    sb = tf.train.maybe_shuffle_batch([z], 5, 10, 2, keep_input=z < 5, seed=1)
    w1, w2 = _counter(4), _counter(4)
    bj = tf.train.maybe_batch_join([[w1], [w2 + 10]], keep_input=tf.constant(True), batch_size=8)
    v1, v2 = _counter(4), _counter(4)
    sj = tf.train.maybe_shuffle_batch_join(
        [[v1], [v2 + 10]], 4, 10, 0, keep_input=tf.constant(False), allow_smaller_final_batch=True
    )
    with Pipeline() as sess:
        assert [list(v) for v in drain(sess, b)] == [[0, 2, 4, 6, 8]]
        assert [list(v) for v in drain(sess, bm)] == [[0, 2, 4]]
        assert sorted(drain(sess, sb)[0]) == [0, 1, 2, 3, 4]
        assert sorted(drain(sess, bj)[0]) == [0, 1, 2, 3, 10, 11, 12, 13]
        assert drain(sess, sj) == []
    with pytest.raises(ValueError, match="cannot be a vector when `enqueue_many=False`"):
        tf.train.maybe_batch([x], keep_input=[True], batch_size=2)


# -- queue runners and shutdown -----------------------------------------------------------
def test_request_stop_joins_blocked_runners(no_thread_left):
    x = tf.train.range_input_producer(100, shuffle=False, capacity=5).dequeue()
    b = tf.train.batch([x], batch_size=4, capacity=6, num_threads=3)
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    assert len(threads) == 6  # 1 + 3 enqueue threads, 2 closers
    assert all(t.daemon for t in threads)
    assert list(sess.run(b)) == [0, 1, 2, 3]
    time.sleep(0.1)  # both queues fill up: every runner blocks in an enqueue
    start = time.monotonic()
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=5)
    assert time.monotonic() - start < 2
    assert not any(t.is_alive() for t in threads)
    assert tf.train.start_queue_runners(sess=sess, coord=coord) != []  # can restart
    coord.request_stop()
    coord.join(stop_grace_period_secs=5)
    sess.close()


def test_create_threads_once_per_session(no_thread_left):
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue(1)])
    assert qr.queue is q and qr.name == q.name and qr.close_op.type == "QueueCloseV2"
    assert qr.cancel_op.attrs["cancel_pending_enqueues"] is True
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = qr.create_threads(sess, coord=coord, start=True)
    assert len(threads) == 2 and qr.create_threads(sess, coord=coord) == []
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=5)
    sess.close()


def test_runner_error_reaches_coordinator(no_thread_left):
    p = tf.placeholder(tf.int32, [])
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(p)]))
    sess = tf.Session()
    coord = tf.train.Coordinator()
    threads = tf.train.queue_runner.start_queue_runners(sess, coord)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value"):
        coord.join(threads, stop_grace_period_secs=5)
    sess.close()


def test_start_queue_runners_needs_a_session():
    with pytest.raises(ValueError, match="No default session"):
        tf.train.start_queue_runners()
    with pytest.raises(ValueError, match="Must provide queue and enqueue_ops"):
        tf.train.QueueRunner()


def test_default_session_and_producer_end_closes_queue(no_thread_left):
    b = tf.train.batch([_counter(4)], batch_size=2)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        threads = tf.train.start_queue_runners()  # the default session, no coordinator
        assert [list(v) for v in drain(sess, b)] == [[0, 1], [2, 3]]
        for t in threads:
            t.join(5)


CSV_ROWS = 20


def _write_csv(tmp_path):
    rng = np.random.RandomState(0)
    files = []
    for k in range(3):
        p = tmp_path / f"part{k}.csv"
        x = rng.randn(CSV_ROWS, 2)
        lines = ["x1,x2,y"] + [f"{a:.4f},{b:.4f},{2 * a - b + 0.5:.4f}" for a, b in x]
        p.write_text("\n".join(lines) + "\n")
        files.append(str(p))
    return files


def test_classic_tf1_queue_pipeline(tmp_path, no_thread_left):
    files = _write_csv(tmp_path)
    # -- the program below is TF1 code, unmodified (TF 2.21 also trains it for 30 steps)
    filename_queue = tf.train.string_input_producer(files, num_epochs=5, shuffle=True, seed=1)
    reader = tf.TextLineReader(skip_header_lines=1)
    _, value = reader.read(filename_queue)
    x1, x2, y = tf.decode_csv(value, record_defaults=[[0.0], [0.0], [0.0]])
    features = tf.stack([x1, x2])
    xb, yb = tf.train.shuffle_batch(
        [features, y], batch_size=10, capacity=50, min_after_dequeue=10, num_threads=2, seed=2
    )
    w = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.squeeze(tf.matmul(xb, w), 1) + b - yb))
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    steps = 0
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                sess.run(train_op)
                steps += 1
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
        w_val, b_val = sess.run([w, b])
    assert steps == 3 * CSV_ROWS * 5 // 10
    np.testing.assert_allclose(w_val[:, 0], [2.0, -1.0], atol=0.05)
    assert abs(b_val - 0.5) < 0.05
