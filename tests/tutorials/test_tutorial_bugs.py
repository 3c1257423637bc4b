"""Regressions for the bugs found running public TF1 tutorial programs (issue 13 §2).
Expected names and numbers were obtained from TensorFlow (tf.compat.v1, graph mode)
unless they are hand-computed or NumPy references."""

import numpy as np
import pytest

import miniflow as tf
from miniflow.ops.summary_ops import summary_pb2

# -- 1. layer names restart per variable scope, so "build twice, reuse" works -----------


def _net(x):
    h = tf.layers.dense(x, 4, activation=tf.nn.relu)
    h = tf.layers.dense(h, 3)
    return tf.layers.dense(h, 2, name="out")


def test_reentering_a_scope_with_reuse_shares_the_layers():
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("Net"):
        train = _net(x)
    with tf.variable_scope("Net", reuse=True):
        test = _net(x)
    names = [v.name for v in tf.global_variables()]
    assert names == [
        "Net/dense/kernel:0",
        "Net/dense/bias:0",
        "Net/dense_1/kernel:0",
        "Net/dense_1/bias:0",
        "Net/out/kernel:0",
        "Net/out/bias:0",
    ]
    assert test.name.startswith("Net_1/out/")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: np.ones((2, 3), np.float32)}
        a, b = sess.run([train, test], feed)
    np.testing.assert_array_equal(a, b)


def test_layer_names_follow_tf1_counters():
    # Names as TF 1.15 gives them for this program.
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("Net2"):
        tf.layers.dense(x, 4)
        with tf.variable_scope("inner"):
            tf.layers.dense(x, 4)
            tf.layers.conv2d(tf.zeros([1, 4, 4, 1]), 2, 3)
        tf.layers.dense(x, 4)
        tf.layers.batch_normalization(x)
    for _ in range(2):
        with tf.variable_scope("A", reuse=tf.AUTO_REUSE):
            tf.layers.dense(x, 4)
            tf.layers.dense(x, 4)
    tf.layers.dense(x, 4)
    tf.layers.dense(x, 4)
    with tf.name_scope("ns"):  # a name scope does not touch variable names
        tf.layers.dense(x, 4)
    names = [v.name[:-2] for v in tf.global_variables()]
    assert names == [
        "Net2/dense/kernel",
        "Net2/dense/bias",
        "Net2/inner/dense/kernel",
        "Net2/inner/dense/bias",
        "Net2/inner/conv2d/kernel",
        "Net2/inner/conv2d/bias",
        "Net2/dense_1/kernel",
        "Net2/dense_1/bias",
        "Net2/batch_normalization/gamma",
        "Net2/batch_normalization/beta",
        "Net2/batch_normalization/moving_mean",
        "Net2/batch_normalization/moving_variance",
        "A/dense/kernel",
        "A/dense/bias",
        "A/dense_1/kernel",
        "A/dense_1/bias",
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
        "dense_2/kernel",
        "dense_2/bias",
    ]


def test_default_scope_names_skip_names_already_opened():
    with tf.variable_scope("dense"):
        pass
    with tf.variable_scope(None, default_name="dense") as s:
        assert s.name == "dense_1"
    with tf.variable_scope("C"):
        with tf.variable_scope("s"):
            pass
        with tf.variable_scope(None, default_name="s") as s:
            assert s.name == "C/s_1"


def test_default_scope_names_match_tf_on_reentry():
    out = []

    def default():
        with tf.variable_scope(None, default_name="dense") as s:
            out.append(s.name)

    with tf.variable_scope("Net"):
        default(), default()
    with tf.variable_scope("Net", reuse=True):
        default(), default()
    with tf.variable_scope("A", reuse=tf.AUTO_REUSE):
        default()
    default(), default()
    with tf.name_scope("ns"):
        default()
    with tf.variable_scope("C") as c:
        default()
    with tf.variable_scope(c):  # a captured scope restores its counters on exit
        default()
    with tf.variable_scope("C"):
        default()
    with tf.variable_scope(c):
        default()
        with tf.variable_scope(c):
            default()
        default()
    default()
    assert out == [  # what TensorFlow's tf.compat.v1.variable_scope gives
        "Net/dense",
        "Net/dense_1",
        "Net/dense",
        "Net/dense_1",
        "A/dense",
        "dense",
        "dense_1",
        "dense_2",
        "C/dense",
        "C/dense",
        "C/dense",
        "C/dense",
        "C/dense_1",
        "C/dense_1",
        "dense_3",
    ]


def test_reuse_without_name_uses_the_base_name_and_name_clash_raises():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.dense(x, 4)
    y = tf.layers.dense(x, 4, reuse=True)  # TF1: scope "dense", shared
    assert len(tf.trainable_variables()) == 2 and y.name.startswith("dense_1/")
    tf.layers.dense(x, 2, name="fc")
    with pytest.raises(ValueError, match="fc/kernel already exists"):
        tf.layers.dense(x, 2, name="fc")


# -- 2. tensor parameters of random ops and initializers ---------------------------------


def test_random_ops_take_tensor_parameters():
    tf.set_random_seed(1)
    mean = tf.placeholder(tf.float32, [])
    std = tf.constant(2.0)
    draws = [
        tf.random_normal([4000], mean=mean, stddev=std),
        tf.truncated_normal([4000], mean=mean, stddev=std),
        tf.random_uniform([4000], minval=mean, maxval=std),
        tf.random_uniform([4000], tf.constant(1), tf.constant(5), dtype=tf.int32),
    ]
    v = tf.get_variable("v", [4000], initializer=tf.random_normal_initializer(stddev=std))
    assert [d.dtype for d in draws] == [tf.float32] * 3 + [tf.int32]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        n, t, u, i = sess.run(draws, {mean: 1.0})
        w = sess.run(v)
    assert abs(n.mean() - 1.0) < 0.15 and abs(n.std() - 2.0) < 0.15
    assert abs(t - 1.0).max() <= 4.0 and t.std() < 2.0  # truncated at 2 stddev
    assert u.min() >= 1.0 and u.max() < 2.0
    assert set(np.unique(i)) == {1, 2, 3, 4}
    assert abs(w.std() - 2.0) < 0.15


def test_random_ops_tensor_parameters_eager():
    with tf.eager_mode():
        z = tf.random_normal([3], mean=tf.constant(5.0), stddev=tf.constant(0.0))
        np.testing.assert_array_equal(z.numpy(), np.full(3, 5.0, np.float32))


# -- 3. labels are cast to the logits' dtype ----------------------------------------------

LABELS = np.array([[0.0, 1.0], [1.0, 0.0]])  # float64
LOGITS = [[1.0, 2.0], [3.0, 1.0]]


@pytest.mark.parametrize("labels", [LABELS, "tensor"])
def test_softmax_cross_entropy_casts_float64_labels(labels):
    labels = tf.constant(LABELS) if isinstance(labels, str) else labels
    logits = tf.constant(LOGITS)
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    mean = tf.losses.softmax_cross_entropy(labels, logits)
    assert v1.dtype == v2.dtype == mean.dtype == tf.float32
    with tf.Session() as sess:
        a, b, c = sess.run([v1, v2, mean])
    # TF: [0.31326166 0.12692805] and 0.22009486
    np.testing.assert_allclose(a, [0.31326166, 0.12692805], rtol=1e-6)
    np.testing.assert_allclose(b, a)
    np.testing.assert_allclose(c, 0.22009486, rtol=1e-6)


def test_losses_cast_float64_labels():
    labels, logits = tf.constant(LABELS), tf.constant(LOGITS)
    got = [
        tf.losses.sigmoid_cross_entropy(labels, logits),
        tf.losses.mean_squared_error(labels, logits),
        tf.losses.absolute_difference(labels, logits),
        tf.losses.huber_loss(labels, logits),
    ]
    with tf.Session() as sess:
        values = sess.run(got)
    np.testing.assert_allclose(values, [0.70050967, 1.75, 1.25, 0.75], rtol=1e-6)  # TF


# -- 4. summary names with illegal characters ---------------------------------------------


def test_summary_names_are_cleaned_like_tf():
    pytest.importorskip("tensorboardX")
    v = tf.Variable([1.0, 2.0], name="W1")
    hist = tf.summary.histogram(v.name, v)
    scalar = tf.summary.scalar("a b/c:0", tf.constant(2.0))
    assert hist.name == "W1_0:0" and scalar.name == "a_b/c_0:0"  # TF's op names
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tags = [summary_pb2().Summary.FromString(sess.run(s)).value[0].tag for s in (hist, scalar)]
    assert tags == ["W1_0", "a_b/c_0"]  # TF's tags


# -- 5. eager iteration over datasets -----------------------------------------------------


def test_eager_for_loop_over_a_dataset():
    with tf.eager_mode():
        scale = tf.constant(10.0, tf.float64)
        ds = (
            tf.data.Dataset.from_tensor_slices((np.arange(10.0).reshape(5, 2), np.arange(5)))
            .map(lambda x, y: (x * scale, y))
            .batch(2)
        )
        got = [(x.numpy(), y.numpy()) for x, y in ds]
    assert [y.tolist() for _, y in got] == [[0, 1], [2, 3], [4]]
    np.testing.assert_array_equal(got[2][0], [[80.0, 90.0]])
    assert got[0][0].dtype == np.float64 and got[0][1].dtype == np.int64


def test_eager_iter_next_take_and_one_shot_iterator():
    with tf.eager_mode():
        ds = tf.data.Dataset.from_tensor_slices(tf.constant([1.0, 2.0, 3.0]))
        it = iter(ds.take(2))
        assert [float(next(it)), float(next(it))] == [1.0, 2.0]
        with pytest.raises(StopIteration):
            next(it)
        shot = ds.filter(lambda v: v > 1.0).make_one_shot_iterator()
        assert float(shot.get_next()) == 2.0 and float(shot.next()) == 3.0
        with pytest.raises(tf.errors.OutOfRangeError):
            shot.get_next()
        assert [int(v) for v in tf.data.Dataset.range(tf.constant(3))] == [0, 1, 2]
        with pytest.raises(RuntimeError, match="for element in dataset"):
            ds.make_initializable_iterator()
    with pytest.raises(RuntimeError, match="eager execution"):
        iter(tf.data.Dataset.range(3))


def test_cosine_distance_and_mean_pairwise_squared_error_match_tf():
    labels = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0]])
    pred = tf.constant([[1.0, 2.0, 2.5], [3.0, 1.0, 0.0]])
    losses = [
        tf.losses.cosine_distance(labels, pred, axis=1),
        tf.losses.cosine_distance(labels, pred, axis=0, weights=[[1.0, 0.0, 2.0]]),
        tf.losses.mean_pairwise_squared_error(labels, pred),
        tf.losses.mean_pairwise_squared_error(labels, pred, weights=[[2.0], [0.0]]),
        tf.losses.mean_pairwise_squared_error(labels, pred, weights=[[1.0, 0.0, 1.0], [1.0] * 3]),
    ]
    with tf.Session() as sess:
        got = sess.run(losses)
    np.testing.assert_allclose(
        got, [-4.0, -5.0, 14.166666984558105, 0.33333349227905273, 38.5], rtol=1e-6
    )  # TF's values
    assert len(tf.get_collection(tf.GraphKeys.LOSSES)) == 5
    with pytest.raises(ValueError, match="must specify 'axis'"):
        tf.losses.cosine_distance(labels, pred)
