"""W5-W8 written once in the TF1 graph style (run by miniflow and by TensorFlow's
`tf.compat.v1`) and once in the eager style (miniflow eager; TensorFlow 2 `tf.function`).

Every function returns (seconds for the timed steps, per-step losses); the warm-up
steps (plan build, tracing) are trained but not timed.
"""

from __future__ import annotations

import time

import nets_data as D
import numpy as np

CPU_SECONDS = [0.0]  # process CPU time of the last timed loop (all threads)
TIMED_STEPS = [0]


def _timed(step, items):
    """Trains on every item; times all but the warm-up: 3 steps (plans, traces and
    eager gradient plans are built by then) when there are 6 or more, else 1."""
    warm = 3 if len(items) >= 6 else 1
    losses = [step(it) for it in items[:warm]]
    t, c = time.perf_counter(), time.process_time()
    for item in items[warm:]:
        losses.append(step(item))
    CPU_SECONDS[0] = time.process_time() - c
    TIMED_STEPS[0] = len(items) - warm
    return time.perf_counter() - t, losses


def _dense(tf, x, w, b, act=None):
    y = tf.matmul(x, w) + b
    return act(y) if act else y


def cnn_logits(tf, x, p):
    w1, b1, w2, b2, w3, b3, w4, b4 = p
    pool = [1, 2, 2, 1]
    h = tf.nn.max_pool(
        tf.nn.relu(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME") + b1), pool, pool, "SAME"
    )
    h = tf.nn.max_pool(
        tf.nn.relu(tf.nn.conv2d(h, w2, [1, 1, 1, 1], "SAME") + b2), pool, pool, "SAME"
    )
    h = _dense(tf, tf.reshape(h, [-1, 3136]), w3, b3, tf.nn.relu)
    return _dense(tf, h, w4, b4)


def _xent(tf, labels, logits):
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def ae_out(tf, x, p):
    h = x
    for i in range(0, len(p), 2):
        act = tf.nn.sigmoid if i == len(p) - 2 else tf.nn.relu
        h = _dense(tf, h, p[i], p[i + 1], act)
    return h


def gan_parts(tf, p):
    def gen(z):
        return _dense(tf, _dense(tf, z, p[0], p[1], tf.nn.relu), p[2], p[3], tf.nn.sigmoid)

    def disc(x):
        return _dense(tf, _dense(tf, x, p[4], p[5], tf.nn.relu), p[6], p[7])

    def bce(logits, label):
        labels = tf.ones_like(logits) if label else tf.zeros_like(logits)
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))

    return gen, disc, bce


class HandLSTMCell:
    """TF's BasicLSTMCell (forget_bias 1) for TensorFlow 2.21, whose Keras 3 dropped the
    class: the same math, usable by `tf.nn.dynamic_rnn`/`static_rnn`."""

    state_size = (D.UNITS, D.UNITS)
    output_size = D.UNITS

    def __init__(self, tf, kernel, bias):
        self.tf, self.kernel, self.bias = tf, kernel, bias

    def zero_state(self, batch, dtype):
        z = self.tf.zeros([batch, D.UNITS], dtype)
        return (z, z)

    def __call__(self, x, state, scope=None):
        tf = self.tf
        c, h = state
        gates = tf.matmul(tf.concat([x, h], 1), self.kernel) + self.bias
        i, j, f, o = tf.split(gates, 4, axis=1)
        c = c * tf.sigmoid(f + 1.0) + tf.sigmoid(i) * tf.tanh(j)
        h = tf.tanh(c) * tf.sigmoid(o)
        return h, (c, h)


# ----------------------------------------------------------------------------- TF1 graph
def _session(tf, threads):
    if not threads:
        return tf.Session()
    return tf.Session(
        config=tf.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
        )
    )


def graph_run(tf, workload, steps, threads, miniflow):
    """Builds the workload's graph and trains it with one sess.run per optimizer."""
    if workload == "W5":
        x, y = D.images()
        xp = tf.placeholder(tf.float32, [None, 28, 28, 1])
        yp = tf.placeholder(tf.int64, [None])
        p = [tf.Variable(v) for v in D.cnn_init()]
        loss = _xent(tf, yp, cnn_logits(tf, xp, p))
        train = tf.train.AdamOptimizer(D.LR[workload]).minimize(loss)
        items = D.batches(workload, x, y, steps)
        runs = [lambda s, it: s.run([train, loss], {xp: it[0], yp: it[1]})[1]]
    elif workload in ("W6", "W6s"):
        x, y = D.sequences()
        xp = tf.placeholder(tf.float32, [None, D.TIME, D.FEAT])
        yp = tf.placeholder(tf.int64, [None])
        k0, b0, wo0, bo0 = D.lstm_init()
        if miniflow:  # the library's own cell; TF 2.21 (Keras 3) has none
            cell = tf.nn.rnn_cell.BasicLSTMCell(D.UNITS)
        else:
            cell = HandLSTMCell(tf, tf.Variable(k0), tf.Variable(b0))
        if workload == "W6":
            out, state = tf.nn.dynamic_rnn(cell, xp, dtype=tf.float32)
        else:
            out, state = tf.nn.static_rnn(cell, tf.unstack(xp, axis=1), dtype=tf.float32)
        wo, bo = tf.Variable(wo0), tf.Variable(bo0)
        loss = _xent(tf, yp, _dense(tf, state[1], wo, bo))
        train = tf.train.AdamOptimizer(D.LR[workload]).minimize(loss)
        items = D.batches(workload, x, y, steps)
        runs = [lambda s, it: s.run([train, loss], {xp: it[0], yp: it[1]})[1]]
    elif workload == "W7":
        xp = tf.placeholder(tf.float32, [None, 784])
        p = [tf.Variable(v) for v in D.ae_init()]
        loss = tf.reduce_mean(tf.square(ae_out(tf, xp, p) - xp))
        train = tf.train.RMSPropOptimizer(D.LR[workload]).minimize(loss)
        items = D.ae_batches(D.ae_data(), steps)
        runs = [lambda s, it: s.run([train, loss], {xp: it})[1]]
    elif workload == "W8":
        xp = tf.placeholder(tf.float32, [None, 784])
        zp = tf.placeholder(tf.float32, [None, D.Z_DIM])
        p = [tf.Variable(v) for v in D.gan_init()]
        gen, disc, bce = gan_parts(tf, p)
        fake = disc(gen(zp))
        d_loss = bce(disc(xp), 1) + bce(fake, 0)
        g_loss = bce(fake, 1)
        d_train = tf.train.AdamOptimizer(D.LR[workload], 0.5).minimize(d_loss, var_list=p[4:])
        g_train = tf.train.AdamOptimizer(D.LR[workload], 0.5).minimize(g_loss, var_list=p[:4])
        items = D.gan_batches(steps)
        runs = [
            lambda s, it: s.run([d_train, d_loss], {xp: it[0], zp: it[1]})[1],
            lambda s, it: s.run([g_train, g_loss], {zp: it[2]})[1],
        ]
    else:
        raise SystemExit(f"unknown workload {workload}")
    with _session(tf, threads) as sess:
        sess.run(tf.global_variables_initializer())
        if workload in ("W6", "W6s") and miniflow:
            sess.run([tf.assign(cell.kernel, k0), tf.assign(cell.bias, b0)])
        return _timed(lambda it: float(sum(run(sess, it) for run in runs)), items)


# ----------------------------------------------------------------------------- eager
def eager_run(tf, workload, steps, optimizers, compile_fn=None):
    """The step as users write it in eager mode: a tape, then the optimizer's update.
    ``optimizers`` is the namespace with TF1's optimizer classes (TF2: tf.compat.v1.train)."""
    if workload == "W5":
        x, y = D.images()
        p = [tf.Variable(v) for v in D.cnn_init()]
        opt = optimizers.AdamOptimizer(D.LR[workload])

        def loss_fn(it):
            return _xent(tf, it[1], cnn_logits(tf, it[0], p))

        items = D.batches(workload, x, y, steps)
        groups = [(loss_fn, p, opt)]
    elif workload == "W6":
        x, y = D.sequences()
        p = [tf.Variable(v) for v in D.lstm_init()]
        opt = optimizers.AdamOptimizer(D.LR[workload])
        if compile_fn is None:  # miniflow: the library's cell (fused), as PyTorch's nn.LSTM
            cell = tf.nn.rnn_cell.BasicLSTMCell(D.UNITS)
            cell(tf.zeros([1, D.FEAT]), cell.zero_state(1, tf.float32))  # builds it
            cell.kernel.assign(p[0].numpy())
            p[:2] = [cell.kernel, cell.bias]
        else:  # TensorFlow 2.21 (Keras 3) has no BasicLSTMCell: the same math by hand
            cell = HandLSTMCell(tf, p[0], p[1])

        def loss_fn(it):
            if compile_fn is None:
                _, state = tf.nn.dynamic_rnn(cell, it[0], dtype=tf.float32)
                return _xent(tf, it[1], _dense(tf, state[1], p[2], p[3]))
            state = cell.zero_state(D.BATCH[workload], tf.float32)
            for xt in tf.unstack(it[0], axis=1):
                _, state = cell(xt, state)
            return _xent(tf, it[1], _dense(tf, state[1], p[2], p[3]))

        items = D.batches(workload, x, y, steps)
        groups = [(loss_fn, p, opt)]
    elif workload == "W7":
        p = [tf.Variable(v) for v in D.ae_init()]
        opt = optimizers.RMSPropOptimizer(D.LR[workload])

        def loss_fn(it):
            return tf.reduce_mean(tf.square(ae_out(tf, it, p) - it))

        items = D.ae_batches(D.ae_data(), steps)
        groups = [(loss_fn, p, opt)]
    elif workload == "W8":
        p = [tf.Variable(v) for v in D.gan_init()]
        gen, disc, bce = gan_parts(tf, p)
        items = D.gan_batches(steps)
        groups = [
            (
                lambda it: bce(disc(it[0]), 1) + bce(disc(gen(it[1])), 0),
                p[4:],
                optimizers.AdamOptimizer(D.LR[workload], 0.5),
            ),
            (
                lambda it: bce(disc(gen(it[2])), 1),
                p[:4],
                optimizers.AdamOptimizer(D.LR[workload], 0.5),
            ),
        ]
    else:
        raise SystemExit(f"unknown eager workload {workload}")

    def one(loss_fn, params, opt):
        def step(it):
            with tf.GradientTape() as tape:
                loss = loss_fn(it)
            opt.apply_gradients(zip(tape.gradient(loss, params), params))
            return loss

        return compile_fn(step) if compile_fn else step

    steps_fns = [one(*g) for g in groups]
    if compile_fn:
        items = [
            tuple(tf.constant(a) for a in it) if isinstance(it, tuple) else tf.constant(it)
            for it in items
        ]
    return _timed(lambda it: float(sum(np.asarray(s(it)) for s in steps_fns)), items)
