"""SyncReplicasOptimizer(variable_averages=ema): the shadows move once per aggregated
step, on the variables' ps tasks, towards the updated variables (TF's chief runs
``ema.apply`` after each step's update).

2 ps tasks and 2 worker sessions (threads) in this process on 127.0.0.1. The reference
is a single-process run on the combined batches (whose variables equal the sync run's,
as tests/distributed/test_tf1_distributed.py checks) followed by the EMA recurrence in
NumPy, with the decay capped by the global step after each step.
"""

import threading

import numpy as np
import pytest

import miniflow as tf
from tests.distributed.test_tf1_distributed import cluster_of, free_ports  # noqa: F401

STEPS, BATCH, DECAY = 5, 3, 0.9


def _data():
    rng = np.random.RandomState(11)
    x = rng.normal(size=(2 * BATCH * STEPS, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    return x, y


def _model():
    gs = tf.train.get_or_create_global_step()
    w = tf.get_variable("w", [3, 1], initializer=tf.random_normal_initializer(seed=5))
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    return gs, w, b, x, y, loss


def _reference(num_updates: bool):
    """Variables after each single-process step on batch 2B, then the EMA recurrence."""
    X, Y = _data()
    with tf.Graph().as_default():
        gs, w, b, x, y, loss = _model()
        train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, global_step=gs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            shadow = dict(zip("wb", sess.run([w, b]), strict=True))
            shadow = {k: v.astype(np.float64) for k, v in shadow.items()}
            for s in range(STEPS):
                rows = slice(s * 2 * BATCH, (s + 1) * 2 * BATCH)
                sess.run(train, {x: X[rows], y: Y[rows]})
                values = dict(zip("wb", sess.run([w, b]), strict=True))
                k = s + 1  # the global step after this step
                decay = min(DECAY, (1 + k) / (10 + k)) if num_updates else DECAY
                for name, v in values.items():
                    shadow[name] = shadow[name] - (1 - decay) * (shadow[name] - v)
    return values, shadow


def _train_sync(cluster, workers, num_updates: bool, save_to=None):
    """Two workers, STEPS sync steps; returns the variables, shadows and placements."""
    X, Y = _data()
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            gs, w, b, x, y, loss = _model()
            ema = tf.train.ExponentialMovingAverage(DECAY, num_updates=gs if num_updates else None)
            opt = tf.train.SyncReplicasOptimizer(
                tf.train.MomentumOptimizer(0.1, 0.9),
                2,
                2,
                variable_averages=ema,
                variables_to_average=[w, b],
            )
            train = opt.minimize(loss, global_step=gs)
        assert ema.average(w).device == w.device and ema.average(b).device == b.device
        sessions = [tf.Session(s.target) for s in workers]
        try:
            sessions[0].run(tf.global_variables_initializer())
            deadline = tf.RunOptions(timeout_in_ms=30000)
            failures = []

            def work(i):
                try:
                    for s in range(STEPS):
                        lo = (s * 2 + i) * BATCH
                        feed = {x: X[lo : lo + BATCH], y: Y[lo : lo + BATCH]}
                        sessions[i].run(train, feed, options=deadline)
                except Exception as e:  # noqa: BLE001  reported below
                    failures.append(e)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert not failures and not any(t.is_alive() for t in threads), failures
            # the other worker reads the shadows from the ps tasks
            got = sessions[1].run({"gs": gs, "w": w, "b": b})
            got["avg"] = dict(
                zip("wb", sessions[1].run([ema.average(w), ema.average(b)]), strict=True)
            )
            if save_to is not None:
                tf.train.Saver().save(sessions[0], save_to)
        finally:
            for sess in sessions:
                sess.close()
    got["devices"] = {"w": w.device, "b": b.device}
    return got


@pytest.mark.parametrize("num_updates", [False, True], ids=["decay", "num_updates=gs"])
def test_shadows_move_once_per_step_after_the_update(cluster_of, num_updates):  # noqa: F811
    cluster, servers = cluster_of({"ps": 2, "worker": 2})
    workers = [tf.train.Server(cluster, "worker", i) for i in range(2)]
    servers.extend(workers)
    got = _train_sync(cluster, workers, num_updates)
    values, shadow = _reference(num_updates)
    assert got["gs"] == STEPS
    for name in "wb":
        np.testing.assert_allclose(got[name], values[name], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got["avg"][name], shadow[name], rtol=1e-5, atol=1e-6)
        # the average lags the variable (a shadow left at its start would fail this)
        assert not np.allclose(got["avg"][name], values[name], atol=1e-3)
    # each shadow lives on its variable's ps task (w and b on different ones)
    tasks = {name: int(got["devices"][name].split("task:")[1][0]) for name in "wb"}
    assert tasks["w"] != tasks["b"]
    for name, k in tasks.items():
        stored = servers[k].store.value(f"{name}/ExponentialMovingAverage")
        np.testing.assert_allclose(stored, shadow[name], rtol=1e-5, atol=1e-6)
        assert servers[1 - k].store.value(f"{name}/ExponentialMovingAverage") is None


def test_saved_averages_restore_into_the_variables_for_evaluation(cluster_of, tmp_path):  # noqa: F811
    cluster, servers = cluster_of({"ps": 2, "worker": 2})
    workers = [tf.train.Server(cluster, "worker", i) for i in range(2)]
    servers.extend(workers)
    path = str(tmp_path / "model.ckpt")
    _train_sync(cluster, workers, True, save_to=path)
    values, shadow = _reference(True)
    for name in "wb":
        np.testing.assert_allclose(
            tf.train.load_variable(path, f"{name}/ExponentialMovingAverage"),
            shadow[name],
            rtol=1e-5,
            atol=1e-6,
        )
    with tf.Graph().as_default():  # an evaluation graph: no ps, no averages of its own
        _, w, b, *_ = _model()
        ema = tf.train.ExponentialMovingAverage(DECAY)
        restore = ema.variables_to_restore()
        assert restore["w/ExponentialMovingAverage"] is w
        with tf.Session() as sess:
            tf.train.Saver(restore).restore(sess, path)
            np.testing.assert_allclose(sess.run(w), shadow["w"], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(sess.run(b), shadow["b"], rtol=1e-5, atol=1e-6)
            assert sess.run(tf.train.get_global_step()) == STEPS


def test_variables_to_average_default_and_errors():
    def build(ema, variables_to_average=None):
        with tf.Graph().as_default():
            gs, w, b, x, y, loss = _model()
            counter = tf.Variable(0, trainable=False, name="counter")
            picks = {"w": w, "b": b, "counter": counter, "w_plus_1": w + 1.0}
            chosen = (
                None if variables_to_average is None else [picks[k] for k in variables_to_average]
            )
            opt = tf.train.SyncReplicasOptimizer(
                tf.train.GradientDescentOptimizer(0.1),
                2,
                variable_averages=ema,
                variables_to_average=chosen,
            )
            train = opt.minimize(loss, global_step=gs)
            return ema, w, b, train

    # default: the trainable variables, shadows created by apply_gradients
    ema, w, b, train = build(tf.train.ExponentialMovingAverage(0.5))
    assert ema.average(w).op.name == "w/ExponentialMovingAverage"
    assert ema.average(b) is not None and not ema.average(b).trainable
    assert train.type == "SyncReplicasPush" and len(train.attrs["averages"]) == 2
    with pytest.raises(TypeError, match="not a tf.Variable"):
        build(tf.train.ExponentialMovingAverage(0.5), ["w", "w_plus_1"])
    with pytest.raises(TypeError, match="must be half, float, or double: counter"):
        build(tf.train.ExponentialMovingAverage(0.5), ["counter"])
    with pytest.raises(ValueError, match="Moving average already computed for: w"):
        build(tf.train.ExponentialMovingAverage(0.5), ["w", "w"])
    with pytest.raises(TypeError, match="must be a tf.train.ExponentialMovingAverage"):
        tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), 2, 2, object())


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.float16])
def test_the_ps_update_op_equals_ema_apply_bit_for_bit(dtype):
    """``ApplyMovingAverage`` (what a ps task runs) and ``ema.apply`` (the graph form)."""
    rng = np.random.RandomState(3)
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        v = tf.Variable(rng.normal(size=[4]).astype(dtype.np), name="v")
        u = tf.Variable(rng.normal(size=[4]).astype(dtype.np), name="u")
        new = tf.placeholder(dtype, [4])
        set_both = tf.group(v.assign(new), u.assign(new))
        graph_form = tf.train.ExponentialMovingAverage(0.97, num_updates=step)
        op_form = tf.train.ExponentialMovingAverage(0.97, num_updates=step, name="ps")
        apply = graph_form.apply([v])
        (update,) = op_form._variable_updates([u])
        assert op_form.average(u).device == u.device
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(u.assign(v))
            sess.run([graph_form.average(v).initializer, op_form.average(u).initializer])
            expected = sess.run(v).astype(np.float64)
            for k in (0, 3, 40, 1000):
                value = rng.normal(size=[4]).astype(dtype.np)
                sess.run(set_both, {new: value})
                sess.run([apply, update], {step: k})
                a, b = sess.run([graph_form.average(v), op_form.average(u)])
                np.testing.assert_array_equal(a, b)
                decay = min(0.97, (1 + k) / (10 + k))
                expected = expected - (1 - decay) * (expected - value)
                tol = 1e-2 if dtype == tf.float16 else 1e-6
                np.testing.assert_allclose(b, expected, rtol=tol, atol=tol)
