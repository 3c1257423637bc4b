"""`tf.contrib` (eager, rnn, layers, framework, metrics) and `tf.layers.conv2d_transpose`."""

import numpy as np
import pytest
from sklearn import metrics as skm

import miniflow as tf

layers = tf.contrib.layers
tfe = tf.contrib.eager


def _init_run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        return sess.run(fetches, feed)


# -- tf.layers.conv2d_transpose -----------------------------------------------------------

X4 = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3) / 10
K4 = np.arange(3 * 2 * 2 * 3, dtype=np.float32).reshape(3, 2, 2, 3) / 7


@pytest.mark.parametrize(
    "padding, checks",
    [
        # tf.nn.conv2d_transpose in TensorFlow with the same input and kernel gave these
        (
            "valid",
            (
                21433.715,
                (1, slice(None), 2, 1),
                [
                    38.97142791748047,
                    106.34285736083984,
                    221.6857147216797,
                    130.7714385986328,
                    270.5428771972656,
                    155.20001220703125,
                    319.3999938964844,
                    179.62857055664062,
                    293.28570556640625,
                ],
            ),
        ),
        (
            "same",
            (
                15012.514,
                (0, 3, slice(None), 0),
                [
                    8.94285774230957,
                    23.671428680419922,
                    27.78571319580078,
                    31.900001525878906,
                    36.014286041259766,
                ],
            ),
        ),
    ],
)
def test_conv2d_transpose_layer_matches_tf(padding, checks):
    total, index, row = checks
    x = tf.placeholder(tf.float32, [None, 4, 5, 3])
    y = tf.layers.conv2d_transpose(
        x,
        2,
        (3, 2),
        strides=(2, 1),
        padding=padding,
        kernel_initializer=tf.constant_initializer(K4),
    )
    layer = tf.layers.Conv2DTranspose(
        2,
        (3, 2),
        strides=(2, 1),
        padding=padding,
        kernel_initializer=tf.constant_initializer(K4),
        use_bias=False,
    )
    z = layer(tf.placeholder_with_default(X4, [None, None, None, 3]))
    assert y.shape.as_list() == [
        None,
        9 if padding == "valid" else 8,
        6 if padding == "valid" else 5,
        2,
    ]
    assert [v.name for v in tf.trainable_variables()][:2] == [
        "conv2d_transpose/kernel:0",
        "conv2d_transpose/bias:0",
    ]
    got, again = _init_run([y, z], {x: X4})
    np.testing.assert_allclose(got.sum(), total, rtol=1e-5)
    np.testing.assert_allclose(got[index], row, rtol=1e-5)
    np.testing.assert_allclose(again, got, rtol=1e-6)


# -- tf.contrib.rnn -----------------------------------------------------------------------


def _cells():
    return tf.contrib.rnn.BasicLSTMCell(3), tf.contrib.rnn.GRUCell(2)


def test_static_bidirectional_rnn_runs_backward_over_each_sequence():
    rng = np.random.RandomState(0)
    data = rng.randn(2, 4, 3).astype(np.float32)
    lengths = np.array([4, 2])
    steps = [tf.placeholder(tf.float32, [None, 3]) for _ in range(4)]
    fw, bw = _cells()
    outs, state_fw, state_bw = tf.contrib.rnn.static_bidirectional_rnn(
        fw, bw, steps, dtype=tf.float32, sequence_length=lengths
    )
    names = [v.name for v in tf.trainable_variables()]
    assert names[:2] == [
        "bidirectional_rnn/fw/basic_lstm_cell/kernel:0",
        "bidirectional_rnn/fw/basic_lstm_cell/bias:0",
    ]
    assert names[2].startswith("bidirectional_rnn/bw/gru_cell/")
    assert len(outs) == 4 and outs[0].shape.as_list() == [None, 5]
    # the backward cell run by hand over each row's reversed valid steps
    with tf.variable_scope("bidirectional_rnn/bw", reuse=True):
        rev = tf.placeholder(tf.float32, [None, 3])
        state = tf.placeholder(tf.float32, [None, 2])
        step_out, _ = bw(rev, state)
    feed = {s: data[:, i] for i, s in enumerate(steps)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, final_bw = sess.run([outs, state_bw], feed)
        for row, n in enumerate(lengths):
            h = np.zeros((1, 2), np.float32)
            want = {}
            for t in reversed(range(n)):
                h = sess.run(step_out, {rev: data[row : row + 1, t], state: h})
                want[t] = h[0]
            for t in range(4):
                expect = want.get(t, np.zeros(2))
                np.testing.assert_allclose(np.asarray(got)[t, row, 3:], expect, atol=1e-6)
            np.testing.assert_allclose(final_bw[row], want[0], atol=1e-6)


def test_stack_bidirectional_dynamic_rnn_names_and_shapes():
    x = tf.placeholder(tf.float32, [2, 5, 3])
    cells_fw = [tf.nn.rnn_cell.BasicRNNCell(4), tf.nn.rnn_cell.BasicRNNCell(2)]
    cells_bw = [tf.nn.rnn_cell.BasicRNNCell(4), tf.nn.rnn_cell.BasicRNNCell(1)]
    out, states_fw, states_bw = tf.contrib.rnn.stack_bidirectional_dynamic_rnn(
        cells_fw, cells_bw, x, dtype=tf.float32
    )
    assert out.shape.as_list() == [2, 5, 3] and len(states_fw) == len(states_bw) == 2
    assert "stack_bidirectional_rnn/cell_1/bidirectional_rnn/bw/basic_rnn_cell/kernel:0" in [
        v.name for v in tf.trainable_variables()
    ]
    assert _init_run(out, {x: np.ones((2, 5, 3))}).shape == (2, 5, 3)
    (o_fw, o_bw), _ = tf.contrib.rnn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.GRUCell(2), tf.nn.rnn_cell.GRUCell(2), x, dtype=tf.float32, scope="bi"
    )
    assert o_fw.shape.as_list() == o_bw.shape.as_list() == [2, 5, 2]
    with pytest.raises(ValueError, match="same depth"):
        tf.contrib.rnn.stack_bidirectional_dynamic_rnn(cells_fw, cells_bw[:1], x)


# -- tf.contrib.eager ---------------------------------------------------------------------


def test_tfe_gradient_functions_network_and_checkpoint(tmp_path):
    with tf.eager_mode():
        assert tfe.executing_eagerly() and tfe.num_gpus() == 0
        f = tfe.gradients_function(lambda a, b: a * b * b)
        assert [float(g) for g in f(2.0, 3.0)] == [9.0, 12.0]
        value, grads = tfe.value_and_gradients_function(lambda a, b: a * b * b, params=["b"])(
            2.0, 3.0
        )
        assert float(value) == 18.0 and [float(g) for g in grads] == [12.0]
        w = tfe.Variable(3.0, name="w")
        pairs = tfe.implicit_gradients(lambda x: w * w * x)(2.0)
        assert len(pairs) == 1 and float(pairs[0][0]) == 12.0 and pairs[0][1] is w
        with pytest.raises(ValueError, match="No trainable variables"):
            tfe.implicit_gradients(lambda x: x * 2.0)(1.0)
        assert tfe.defun(abs) is abs

        class Net(tfe.Network):
            def __init__(self):
                super().__init__()
                self.a = self.track_layer(tf.layers.Dense(4))
                self.b = tf.layers.Dense(2)  # tracked by assignment

            def call(self, x):
                return self.b(self.a(x))

        net = Net()
        out = net(tf.ones([3, 5]))
        assert out.shape.as_list() == [3, 2] and len(net.variables) == 4
        assert len(set(v.name for v in net.variables)) == 4
        ckpt = tfe.Checkpoint(model=net, w=w)
        path = ckpt.save(str(tmp_path / "ckpt"))
        before = [v.numpy().copy() for v in net.variables]
        for v in net.variables:
            v.assign(tf.zeros_like(v))
        w.assign(0.0)
        ckpt.restore(path)
        assert w.numpy() == 3.0
        for a, v in zip(before, net.variables):
            np.testing.assert_array_equal(a, v.numpy())
        mean, acc = tfe.metrics.Mean(), tfe.metrics.Accuracy()
        mean([1.0, 2.0])
        mean(6.0, weights=2.0)
        acc(tf.constant([1, 2, 3]), tf.constant([1, 0, 3]))
        assert float(mean.result()) == 15.0 / 4 and abs(float(acc.result()) - 2 / 3) < 1e-12
        it = tfe.Iterator(tf.data.Dataset.range(2))
        assert [int(v) for v in it] == [0, 1]


# -- tf.contrib.layers and tf.contrib.framework -----------------------------------------------


def test_fully_connected_and_conv2d_are_model_variables_with_contrib_names():
    x = tf.placeholder(tf.float32, [None, 6, 6, 2])
    with tf.contrib.framework.arg_scope(
        [layers.conv2d], padding="VALID", weights_initializer=tf.ones_initializer()
    ):
        with tf.contrib.framework.arg_scope([layers.conv2d], num_outputs=3):
            h = layers.conv2d(x, kernel_size=3)
        h2 = layers.conv2d(x, 2, 3, padding="SAME", activation_fn=None)
    flat = layers.flatten(h)
    out = layers.fully_connected(
        flat,
        2,
        weights_initializer=tf.ones_initializer(),
        biases_initializer=tf.constant_initializer(0.5),
        outputs_collections=["outs"],
    )
    assert h.shape.as_list() == [None, 4, 4, 3] and h2.shape.as_list() == [None, 6, 6, 2]
    names = [v.name for v in tf.model_variables()]
    assert names == [
        "Conv/weights:0",
        "Conv/biases:0",
        "Conv_1/weights:0",
        "Conv_1/biases:0",
        "fully_connected/weights:0",
        "fully_connected/biases:0",
    ]
    assert tf.get_collection("outs") == [out]
    value = _init_run(out, {x: np.ones((1, 6, 6, 2))})
    np.testing.assert_allclose(value, np.full((1, 2), 18.0 * 48 + 0.5))  # by hand
    with pytest.raises(ValueError, match="not decorated with @add_arg_scope"):
        with tf.contrib.framework.arg_scope([tf.layers.dense], units=1):
            pass
    fw = tf.contrib.framework
    assert [v.name for v in fw.get_variables("Conv_1")] == ["Conv_1/weights:0", "Conv_1/biases:0"]
    assert [v.name for v in fw.get_variables(suffix="biases")][0] == "Conv/biases:0"
    assert [v.name for v in fw.get_variables_to_restore(include=["fully"])] == [
        "fully_connected/weights:0",
        "fully_connected/biases:0",
    ]
    assert len(fw.get_variables_to_restore(exclude=["Conv"])) == 2
    assert fw.get_unique_variable("Conv/weights").name == "Conv/weights:0"
    assert fw.get_variables_by_name("biases")[1].name == "Conv_1/biases:0"


def test_batch_norm_moving_averages_and_dropout():
    x = tf.placeholder(tf.float32, [None, 2])
    data = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]], np.float32)
    y = layers.batch_norm(x, decay=0.9, scale=True, updates_collections=None)
    y_infer = layers.batch_norm(x, is_training=False, reuse=True, scope="BatchNorm")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(y, {x: data})
        mm, mv = sess.run(["BatchNorm/moving_mean:0", "BatchNorm/moving_variance:0"])
        infer = sess.run(y_infer, {x: data})
    mean, var = data.mean(0), data.var(0)
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(mm, 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(mv, 0.9 + 0.1 * data.var(0, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(infer, (data - mm) / np.sqrt(mv + 1e-3), rtol=1e-5)
    assert [v.name for v in tf.trainable_variables()] == ["BatchNorm/beta:0", "BatchNorm/gamma:0"]
    z = layers.batch_norm(x)  # default: updates go to UPDATE_OPS
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2 and z.shape[1] == 2
    same = layers.dropout(x, 0.1, is_training=False)
    np.testing.assert_array_equal(_init_run(same, {x: data}), data)


def test_embed_sequence_layer_norm_and_initializers():
    ids = tf.constant([[1, 2], [3, 0]])
    emb = layers.embed_sequence(
        ids, vocab_size=5, embed_dim=4, initializer=tf.constant_initializer(np.arange(20.0))
    )
    ln = layers.layer_norm(tf.constant([[1.0, 2.0, 3.0]]))
    init = layers.variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=True)
    w = tf.get_variable("w", [400, 300], initializer=init)
    n = tf.get_variable("n", [400, 300], initializer=layers.variance_scaling_initializer())
    e, normed, wv, nv = _init_run([emb, ln, w, n])
    np.testing.assert_array_equal(e[0, 1], [8.0, 9.0, 10.0, 11.0])
    np.testing.assert_allclose(normed, [[-1.2247449, 0.0, 1.2247449]], rtol=1e-5)
    assert np.abs(wv).max() <= np.sqrt(6.0 / 400) and abs(wv.std() - np.sqrt(2 / 400)) < 2e-3
    assert abs(np.abs(nv).max() - 2 * np.sqrt(1.3 * 2 / 400)) < 1e-3  # truncated at 2 std
    with pytest.raises(TypeError, match="Unknown mode"):
        layers.variance_scaling_initializer(mode="fan_in")


def test_optimize_loss_trains_and_adds_summaries():
    tf.set_random_seed(1)  # the initial weights decide how far 50 steps get
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant([[1.0], [2.0]])
    pred = layers.fully_connected(x, 1, activation_fn=None)
    loss = tf.losses.mean_squared_error(y, pred)
    step = tf.train.get_or_create_global_step()
    train = layers.optimize_loss(loss, step, 0.05, "SGD", clip_gradients=10.0)
    tags = {s.name.split(":")[0] for s in tf.get_collection(tf.GraphKeys.SUMMARIES)}
    assert {
        "OptimizeLoss/loss",
        "OptimizeLoss/global_norm/gradient_norm",
        "OptimizeLoss/global_norm/clipped_gradient_norm",
    } <= tags
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(train)
        for _ in range(50):
            last = sess.run(train)
        assert sess.run(step) == 51 and last < first / 10
    with pytest.raises(ValueError, match="Optimizer name should be one of"):
        layers.optimize_loss(loss, step, 0.1, "Nope")
    with pytest.raises(ValueError, match="Summaries should be one of"):
        layers.optimize_loss(loss, step, 0.1, "SGD", summaries=["bogus"])


def test_assign_from_checkpoint_fn_and_model_variable(tmp_path):
    v = tf.contrib.framework.model_variable("v", [2], initializer=tf.ones_initializer())
    u = tf.contrib.framework.variable("u", [], initializer=tf.zeros_initializer())
    assert v in tf.model_variables() and u not in tf.model_variables()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    v2 = tf.get_variable("v", [2], initializer=tf.zeros_initializer())
    extra = tf.get_variable("extra", [], initializer=tf.zeros_initializer())
    restore = tf.contrib.framework.assign_from_checkpoint_fn(
        path, [v2, extra], ignore_missing_vars=True
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        restore(sess)
        np.testing.assert_array_equal(sess.run(v2), [1.0, 1.0])


# -- tf.contrib.metrics ---------------------------------------------------------------------


def test_contrib_metrics():
    rng = np.random.RandomState(3)
    labels = rng.randint(0, 2, 40)
    scores = np.clip(labels * 0.4 + rng.uniform(0, 0.6, 40), 0, 1).astype(np.float32)
    acc, acc_up = tf.contrib.metrics.streaming_accuracy(
        tf.constant(labels), tf.constant(1 - labels)
    )
    f1, f1_up = tf.contrib.metrics.f1_score(labels, scores, num_thresholds=50)
    values, updates = tf.contrib.metrics.aggregate_metric_map(
        {"acc": (acc, acc_up), "f1": (f1, f1_up)}
    )
    batch = tf.contrib.metrics.accuracy(
        tf.constant([1, 2, 3]), tf.constant([1, 0, 3]), weights=tf.constant([1.0, 1.0, 2.0])
    )
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(updates)
        got = sess.run(values)
        assert sess.run(batch) == 0.75
    assert got["acc"] == 0.0
    thresholds = [(i + 1) / 49 for i in range(48)]
    best = max(skm.f1_score(labels, scores > t) for t in thresholds)
    np.testing.assert_allclose(got["f1"], best, rtol=1e-5)
    with pytest.raises(ValueError, match="Labels should have bool, integer"):
        tf.contrib.metrics.accuracy(tf.constant([1.0]), tf.constant([1.0]))
    with pytest.raises(ValueError, match="at least one"):
        tf.contrib.metrics.aggregate_metrics()


def test_layer_norm_basic_lstm_cell_one_step_against_numpy():
    rng = np.random.RandomState(1)
    x = tf.constant(rng.randn(2, 3).astype(np.float32))
    c0, h0 = rng.randn(2, 4).astype(np.float32), rng.randn(2, 4).astype(np.float32)
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(4, forget_bias=0.5, norm_gain=2.0, norm_shift=0.1)
    h, state = cell(x, tf.contrib.rnn.LSTMStateTuple(tf.constant(c0), tf.constant(h0)))
    names = [v.name for v in tf.trainable_variables()]
    assert (
        names[:3]
        == [
            "layer_norm_basic_lstm_cell/kernel:0",
            "layer_norm_basic_lstm_cell/input/gamma:0",
            "layer_norm_basic_lstm_cell/input/beta:0",
        ]
        and len(names) == 11
    )
    got_h, got_c, kernel, xv = _init_run([h, state.c, cell.kernel, x])

    def norm(v):
        return 2.0 * (v - v.mean(1, keepdims=True)) / np.sqrt(v.var(1, keepdims=True)) + 0.1

    def sig(v):
        return 1 / (1 + np.exp(-v))

    i, j, f, o = np.split(np.concatenate([xv, h0], 1) @ kernel, 4, axis=1)
    c = norm(c0 * sig(norm(f) + 0.5) + sig(norm(i)) * np.tanh(norm(j)))
    np.testing.assert_allclose(got_c, c, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_h, np.tanh(c) * sig(norm(o)), rtol=1e-4, atol=1e-5)
