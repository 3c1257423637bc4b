"""A classic TF1 between-graph-replication program (ps and worker tasks), run by the
tests as separate processes. It uses only TF1's API (``import miniflow as tf``).

Data: example ``k`` of a fixed generated set. In step ``s`` worker ``i`` of ``W``
trains on examples ``[(s*W + i)*B, (s*W + i + 1)*B)``, so ``W`` sync workers with batch
``B`` see exactly what one process sees with batch ``W*B`` (``--job_name single``).
Prints one JSON line: per-step losses (chief/single) and the final variables.
"""

import argparse
import json
import sys
import time

import numpy as np

import miniflow as tf

V, D, F = 12, 3, 2  # embedding rows and width, dense features


def data(n=2000):
    rng = np.random.RandomState(7)
    ids = rng.randint(0, V, size=n).astype(np.int64)
    feats = rng.normal(size=(n, F)).astype(np.float32)
    labels = (rng.uniform(size=(n, 1)) < 0.5).astype(np.float32)
    return ids, feats, labels


def build(opt_name, sync, replicas):
    global_step = tf.train.get_or_create_global_step()
    init = tf.random_normal_initializer(stddev=0.3, seed=3)
    emb = tf.get_variable("emb", [V, D], initializer=init, partitioner=tf.fixed_size_partitioner(2))
    w = tf.get_variable("w", [D + F, 1], initializer=tf.random_normal_initializer(seed=4))
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    ids = tf.placeholder(tf.int64, [None], name="ids")
    feats = tf.placeholder(tf.float32, [None, F], name="feats")
    labels = tf.placeholder(tf.float32, [None, 1], name="labels")
    x = tf.concat([tf.nn.embedding_lookup(emb, ids), feats], 1)
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    opt = {
        "adagrad": lambda: tf.train.AdagradOptimizer(0.1),
        "sgd": lambda: tf.train.GradientDescentOptimizer(0.5),
        "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
        "adam": lambda: tf.train.AdamOptimizer(0.05),
    }[opt_name]()
    if sync:
        opt = tf.train.SyncReplicasOptimizer(
            opt, replicas_to_aggregate=replicas, total_num_replicas=replicas
        )
    train_op = opt.minimize(loss, global_step=global_step)
    return global_step, (ids, feats, labels), loss, train_op, opt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ps_hosts", default="")
    p.add_argument("--worker_hosts", default="")
    p.add_argument("--job_name", required=True)
    p.add_argument("--task_index", type=int, default=0)
    p.add_argument("--mode", choices=["sync", "async"], default="sync")
    p.add_argument("--opt", default="adagrad")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--batch", type=int, default=4)
    a = p.parse_args()

    if a.job_name == "single":  # the reference: one process, batch W*B
        workers = len(a.worker_hosts.split(","))
        gs, (ids, feats, labels), loss, train_op, _ = build(a.opt, False, 1)
        X = data()
        big = workers * a.batch
        losses = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            started = time.perf_counter()
            for s in range(a.steps):
                sl = slice(s * big, (s + 1) * big)
                feed = {ids: X[0][sl], feats: X[1][sl], labels: X[2][sl]}
                losses.append(float(sess.run([train_op, loss], feed)[1]))
            seconds = time.perf_counter() - started
            values = {v.op.name: sess.run(v).tolist() for v in tf.global_variables()}
        print(json.dumps({"losses": losses, "values": values, "seconds": seconds}))
        return

    ps_hosts, worker_hosts = a.ps_hosts.split(","), a.worker_hosts.split(",")
    cluster = tf.train.ClusterSpec({"ps": ps_hosts, "worker": worker_hosts})
    server = tf.train.Server(cluster, job_name=a.job_name, task_index=a.task_index)
    if a.job_name == "ps":
        print("serving", flush=True)
        server.join()
        return

    W, i = len(worker_hosts), a.task_index
    is_chief = i == 0
    device = tf.train.replica_device_setter(worker_device=f"/job:worker/task:{i}", cluster=cluster)
    with tf.device(device):
        gs, (ids, feats, labels), loss, train_op, opt = build(a.opt, a.mode == "sync", W)
    X = data()
    hooks = [tf.train.StopAtStepHook(last_step=a.steps)]
    if a.mode == "sync":
        hooks.append(opt.make_session_run_hook(is_chief))
    losses, steps_seen = [], []
    with tf.train.MonitoredTrainingSession(
        master=server.target, is_chief=is_chief, hooks=hooks
    ) as sess:
        print("ready", flush=True)
        evaluate = {ids: X[0][:400], feats: X[1][:400], labels: X[2][:400]}
        initial = float(sess.run(loss, evaluate)) if is_chief else None
        started = time.perf_counter()
        while not sess.should_stop():
            s = sess.run(gs) if a.mode == "sync" else len(steps_seen) * W + i
            lo = (s * W + i) * a.batch if a.mode == "sync" else s * a.batch
            sl = slice(lo, lo + a.batch)
            feed = {ids: X[0][sl], feats: X[1][sl], labels: X[2][sl]}
            _, value, after = sess.run([train_op, loss, gs], feed)
            losses.append(float(value))
            steps_seen.append(int(after))
        seconds = time.perf_counter() - started
    values, final = {}, None
    if is_chief:  # the state lives on the ps tasks: a new session sees it
        with tf.Session(server.target) as check:
            values = {v.op.name: check.run(v).tolist() for v in tf.global_variables()}
            final = float(check.run(loss, evaluate))
    out = {"losses": losses, "steps": steps_seen, "values": values, "seconds": seconds}
    print(json.dumps({**out, "initial_loss": initial, "final_loss": final}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
