"""TF1's distributed API: ``tf.train.Server``, ``replica_device_setter``,
``SyncReplicasOptimizer`` and sessions on a server target.

The end-to-end tests run ``tf1_ps_program.py`` (a classic TF1 ps/worker program) as
real processes on 127.0.0.1: 2 ps tasks and 2 worker tasks, stopped in ``finally``.
The others run servers in this process (real sockets, real handshakes).
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.job_auth import SECRET_ENV
from miniflow.train.variable_store import VariableStore

PROGRAM = str(Path(__file__).with_name("tf1_ps_program.py"))
ROOT = Path(__file__).resolve().parents[2]


def free_ports(n):
    socks = [socket.create_server(("127.0.0.1", 0)) for _ in range(n)]
    try:
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _start(args, env=None):
    return subprocess.Popen(
        [sys.executable, PROGRAM, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def _wait_line(proc, want, timeout=60.0):
    """Reads ``proc``'s stdout until a line equal to ``want`` (the process is alive)."""
    box = {}

    def read():
        for line in proc.stdout:
            if line.strip() == want:
                box["ok"] = True
                return

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(timeout)
    if not box.get("ok"):
        proc.kill()  # its stderr ends only when it does
        raise AssertionError(f"no {want!r} from {proc.args}: {proc.stderr.read()[-2000:]}")


def _result(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def run_cluster(mode, steps=6, opt="adagrad", env=None):
    """2 ps + 2 workers of tf1_ps_program.py; the chief starts (and initializes) first."""
    ports = free_ports(4)
    ps = ",".join(f"localhost:{p}" for p in ports[:2])
    workers = ",".join(f"localhost:{p}" for p in ports[2:])
    common = ["--ps_hosts", ps, "--worker_hosts", workers]
    run = ["--mode", mode, "--steps", str(steps), "--opt", opt]
    procs = []
    try:
        for i in range(2):
            procs.append(_start([*common, "--job_name", "ps", "--task_index", str(i)], env))
        for p in procs:
            _wait_line(p, "serving")
        chief = _start([*common, "--job_name", "worker", "--task_index", "0", *run], env)
        procs.append(chief)
        _wait_line(chief, "ready")
        other = _start([*common, "--job_name", "worker", "--task_index", "1", *run], env)
        procs.append(other)
        return _result(chief), _result(other), workers
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)
            for stream in (p.stdout, p.stderr):
                stream.close()


def single_process(workers, steps=6, opt="adagrad"):
    args = ["--worker_hosts", workers, "--job_name", "single", "--steps", str(steps)]
    return _result(_start([*args, "--opt", opt]))


# -- the acceptance program --------------------------------------------------------------
@pytest.mark.parametrize("opt", ["adagrad", "momentum", "adam"])
def test_sync_two_ps_two_workers_equals_single_process_on_the_double_batch(opt):
    chief, other, workers = run_cluster("sync", opt=opt)
    single = single_process(workers, opt=opt)
    # every worker saw every step, in order; the step counts the aggregated updates
    assert chief["steps"] == other["steps"] == [1, 2, 3, 4, 5, 6]
    # the workers' mean loss on their halves is the single process's on the whole batch
    mean = (np.array(chief["losses"]) + np.array(other["losses"])) / 2
    np.testing.assert_allclose(mean, single["losses"], rtol=1e-6, atol=1e-6)
    assert set(chief["values"]) == set(single["values"])  # variables and slots
    for name, value in single["values"].items():
        np.testing.assert_allclose(chief["values"][name], value, rtol=1e-6, atol=1e-6)
    assert chief["values"]["global_step"] == 6


def test_async_converges_and_global_step_counts_every_worker_step():
    chief, other, _ = run_cluster("async", steps=40, opt="sgd")
    # each worker step is one increment of the shared step, none lost
    taken = len(chief["losses"]) + len(other["losses"])
    # (read after each worker's own update; the chief's final read may race the other)
    assert max(chief["steps"] + other["steps"]) == taken >= 40
    assert chief["steps"] == sorted(chief["steps"]) and other["steps"] == sorted(other["steps"])
    assert chief["final_loss"] < chief["initial_loss"] - 0.05


# -- in-process clusters ---------------------------------------------------------------
@pytest.fixture
def cluster_of():
    servers = []

    def make(jobs, start=("ps",)):
        spec = {job: [f"localhost:{p}" for p in free_ports(n)] for job, n in jobs.items()}
        cluster = tf.train.ClusterSpec(spec)
        for job, n in jobs.items():
            if job in start:
                servers.extend(tf.train.Server(cluster, job, i) for i in range(n))
        return cluster, servers

    try:
        yield make
    finally:
        for s in servers:
            s.stop()


def _worker(cluster, servers, index=0):
    server = tf.train.Server(cluster, "worker", index)
    servers.append(server)
    return server


def test_embedding_lookup_on_a_partitioned_ps_variable_moves_only_touched_rows(cluster_of):
    cluster, servers = cluster_of({"ps": 2, "worker": 1})
    ps = servers[:2]
    server = _worker(cluster, servers)
    with tf.Graph().as_default():
        dev = tf.train.replica_device_setter(worker_device="/job:worker/task:0", cluster=cluster)
        with tf.device(dev):
            gs = tf.train.get_or_create_global_step()
            emb = tf.get_variable(
                "emb",
                [1000, 8],
                partitioner=tf.fixed_size_partitioner(2),
                initializer=tf.ones_initializer(),
            )
            ids = tf.placeholder(tf.int64, [None])
            loss = tf.reduce_sum(tf.nn.embedding_lookup(emb, ids))
            train = tf.train.AdagradOptimizer(0.5).minimize(loss, global_step=gs)
        with tf.Session(server.target) as sess:
            sess.run(tf.global_variables_initializer())
            before = [dict(p.store.stats) for p in ps]
            value, _ = sess.run([loss, train], {ids: [3, 4, 3, 999]})
            after = [dict(p.store.stats) for p in ps]
            assert value == 4 * 8  # all ones
            sent = sum(a["rows_sent"] - b["rows_sent"] for a, b in zip(after, before))
            got = sum(a["rows_received"] - b["rows_received"] for a, b in zip(after, before))
            pulls = sum(a["dense_pulls"] - b["dense_pulls"] for a, b in zip(after, before))
            assert sent == 4  # the looked-up rows only, not 1000
            assert got == 4  # the sparse gradient's rows only
            assert pulls == 0  # no whole-variable read of the table
            # "mod" strategy: ids 3 and 999 live in part 1 rows 1 and 499, id 4 in part 0
            part0, part1 = emb
            p0, p1 = sess.run([part0, part1])
            # Adagrad from accumulator 0.1 with gradient g: 1 - 0.5 * g / sqrt(0.1 + g^2)
            np.testing.assert_allclose(p1[1], 1 - 0.5 * 2 / np.sqrt(4.1), rtol=1e-6)
            np.testing.assert_allclose(p1[499], 1 - 0.5 / np.sqrt(1.1), rtol=1e-6)
            np.testing.assert_allclose(p0[2], 1 - 0.5 / np.sqrt(1.1), rtol=1e-6)
            assert (p0[[0, 1, 3]] == 1).all() and (p1[[0, 2, 498]] == 1).all()
            # the values live on the ps tasks, where replica_device_setter put them
            assert part0.device == "/job:ps/task:1" and part1.device == "/job:ps/task:0"
            np.testing.assert_array_equal(ps[1].store.value("emb/part_0"), p0)
            np.testing.assert_array_equal(ps[0].store.value("emb/part_1"), p1)
            assert ps[0].store.value("global_step") == 1


def test_plain_session_on_a_server_shares_the_ps_state(cluster_of):
    cluster, servers = cluster_of({"ps": 1, "worker": 1})
    server = _worker(cluster, servers)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            v = tf.Variable([1.0, 2.0], name="v")
            bump = v.assign_add([10.0, 10.0])
        with tf.Session(server.target) as a:
            a.run(v.initializer)
            a.run(bump)
        with tf.Session(server.target) as b:  # a new session: same state, on the ps
            np.testing.assert_array_equal(b.run(v), [11.0, 12.0])
            assert b.run(tf.is_variable_initialized(v))
        with tf.Session() as local:  # a local session has its own, uninitialized state
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
                local.run(v)


def test_uninitialized_ps_variable_raises_failed_precondition(cluster_of):
    cluster, servers = cluster_of({"ps": 1, "worker": 1})
    server = _worker(cluster, servers)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            v = tf.Variable(3.0, name="never_initialized")
        with tf.Session(server.target) as sess:
            assert not sess.run(tf.is_variable_initialized(v))
            with pytest.raises(tf.errors.FailedPreconditionError, match="never_initialized"):
                sess.run(v + 1)
            names = sess.run(tf.report_uninitialized_variables())
            assert list(names) == [b"never_initialized"]


# -- bad input, security ---------------------------------------------------------------
def test_unknown_job_and_task_out_of_range_raise_tf_errors():
    cluster = tf.train.ClusterSpec({"ps": ["localhost:1"], "worker": ["localhost:2"]})
    # TF 2.21: InternalError 'Job "nope" was not defined in cluster'
    with pytest.raises(tf.errors.InternalError, match='Job "nope" was not defined in cluster'):
        tf.train.Server(cluster, job_name="nope", task_index=0)
    # TF 2.21: InternalError 'Task 3 was not defined in job "worker"'
    with pytest.raises(tf.errors.InternalError, match='Task 3 was not defined in job "worker"'):
        tf.train.Server(cluster, job_name="worker", task_index=3)


def test_unreachable_ps_is_unavailable_within_the_timeout(cluster_of):
    cluster, servers = cluster_of({"ps": 1, "worker": 1}, start=())  # no ps is started
    server = _worker(cluster, servers)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            v = tf.Variable(1.0)
        config = tf.ConfigProto(operation_timeout_in_ms=1500)
        with tf.Session(server.target, config=config) as sess:
            t0 = time.monotonic()
            with pytest.raises(
                tf.errors.UnavailableError, match=r"/job:ps/task:0 at localhost:\d+"
            ):
                sess.run(v.initializer)
            assert time.monotonic() - t0 < 30


def test_wrong_secret_is_refused(cluster_of, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "11" * 32)
    cluster, servers = cluster_of({"ps": 1, "worker": 1})  # the ps knows secret "11..."
    monkeypatch.setenv(SECRET_ENV, "22" * 32)
    server = _worker(cluster, servers)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            v = tf.Variable(1.0)
        with tf.Session(server.target) as sess:
            with pytest.raises(tf.errors.UnauthenticatedError, match="wrong job secret"):
                sess.run(v.initializer)
    assert servers[0].store.value(v.op.name) is None  # nothing was written


def test_worker_of_another_cluster_is_refused(cluster_of):
    cluster, servers = cluster_of({"ps": 1, "worker": 1})
    other = tf.train.ClusterSpec(
        {"ps": cluster.job_tasks("ps"), "worker": [f"localhost:{free_ports(1)[0]}"]}
    )
    stranger = tf.train.Server(other, "worker", 0)
    servers.append(stranger)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=other)):
            v = tf.Variable(1.0)
        with tf.Session(stranger.target) as sess:
            with pytest.raises(tf.errors.UnauthenticatedError, match="belongs to job"):
                sess.run(v.initializer)


def test_non_loopback_cluster_needs_a_secret(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    cluster = tf.train.ClusterSpec({"ps": ["10.1.2.3:2222"], "worker": ["localhost:2223"]})
    with pytest.raises(ValueError, match=f"not loopback: set {SECRET_ENV}"):
        tf.train.Server(cluster, "worker", 0, start=False)


def test_a_ps_runs_only_variable_ops_and_keeps_serving(cluster_of):
    from miniflow.core import job_auth, wire

    cluster, servers = cluster_of({"ps": 1})
    ps = servers[0]
    host, port = "127.0.0.1", int(cluster.task_address("ps", 0).split(":")[1])
    with socket.create_connection((host, port), timeout=10) as sock:
        job_auth.greet(sock, ps.identity, f"{host}:{port}")
        stamp = {"job": ps.identity.job_id}
        bad = {**stamp, "op": "run", "type": "PyFunc", "var": "v", "dtype": "float32"}
        wire.send_frame(sock, bad)
        reply, _ = wire.recv_frame(sock)
        assert reply["ok"] is False and reply["kind"] == "PermissionDeniedError"
        assert "runs only variable ops, not 'PyFunc'" in reply["error"]
        wire.send_frame(sock, {**stamp, "op": "stats"})  # the same connection still works
        reply, _ = wire.recv_frame(sock)
        assert reply["ok"] is True and reply["stats"]["requests"] == 2


def test_sync_replicas_optimizer_needs_a_global_step_and_a_cluster_session():
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), 2)
        with pytest.raises(ValueError, match="Global step is required"):
            opt.minimize(v * v)
        step = tf.train.get_or_create_global_step()
        train = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), 2).minimize(
            v * v, global_step=step
        )
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.UnimplementedError, match="tf.train.Server target"):
                sess.run(train)


# -- the sync aggregation itself (a store with real kernels, no sockets) ------------------
def _push(store, step, grad, n=2):
    spec = {"type": "ApplyGradientDescent", "var": "w", "shape": [2], "dtype": "float32"}
    spec.update(attrs={}, ninputs=2, grads=[1], sparse=False)
    header = {"op": "sync", "step": step, "n": n, "updates": [spec], "bump": "gs", "timeout": 10}
    lr = np.asarray(0.5, np.float32)
    return store.handle(header, {"u0_0": lr, "u0_1": np.asarray(grad, np.float32)})[0]


def test_sync_store_averages_applies_once_and_drops_stale_gradients():
    store = VariableStore()
    assign = {"op": "run", "type": "Assign", "shape": [2], "dtype": "float32", "ninputs": 1}
    store.handle({**assign, "var": "w"}, {"in0": np.asarray([1.0, 1.0], np.float32)})
    store.handle(
        {**assign, "var": "gs", "shape": [], "dtype": "int64"}, {"in0": np.asarray(0, np.int64)}
    )
    replies = {}
    t = threading.Thread(target=lambda: replies.setdefault("a", _push(store, 0, [2.0, 0.0])))
    t.start()
    time.sleep(0.2)
    assert store.value("gs") == 0  # one push of two: nothing applied, the pusher waits
    replies["b"] = _push(store, 0, [0.0, 4.0])
    t.join(10)
    assert replies["a"]["ok"] and replies["b"]["ok"]
    # once, with the average (1, 2): w = 1 - 0.5 * (1, 2)
    np.testing.assert_allclose(store.value("w"), [0.5, 0.0])
    assert store.value("gs") == 1
    stale = _push(store, 0, [100.0, 100.0])  # a late gradient of step 0: dropped
    assert stale["ok"] and stale["stale"] is True
    np.testing.assert_allclose(store.value("w"), [0.5, 0.0])
    assert store.stats["stale_pushes"] == 1 and store.stats["sync_steps"] == 1


def test_sync_store_times_out_when_replicas_are_missing():
    store = VariableStore()
    assign = {"op": "run", "type": "Assign", "shape": [2], "dtype": "float32", "ninputs": 1}
    store.handle({**assign, "var": "w"}, {"in0": np.asarray([1.0, 1.0], np.float32)})
    spec = {"type": "ApplyGradientDescent", "var": "w", "shape": [2], "dtype": "float32"}
    spec.update(attrs={}, ninputs=2, grads=[1], sparse=False)
    header = {"op": "sync", "step": 0, "n": 2, "updates": [spec], "timeout": 0.3}
    arrays = {"u0_0": np.asarray(0.5, np.float32), "u0_1": np.ones(2, np.float32)}
    reply, _ = store.handle(header, arrays)
    assert reply["ok"] is False and reply["kind"] == "DeadlineExceededError"
    assert "waited for 2 replicas, 1 arrived" in reply["error"]


def test_non_chief_waits_until_the_chief_initialized(cluster_of):
    cluster, servers = cluster_of({"ps": 1, "worker": 2})
    chief, other = _worker(cluster, servers, 0), _worker(cluster, servers, 1)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            v = tf.Variable([5.0, 6.0], name="shared")
        manager = tf.train.SessionManager(
            ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.2
        )
        got = {}

        def non_chief():
            sess = manager.wait_for_session(other.target, max_wait_secs=30)
            got["value"], got["at"] = sess.run(v), time.monotonic()
            sess.close()

        t = threading.Thread(target=non_chief)
        t.start()
        time.sleep(0.6)
        assert "value" not in got  # still waiting: nothing is initialized
        with tf.Session(chief.target) as sess:
            initialized_at = time.monotonic()
            sess.run(v.initializer)
        t.join(30)
        np.testing.assert_array_equal(got["value"], [5.0, 6.0])
        assert got["at"] > initialized_at


def test_session_target_must_be_a_server_of_this_process():
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.UnimplementedError, match="not a tf.train.Server"):
            tf.Session("grpc://localhost:1")


def test_an_oversized_frame_before_authentication_is_refused(cluster_of):
    import struct

    from miniflow.core import wire

    cluster, servers = cluster_of({"ps": 1})
    port = int(cluster.task_address("ps", 0).split(":")[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        hello, _ = wire.recv_frame(sock, max_body=0, max_header=4096)
        assert hello["op"] == "hello" and hello["job"] == servers[0].identity.job_id
        sock.sendall(struct.pack("<4sIQ", b"MFPS", 16, 1 << 30))  # "a 1 GiB body follows"
        reply, _ = wire.recv_frame(sock, max_body=0, max_header=4096)
        assert reply["ok"] is False and "exceeds the 0-byte limit" in reply["error"]
    # the task still serves others
    from miniflow.core import job_auth

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        job_auth.greet(sock, servers[0].identity, f"127.0.0.1:{port}")
        wire.send_frame(sock, {"job": servers[0].identity.job_id, "op": "stats"})
        assert wire.recv_frame(sock)[0]["ok"] is True


def test_checkpoints_save_and_restore_ps_variables(cluster_of, tmp_path):
    cluster, servers = cluster_of({"ps": 1, "worker": 1})
    server = _worker(cluster, servers)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            gs = tf.train.get_or_create_global_step()
            v = tf.get_variable("v", [3], initializer=tf.ones_initializer())
            train = tf.train.GradientDescentOptimizer(0.1).minimize(
                tf.reduce_sum(v * v), global_step=gs
            )
        hooks = [tf.train.StopAtStepHook(last_step=3)]
        with tf.train.MonitoredTrainingSession(
            master=server.target, checkpoint_dir=str(tmp_path), hooks=hooks
        ) as sess:
            while not sess.should_stop():
                sess.run(train)
        # three steps of v -= 0.1 * 2v from 1: 0.8 ** 3, written from the ps's values
        np.testing.assert_allclose(tf.train.load_variable(str(tmp_path), "v"), [0.512] * 3)
        assert tf.train.load_variable(str(tmp_path), "global_step") == 3
        with tf.Session(server.target) as sess:
            sess.run(v.assign([9.0, 9.0, 9.0]))
            tf.train.Saver().restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            np.testing.assert_allclose(servers[0].store.value("v"), [0.512] * 3, rtol=1e-6)
