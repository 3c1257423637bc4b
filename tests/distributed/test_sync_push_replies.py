"""A sync push goes to every ps task at once; when one task's answer is an error, the
other tasks' replies must still be read, or the next request on those connections
reads a stale reply (issue 17: a variable read got the sync step's answer).

Servers run in this process on 127.0.0.1 (real sockets and handshakes). Values by hand:
GradientDescent with rate 0.5 and the constant gradients ``CA``/``CB``, so a step moves
``a`` by ``-0.5 * CA`` and ``b`` by ``-0.5 * CB``; nothing reads a variable before the
push, so each fault below hits the push itself.
"""

import socket
import threading

import numpy as np
import pytest

import miniflow as tf
from tests.distributed.test_tf1_distributed import cluster_of, free_ports  # noqa: F401

CA, CB = np.array([1.0, 2.0], np.float32), np.array([4.0, 6.0], np.float32)


def _build():
    """``a`` and the global step on ps task 0 (whose reply is read first), ``b`` on 1."""
    with tf.device("/job:ps/task:0"):
        gs = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
        a = tf.Variable([10.0, 10.0], name="a")
    with tf.device("/job:ps/task:1"):
        b = tf.Variable([20.0, 20.0], name="b")
    opt = tf.train.SyncReplicasOptimizer(
        tf.train.GradientDescentOptimizer(0.5), 1, total_num_replicas=1
    )
    train = opt.apply_gradients([(tf.constant(CA), a), (tf.constant(CB), b)], global_step=gs)
    return gs, a, b, train


def _cluster(cluster_of):  # noqa: F811
    cluster, servers = cluster_of({"ps": 2, "worker": 1})
    worker = tf.train.Server(cluster, "worker", 0)
    servers.append(worker)
    return servers[0], servers[1], worker


def test_an_error_from_one_task_leaves_no_unread_reply_on_the_others(cluster_of):  # noqa: F811
    ps0, ps1, worker = _cluster(cluster_of)
    with tf.Graph().as_default():
        gs, a, b, train = _build()
        with tf.Session(worker.target) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            # ps0 fails the next step (the global step cannot be bumped); ps1 applies it
            ps0.store.slot("global_step").value = None
            with pytest.raises(tf.errors.FailedPreconditionError, match="global_step"):
                sess.run(train)
            # ps1's reply to the push was read: this read gets its own answer
            np.testing.assert_allclose(sess.run(b), 20.0 - 1.0 * CB)
            np.testing.assert_allclose(ps1.store.value("b"), 20.0 - 1.0 * CB)
            np.testing.assert_allclose(sess.run(a), 10.0 - 1.0 * CA)
            sess.run(gs.initializer)
            for _ in range(3):  # the cluster goes on after the error
                sess.run(train)
            # the first push after the error was for the failed step: dropped as stale
            # on both tasks (TF's token semantics), the next two applied
            np.testing.assert_allclose(sess.run(b), 20.0 - 2.0 * CB)
            np.testing.assert_allclose(sess.run(a), 10.0 - 2.0 * CA)
            assert sess.run(gs) == 2
    assert ps1.store.stats["stale_pushes"] == 1


def test_a_broken_connection_fails_the_push_and_the_others_stay_usable(cluster_of):  # noqa: F811
    ps0, ps1, worker = _cluster(cluster_of)
    with tf.Graph().as_default():
        gs, a, b, train = _build()
        with tf.Session(worker.target) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)  # both connections are open now
            # the connection to ps1 breaks: the push is sent to ps0, then fails on ps1
            sess._remote._clients[("ps", 1)]._sock.shutdown(socket.SHUT_RDWR)
            with pytest.raises(tf.errors.UnavailableError, match="/job:ps/task:1"):
                sess.run(train)
            # ps0 applied the step and its reply was read: these reads get their own
            assert sess.run(gs) == 2
            np.testing.assert_allclose(sess.run(a), 10.0 - 1.0 * CA)
            np.testing.assert_allclose(sess.run(b), 20.0 - 0.5 * CB)  # a new connection


def test_an_interrupted_reply_closes_the_connection(cluster_of, monkeypatch):  # noqa: F811
    """A reply cut off mid-read (Ctrl-C) leaves the stream at an unknown position: the
    connection is closed, and the next request opens a new one and gets its own reply."""
    from miniflow.core import wire
    from miniflow.train import remote_session

    ps0, ps1, worker = _cluster(cluster_of)
    with tf.Graph().as_default():
        gs, a, b, train = _build()
        with tf.Session(worker.target) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)  # the next push reads no variable first (TF's token)
            real, fired = wire.recv_frame, []

            def interrupted(sock, **kw):  # the worker's first read only; servers as usual
                if fired or threading.current_thread() is not threading.main_thread():
                    return real(sock, **kw)
                fired.append(True)
                raise KeyboardInterrupt

            monkeypatch.setattr(remote_session.wire, "recv_frame", interrupted)
            with pytest.raises(KeyboardInterrupt):
                sess.run(train)
            # ps0's reply was cut off, ps1's never read: both connections are closed
            assert all(c._sock is None for c in sess._remote._clients.values())
            # both tasks applied the step; new connections get their own replies
            np.testing.assert_allclose(sess.run(a), 10.0 - 1.0 * CA)
            np.testing.assert_allclose(sess.run(b), 20.0 - 1.0 * CB)
            assert sess.run(gs) == 2
