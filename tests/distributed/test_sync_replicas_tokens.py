"""SyncReplicasOptimizer beyond the plain case: backup workers (``replicas_to_aggregate``
below ``total_num_replicas``: the first gradients of a step win, a late one is dropped
and its worker goes on at the current step, as TF's conditional accumulators and token
queue do), the chief queue runner / init tokens API and the hook (TF's errors).

Servers run in this process on 127.0.0.1 (real sockets and handshakes), one session per
worker task; values are computed by hand (GradientDescent with rate 1 on
``sum(w * c)``: the gradient is the worker's ``c``).
"""

import threading

import numpy as np
import pytest

import miniflow as tf
from tests.distributed.test_tf1_distributed import cluster_of, free_ports  # noqa: F401


def _build(cluster, replicas, total):
    with tf.device(tf.train.replica_device_setter(cluster=cluster)):
        gs = tf.train.get_or_create_global_step()
        w = tf.Variable([10.0, 10.0], name="w")
        c = tf.placeholder(tf.float32, [2], name="c")
        opt = tf.train.SyncReplicasOptimizer(
            tf.train.GradientDescentOptimizer(1.0), replicas, total_num_replicas=total
        )
        train = opt.minimize(tf.reduce_sum(w * c), global_step=gs)
    return gs, w, c, train, opt


def test_backup_workers_first_gradients_win_late_ones_are_dropped(cluster_of):  # noqa: F811
    cluster, servers = cluster_of({"ps": 1, "worker": 3})
    workers = [tf.train.Server(cluster, "worker", i) for i in range(3)]
    servers.extend(workers)
    grads = {"A": [1.0, 0.0], "B": [0.0, 2.0], "C": [4.0, 4.0]}
    with tf.Graph().as_default():
        gs, w, c, train, _ = _build(cluster, replicas=2, total=3)
        sessions = dict(zip("ABC", [tf.Session(s.target) for s in workers], strict=True))
        try:
            sessions["A"].run(tf.global_variables_initializer())
            deadline = tf.RunOptions(timeout_in_ms=20000)  # a waiting push fails, not hangs

            def step(names):
                errors = []

                def run(n):
                    try:
                        sessions[n].run(train, {c: grads[n]}, options=deadline)
                    except Exception as e:  # noqa: BLE001  reported below
                        errors.append(e)

                threads = [threading.Thread(target=run, args=(n,)) for n in names]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(30)
                assert not errors and not any(t.is_alive() for t in threads)
                return sessions["A"].run([gs, w])

            # step 0: A and B (the first two) are averaged and applied once
            g, value = step("AB")
            assert g == 1
            np.testing.assert_allclose(value, [10 - 0.5, 10 - 1.0])
            # step 1: A and C win; B, still at step 1 when it pushes afterwards, is dropped
            g, value = step("AC")
            assert g == 2
            np.testing.assert_allclose(value, [9.5 - 2.5, 9.0 - 2.0])
            g, value = step("B")  # returns at once (no third gradient is waited for)
            assert g == 2
            np.testing.assert_allclose(value, [7.0, 7.0])
            # B goes on at the current step: B and C make step 2
            g, value = step("BC")
            assert g == 3
            np.testing.assert_allclose(value, [7.0 - 2.0, 7.0 - 3.0])
        finally:
            for s in sessions.values():
                s.close()
    stats = servers[0].store.stats  # the ps task's counters
    assert stats["stale_pushes"] == 1 and stats["sync_steps"] == 3


def test_chief_queue_runner_tokens_and_hook_follow_tfs_api():
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        v = tf.Variable(1.0)
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), 2, 3)
        # TF's messages before apply_gradients
        with pytest.raises(ValueError, match=r"Should be called after apply_gradients\(\)"):
            opt.get_chief_queue_runner()
        with pytest.raises(ValueError, match="get_init_tokens_op.. should be called after"):
            opt.get_init_tokens_op()
        with pytest.raises(ValueError, match="apply_gradient should be called before using"):
            opt.make_session_run_hook(True).begin()
        opt.minimize(v * v, global_step=gs)
        runner = opt.get_chief_queue_runner()
        assert runner.create_threads(None, start=True) == []  # nothing to run: ps aggregates
        assert opt.get_init_tokens_op().type == "NoOp"
        assert opt.get_init_tokens_op(0).type == "NoOp"
        opt.make_session_run_hook(True).begin()
        opt.make_session_run_hook(False, num_tokens=0).begin()
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        v = tf.Variable(1.0)
        # 3 gradients per step from 2 workers: TF needs at least 1 initial token
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), 3, 2)
        opt.minimize(v * v, global_step=gs)
        with pytest.raises(ValueError, match=r"Too few tokens .* 0 \(given\) vs 1 \(needed\)"):
            opt.get_init_tokens_op(0)
