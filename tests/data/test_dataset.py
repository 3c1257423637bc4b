"""tf.data pipelines against plain Python/NumPy computations of the same elements."""

import collections

import numpy as np
import pytest

import miniflow as tf


def drain(next_element, sess=None, feed=None):
    """Every element until OutOfRangeError (which must then repeat)."""
    own = sess is None
    sess = sess or tf.Session()
    out = []
    try:
        while True:
            out.append(sess.run(next_element, feed))
    except tf.errors.OutOfRangeError:
        pass
    with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
        sess.run(next_element, feed)
    if own:
        sess.close()
    return out


def test_slices_map_filter_batch_match_numpy():
    xs = np.arange(23, dtype=np.float32)
    ys = (np.arange(23) % 3).astype(np.int64)
    ds = (
        tf.data.Dataset.from_tensor_slices((xs, ys))
        .map(lambda x, y: (tf.square(x) + 1.0, tf.cast(y, tf.float32) * 2.0))
        .filter(lambda a, b: tf.greater(a, 10.0))
        .batch(5)
    )
    assert ds.output_types == (tf.float32, tf.float32)
    assert [s.as_list() for s in ds.output_shapes] == [[None], [None]]
    got = drain(ds.make_one_shot_iterator().get_next())
    keep = xs**2 + 1 > 10
    a, b = (xs**2 + 1)[keep], (ys * 2.0)[keep]
    want = [(a[i : i + 5], b[i : i + 5]) for i in range(0, len(a), 5)]
    assert len(got) == len(want) == 4
    for (ga, gb), (wa, wb) in zip(got, want):
        np.testing.assert_allclose(ga, wa)
        np.testing.assert_allclose(gb, wb)


def test_dict_elements_drop_remainder_and_static_shapes():
    feats = {"ids": np.arange(10).reshape(5, 2), "w": np.linspace(0, 1, 5)}
    ds = tf.data.Dataset.from_tensor_slices(feats).batch(2, drop_remainder=True)
    assert ds.output_shapes["ids"].as_list() == [2, 2]
    element = ds.make_one_shot_iterator().get_next()
    assert set(element) == {"ids", "w"} and element["w"].dtype == tf.float64
    got = drain(element)
    assert len(got) == 2
    np.testing.assert_array_equal(got[1]["ids"], feats["ids"][2:4])
    np.testing.assert_array_equal(got[0]["w"], feats["w"][:2])


def test_map_with_dict_and_nested_outputs():
    ds = tf.data.Dataset.from_tensor_slices({"a": [1, 2, 3], "b": [10, 20, 30]})
    ds = ds.map(
        lambda d: {
            "sum": d["a"] + d["b"],
            "pair": (d["a"], tf.reduce_sum(tf.stack([d["a"], d["b"]])) * 2),
        }
    )
    got = drain(ds.make_one_shot_iterator().get_next())
    assert [int(e["sum"]) for e in got] == [11, 22, 33]
    assert [(int(e["pair"][0]), int(e["pair"][1])) for e in got] == [(1, 22), (2, 44), (3, 66)]


def test_shuffle_is_a_seeded_buffered_permutation():
    n, buf = 50, 8

    def order(seed, epochs=1):
        tf.reset_default_graph()
        ds = tf.data.Dataset.range(n).shuffle(buf, seed=seed).repeat(epochs)
        return [int(v) for v in drain(ds.make_one_shot_iterator().get_next())]

    first = order(7)
    assert sorted(first) == list(range(n)) and first != list(range(n))
    assert order(7) == first  # same seed, same order
    assert order(8) != first
    # A buffer of `buf` can only emit elements that have been read so far.
    assert all(v <= i + buf - 1 for i, v in enumerate(first))
    two = order(7, epochs=2)
    assert two[:n] == first and sorted(two[n:]) == list(range(n)) and two[n:] != first
    tf.reset_default_graph()
    ident = tf.data.Dataset.range(10).shuffle(1, seed=3).make_one_shot_iterator().get_next()
    assert [int(v) for v in drain(ident)] == list(range(10))


def test_repeat_take_skip_zip_concatenate_range():
    a = tf.data.Dataset.range(2, 8, 2)  # 2, 4, 6
    b = tf.data.Dataset.from_tensor_slices(np.array([b"x", b"y", b"z", b"w"]))
    z = tf.data.Dataset.zip((a.repeat(), b)).skip(1).take(2)
    got = drain(z.make_one_shot_iterator().get_next())
    assert [(int(i), s) for i, s in got] == [(4, b"y"), (6, b"z")]
    c = a.concatenate(tf.data.Dataset.range(3)).repeat(2)
    assert [int(v) for v in drain(c.make_one_shot_iterator().get_next())] == [2, 4, 6, 0, 1, 2] * 2
    empty = tf.data.Dataset.range(0).repeat()
    assert drain(empty.make_one_shot_iterator().get_next()) == []


def test_padded_batch_matches_manual_padding():
    seqs = [[1], [2, 3, 4], [5, 6], [7, 8, 9, 10], [11]]
    ds = tf.data.Dataset.from_generator(lambda: iter(seqs), tf.int32, tf.TensorShape([None]))
    ds = ds.map(lambda s: (s, tf.size(s)))
    ds = ds.padded_batch(2, padded_shapes=([None], []), padding_values=(-1, 0))
    got = drain(ds.make_one_shot_iterator().get_next())
    for k, (batch, lengths) in enumerate(got):
        rows = seqs[2 * k : 2 * k + 2]
        width = max(len(r) for r in rows)
        want = np.array([r + [-1] * (width - len(r)) for r in rows])
        np.testing.assert_array_equal(batch, want)
        np.testing.assert_array_equal(lengths, [len(r) for r in rows])
    fixed = tf.data.Dataset.from_generator(lambda: iter(seqs), tf.int32, [None]).padded_batch(
        5, padded_shapes=[6]
    )
    (only,) = drain(fixed.make_one_shot_iterator().get_next())
    assert only.shape == (5, 6) and only[3].tolist() == [7, 8, 9, 10, 0, 0]
    too_small = tf.data.Dataset.from_generator(lambda: iter(seqs), tf.int32, [None]).padded_batch(
        5, padded_shapes=[2]
    )
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="smaller"):
        sess.run(too_small.make_one_shot_iterator().get_next())


def test_initializable_iterator_fed_through_placeholders():
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.int64, [None])
    it = tf.data.Dataset.from_tensor_slices((x, y)).batch(2).make_initializable_iterator()
    fx, fy = it.get_next()
    assert fx.shape.as_list() == [None, 2]
    loss = tf.reduce_sum(fx) + tf.cast(tf.reduce_sum(fy), tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(loss)
        for n in (3, 5):
            data_x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
            data_y = np.arange(n) * 10
            sess.run(it.initializer, {x: data_x, y: data_y})
            got = drain(loss, sess)
            want = [data_x[i : i + 2].sum() + data_y[i : i + 2].sum() for i in range(0, n, 2)]
            np.testing.assert_allclose(got, want)


def test_reinitializable_iterator_switches_datasets():
    train = tf.data.Dataset.range(5).map(lambda v: v * 2)
    val = tf.data.Dataset.range(3)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    init_train, init_val = it.make_initializer(train), it.make_initializer(val)
    with tf.Session() as sess:
        sess.run(init_train)
        assert [int(v) for v in drain(nxt, sess)] == [0, 2, 4, 6, 8]
        sess.run(init_val)
        assert [int(v) for v in drain(nxt, sess)] == [0, 1, 2]
    with pytest.raises(TypeError, match="output types"):
        it.make_initializer(tf.data.Dataset.from_tensors(1.0))


def test_training_on_a_dataset_matches_numpy_sgd():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(12, 3)).astype(np.float32)
    ys = (xs @ np.array([1.0, -1.0, 2.0], np.float32))[:, None]
    x, y = (
        tf.data.Dataset.from_tensor_slices((xs, ys))
        .batch(4)
        .repeat(2)
        .make_one_shot_iterator()
        .get_next()
    )
    w = tf.Variable(np.zeros((3, 1), np.float32))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        steps = len(drain(train, sess))
        got = sess.run(w)
    assert steps == 6
    want = np.zeros((3, 1), np.float32)
    for _ in range(2):
        for i in range(0, 12, 4):
            bx, by = xs[i : i + 4], ys[i : i + 4]
            want -= 0.1 * (2 / 4) * bx.T @ (bx @ want - by)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_errors_are_clear():
    ph = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="placeholder"):
        tf.data.Dataset.from_tensor_slices(ph).make_one_shot_iterator()
    ragged = tf.data.Dataset.from_generator(lambda: iter([[1], [1, 2]]), tf.int32, [None])
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="different shapes in component 0"),
    ):
        sess.run(ragged.batch(2).make_one_shot_iterator().get_next())
    mismatch = tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="match"):
        sess.run(mismatch.make_one_shot_iterator().get_next())
    with pytest.raises(ValueError, match="boolean"):
        tf.data.Dataset.range(3).filter(lambda v: v * 2)


def test_namedtuple_elements_and_function_forms():
    Point = collections.namedtuple("Point", "x y")
    ds = tf.data.Dataset.from_tensors(Point(np.float32(1.5), np.int32(2)))
    el = tf.data.make_one_shot_iterator(ds).get_next()
    assert isinstance(el, Point)
    (got,) = drain(el)
    assert got == Point(1.5, 2)
    it = tf.data.make_initializable_iterator(tf.data.Dataset.range(2))
    with tf.Session() as sess:
        sess.run(it.initializer)
        assert [int(v) for v in drain(it.get_next(), sess)] == [0, 1]


def test_text_line_dataset_reads_files_in_order(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(b"1,2\n3,4\r\n")
    b.write_bytes(b"5,6")
    lines = drain(tf.data.TextLineDataset([str(a), str(b)]).make_one_shot_iterator().get_next())
    assert lines == [b"1,2", b"3,4", b"5,6"]
    names = tf.placeholder(tf.string, [None])
    it = tf.data.TextLineDataset(names).batch(2).make_initializable_iterator()
    with tf.Session() as sess:
        sess.run(it.initializer, {names: [str(b), str(a)]})
        batches = drain(it.get_next(), sess)
        assert [list(x) for x in batches] == [[b"5,6", b"1,2"], [b"3,4"]]
        assert batches[0].dtype == object  # tf.string values are object arrays of bytes
        sess.run(it.initializer, {names: [str(tmp_path / "missing")]})
        with pytest.raises(tf.errors.NotFoundError, match="missing"):
            sess.run(it.get_next())


def test_flat_map_interleave_unbatch_match_python():
    ds = tf.data.Dataset.range(1, 5)
    # Each n opens a dataset of n copies of n*10 (capturing the element's tensor).
    flat = ds.flat_map(lambda n: tf.data.Dataset.from_tensors(n * 10).repeat(n))
    assert [int(v) for v in drain(flat.make_one_shot_iterator().get_next())] == [
        n * 10 for n in range(1, 5) for _ in range(n)
    ]

    def interleave(seqs, cycle, block):  # TF's documented order, in plain Python
        seqs, out, slots, index = iter(seqs), [], [None] * cycle, 0
        done = False
        while True:
            if slots[index] is None and not done:
                nxt = next(seqs, None)
                done = nxt is None
                slots[index] = None if done else iter(nxt)
            if slots[index] is None:
                if done and all(s is None for s in slots):
                    return out
                index = (index + 1) % cycle
                continue
            block_items = [v for _, v in zip(range(block), slots[index])]
            out += block_items
            if len(block_items) < block:
                slots[index] = None
            index = (index + 1) % cycle

    for cycle, block in [(2, 1), (3, 2), (1, 3)]:
        tf.reset_default_graph()
        inter = tf.data.Dataset.range(1, 6).interleave(
            lambda n: tf.data.Dataset.range(n).map(lambda x, n=n: x + 100 * n),
            cycle_length=cycle,
            block_length=block,
        )
        want = interleave([[i + 100 * n for i in range(n)] for n in range(1, 6)], cycle, block)
        assert [int(v) for v in drain(inter.make_one_shot_iterator().get_next())] == want

    tf.reset_default_graph()
    ub = tf.data.Dataset.from_tensor_slices(
        (np.arange(6).reshape(3, 2), np.arange(6.0).reshape(3, 2))
    ).unbatch()
    assert ub.output_shapes[0].as_list() == []
    assert [(int(a), float(b)) for a, b in drain(ub.make_one_shot_iterator().get_next())] == [
        (i, float(i)) for i in range(6)
    ]
    with pytest.raises(TypeError, match="Dataset"):
        tf.data.Dataset.range(3).flat_map(lambda n: n)


def test_functions_capture_outer_tensors_at_iterator_start():
    scale = tf.placeholder(tf.float32, [], name="scale")
    offset = tf.constant(0.5)
    ds = (
        tf.data.Dataset.range(4)
        .map(lambda v: tf.cast(v, tf.float32) * scale + offset)
        .filter(lambda v: v < scale * 2.0)
    )
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {scale: 3.0})
        assert [float(v) for v in drain(nxt, sess)] == [0.5, 3.5]
        sess.run(it.initializer, {scale: 10.0})
        assert [float(v) for v in drain(nxt, sess)] == [0.5, 10.5]
    with pytest.raises(ValueError, match="placeholder"):
        ds.make_one_shot_iterator()


def test_experimental_transformations():
    exp = tf.data.experimental
    ds = (
        tf.data.Dataset.range(6)
        .apply(exp.shuffle_and_repeat(6, count=2, seed=4))
        .apply(exp.map_and_batch(lambda v: v * 3, 4))
        .prefetch(exp.AUTOTUNE)
    )
    got = np.concatenate(drain(ds.make_one_shot_iterator().get_next()))
    assert sorted(got[:6].tolist()) == [0, 3, 6, 9, 12, 15] == sorted(got[6:].tolist())


def test_graph_mode_iteration_is_refused_clearly():
    ds = tf.data.Dataset.range(2)
    with pytest.raises(RuntimeError, match="make_one_shot_iterator"):
        iter(ds)
    assert ds.output_classes is tf.Tensor
