"""One (workload, framework) measurement per process, printed as one JSON line.

Run by bench_core.py; each framework gets a fresh interpreter so imports, thread pools
and allocator state of one cannot slow another.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

LR_W1 = 0.01


# ----------------------------------------------------------------------------- data
def w1_data(n):
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, n).astype(np.float32)
    ys = (2 * xs + 10 + rng.normal(0, 0.1, n)).astype(np.float32)
    return xs, ys


def mlp_data(workload):
    if workload == "W2":
        from sklearn.datasets import load_digits

        d = load_digits()
        x = (d.data / 16.0).astype(np.float32)
        return x, d.target.astype(np.int64), 128, 32, 0.1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 1024)).astype(np.float32)
    w_true = rng.standard_normal((1024, 10)).astype(np.float32)
    return x, np.argmax(x @ w_true, 1).astype(np.int64), 1024, 4096, 0.1


def mlp_init(n_in, hidden, n_out):
    rng = np.random.default_rng(1)
    w1 = (rng.standard_normal((n_in, hidden)) * np.sqrt(2 / n_in)).astype(np.float32)
    w2 = (rng.standard_normal((hidden, n_out)) * np.sqrt(1 / hidden)).astype(np.float32)
    return w1, np.zeros(hidden, np.float32), w2, np.zeros(n_out, np.float32)


def batches(x, y, batch, steps):
    rng = np.random.default_rng(2)
    n = len(x)
    if batch >= n:
        return [(x, y)] * steps
    idx = rng.integers(0, n - batch, steps)
    return [(x[i : i + batch], y[i : i + batch]) for i in idx]


def mlp_flops(n_in, hidden, n_out, batch):
    fwd = 2 * batch * (n_in * hidden + hidden * n_out)
    return 3 * fwd  # forward + two backward matmuls per layer


# ----------------------------------------------------------------------------- W1
def w1_numpy(xs, ys):
    """Hand-derived gradients on NumPy arrays (a minibatch of one), updated in place."""
    w, b = np.zeros(1, np.float32), np.zeros(1, np.float32)
    lr2 = np.float32(2 * LR_W1)
    xs, ys = xs.reshape(-1, 1), ys.reshape(-1, 1)
    losses = []
    t = time.perf_counter()
    for x, y in zip(xs, ys):
        err = w * x + b - y
        losses.append(np.square(err))
        w -= lr2 * np.mean(err * x)
        b -= lr2 * np.mean(err)
    return time.perf_counter() - t, [float(v[0]) for v in losses], (w[0], b[0])


def w1_numpy_scalar(xs, ys):
    """The same on NumPy float32 scalars: the floor of Python-level work per step."""
    w, b = np.float32(0), np.float32(0)
    lr = np.float32(LR_W1)
    losses = []
    t = time.perf_counter()
    for x, y in zip(xs, ys):
        err = w * x + b - y
        losses.append(err * err)
        w -= lr * 2 * err * x
        b -= lr * 2 * err
    return time.perf_counter() - t, losses, (w, b)


def _tf1_style(tf, xs, ys):
    x = tf.placeholder(tf.float32, name="x")
    y = tf.placeholder(tf.float32, name="y")
    w = tf.Variable(0.0, name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.square(y - (w * x + b))
    train = tf.train.GradientDescentOptimizer(LR_W1).minimize(loss)
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t = time.perf_counter()
        for xv, yv in zip(xs, ys):
            _, lv = sess.run([train, loss], feed_dict={x: xv, y: yv})
            losses.append(lv)
        dt = time.perf_counter() - t
        params = sess.run([w, b])
    return dt, losses, params


def w1_miniflow_graph(xs, ys):
    import miniflow as tf

    return _tf1_style(tf, xs, ys)


def w1_tf1_graph(xs, ys):
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    return _tf1_style(tf, xs, ys)


def _eager_style(tf, xs, ys, compile_fn=None, optimizer=None):
    """The eager step as users write it: a tape, then the optimizer's update (as
    PyTorch's optim.SGD) or, without one, assign_sub by hand."""
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.square(y - (w * x + b))
        gw, gb = tape.gradient(loss, [w, b])
        if optimizer is not None:
            optimizer.apply_gradients(zip([gw, gb], [w, b]))
        else:
            w.assign_sub(LR_W1 * gw)
            b.assign_sub(LR_W1 * gb)
        return loss

    if compile_fn is not None:
        step = compile_fn(step)
    losses = []
    t = time.perf_counter()
    for xv, yv in zip(xs, ys):
        losses.append(float(step(xv, yv)))
    dt = time.perf_counter() - t
    return dt, losses, (float(w.numpy()), float(b.numpy()))


def w1_miniflow_eager(xs, ys):
    import miniflow as tf

    tf.enable_eager_execution()
    return _eager_style(tf, xs, ys, optimizer=tf.train.GradientDescentOptimizer(LR_W1))


def w1_tf2_eager(xs, ys):
    import tensorflow as tf

    return _eager_style(tf, xs, ys)


def w1_tf_function(xs, ys):
    import tensorflow as tf

    return _eager_style(
        tf, [tf.constant(x) for x in xs], [tf.constant(y) for y in ys], compile_fn=tf.function
    )


def w1_torch_eager(xs, ys):
    import torch

    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=LR_W1)
    xt, yt = torch.from_numpy(xs), torch.from_numpy(ys)
    losses = []
    t = time.perf_counter()
    for i in range(len(xs)):
        opt.zero_grad()
        loss = (yt[i] - (w * xt[i] + b)) ** 2
        loss.backward()
        opt.step()
        losses.append(loss.item())
    dt = time.perf_counter() - t
    return dt, losses, (w.item(), b.item())


def w1_jax_jit(xs, ys):
    import jax
    import jax.numpy as jnp

    def loss_fn(p, x, y):
        return jnp.square(y - (p[0] * x + p[1]))

    @jax.jit
    def step(p, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        return p - LR_W1 * g, loss

    p = jnp.zeros(2, jnp.float32)
    step(p, xs[0], ys[0])[0].block_until_ready()
    losses = []
    t = time.perf_counter()
    for xv, yv in zip(xs, ys):
        p, loss = step(p, xv, yv)
        losses.append(float(loss))  # the loss on the host each step, as the others return it
    dt = time.perf_counter() - t
    return dt, losses, tuple(np.asarray(p))


# ----------------------------------------------------------------------------- W2/W3
def mlp_numpy(x, y, hidden, batch, steps, lr):
    w1, b1, w2, b2 = mlp_init(x.shape[1], hidden, 10)
    losses = []
    data = batches(x, y, batch, steps)
    t = time.perf_counter()
    for xb, yb in data:
        h = xb @ w1 + b1
        a = np.maximum(h, 0)
        logits = a @ w2 + b2
        m = logits.max(1, keepdims=True)
        e = np.exp(logits - m)
        s = e.sum(1, keepdims=True)
        n = len(yb)
        losses.append(float(np.mean(np.log(s[:, 0]) + m[:, 0] - logits[np.arange(n), yb])))
        d = e / s
        d[np.arange(n), yb] -= 1
        d /= n
        gw2 = a.T @ d
        gb2 = d.sum(0)
        da = d @ w2.T
        da[h <= 0] = 0
        gw1 = xb.T @ da
        gb1 = da.sum(0)
        w1 -= lr * gw1
        b1 -= lr * gb1
        w2 -= lr * gw2
        b2 -= lr * gb2
    dt = time.perf_counter() - t
    pred = np.argmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2, 1)
    return dt, losses, float(np.mean(pred == y))


def _mlp_tf1(tf, x, y, hidden, batch, steps, lr):
    init = mlp_init(x.shape[1], hidden, 10)
    xp = tf.placeholder(tf.float32, [None, x.shape[1]])
    yp = tf.placeholder(tf.int64, [None])
    w1, b1, w2, b2 = (tf.Variable(v) for v in init)
    logits = tf.matmul(tf.nn.relu(tf.matmul(xp, w1) + b1), w2) + b2
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yp, logits=logits))
    train = tf.train.GradientDescentOptimizer(lr).minimize(loss)
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), yp), tf.float32))
    data = batches(x, y, batch, steps)
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t = time.perf_counter()
        for xb, yb in data:
            _, lv = sess.run([train, loss], {xp: xb, yp: yb})
            losses.append(float(lv))
        dt = time.perf_counter() - t
        accuracy = sess.run(acc, {xp: x, yp: y})
    return dt, losses, float(accuracy)


def mlp_miniflow_graph(*a):
    import miniflow as tf

    return _mlp_tf1(tf, *a)


def mlp_tf1_graph(*a):
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    return _mlp_tf1(tf, *a)


def mlp_torch_eager(x, y, hidden, batch, steps, lr):
    import torch

    params = [torch.tensor(v, requires_grad=True) for v in mlp_init(x.shape[1], hidden, 10)]
    w1, b1, w2, b2 = params
    opt = torch.optim.SGD(params, lr=lr)
    data = [(torch.from_numpy(xb), torch.from_numpy(yb)) for xb, yb in batches(x, y, batch, steps)]
    losses = []
    t = time.perf_counter()
    for xb, yb in data:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.relu(xb @ w1 + b1) @ w2 + b2, yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    dt = time.perf_counter() - t
    with torch.no_grad():
        xt = torch.from_numpy(x)
        pred = torch.argmax(torch.relu(xt @ w1 + b1) @ w2 + b2, 1).numpy()
    return dt, losses, float(np.mean(pred == y))


def mlp_jax_jit(x, y, hidden, batch, steps, lr):
    import jax
    import jax.numpy as jnp

    def loss_fn(p, xb, yb):
        w1, b1, w2, b2 = p
        logits = jnp.maximum(xb @ w1 + b1, 0) @ w2 + b2
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], 1))

    @jax.jit
    def step(p, xb, yb):
        loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        return [pi - lr * gi for pi, gi in zip(p, g)], loss

    p = [jnp.asarray(v) for v in mlp_init(x.shape[1], hidden, 10)]
    data = batches(x, y, batch, steps)
    step(p, *data[0])[1].block_until_ready()
    losses = []
    t = time.perf_counter()
    for xb, yb in data:
        p, loss = step(p, xb, yb)
        losses.append(float(loss))
    dt = time.perf_counter() - t
    w1, b1, w2, b2 = p
    pred = np.asarray(jnp.argmax(jnp.maximum(x @ w1 + b1, 0) @ w2 + b2, 1))
    return dt, losses, float(np.mean(pred == y))


# ----------------------------------------------------------------------------- W4
def w4_ids(rows, steps):
    rng = np.random.default_rng(3)
    return [rng.integers(0, rows, 100) for _ in range(steps)]


def w4_numpy(rows, steps):
    rng = np.random.default_rng(4)
    emb = (rng.standard_normal((rows, 16)) * 0.01).astype(np.float32)
    acc = np.full((rows, 16), 0.1, np.float32)
    lr = np.float32(0.1)
    losses = []
    data = w4_ids(rows, steps)
    t = time.perf_counter()
    for ids in data:
        e = emb[ids]
        losses.append(float(np.sum(e * e)))
        uniq, inv = np.unique(ids, return_inverse=True)
        g = np.zeros((len(uniq), 16), np.float32)
        np.add.at(g, inv, 2 * e)
        acc[uniq] += g * g
        emb[uniq] -= lr * g / np.sqrt(acc[uniq])
    return time.perf_counter() - t, losses, None


def _w4_tf1(tf, rows, steps):
    rng = np.random.default_rng(4)
    emb = tf.Variable((rng.standard_normal((rows, 16)) * 0.01).astype(np.float32))
    ids = tf.placeholder(tf.int64, [None])
    e = tf.nn.embedding_lookup(emb, ids)
    loss = tf.reduce_sum(e * e)
    train = tf.train.AdagradOptimizer(0.1).minimize(loss)
    data = w4_ids(rows, steps)
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t = time.perf_counter()
        for idv in data:
            _, lv = sess.run([train, loss], {ids: idv})
            losses.append(float(lv))
        dt = time.perf_counter() - t
    return dt, losses, None


def w4_miniflow_graph(rows, steps):
    import miniflow as tf

    return _w4_tf1(tf, rows, steps)


def w4_tf1_graph(rows, steps):
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    return _w4_tf1(tf, rows, steps)


def w4_torch_eager(rows, steps):
    import torch

    rng = np.random.default_rng(4)
    emb = torch.nn.Embedding(rows, 16, sparse=True)
    with torch.no_grad():
        emb.weight.copy_(
            torch.from_numpy((rng.standard_normal((rows, 16)) * 0.01).astype(np.float32))
        )
    opt = torch.optim.Adagrad(emb.parameters(), lr=0.1, initial_accumulator_value=0.1)
    data = [torch.from_numpy(i) for i in w4_ids(rows, steps)]
    losses = []
    t = time.perf_counter()
    for ids in data:
        opt.zero_grad()
        e = emb(ids)
        loss = (e * e).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return time.perf_counter() - t, losses, None


# ----------------------------------------------------------------------------- main
def threads_info():
    info = {
        k: os.environ.get(k)
        for k in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE",
        )
        if os.environ.get(k)
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            f"{p.get('internal_api')}:{p.get('num_threads')}:{p.get('architecture')}"
            for p in threadpool_info()
        ]
    except ImportError:
        pass
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--framework", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    fw = args.framework.replace("-", "_").replace(".", "_")
    out = {"workload": args.workload, "framework": args.framework, "steps": args.steps}
    if args.workload == "W1":
        xs, ys = w1_data(args.steps)
        dt, losses, params = globals()[f"w1_{fw}"](xs, ys)
        out["final_loss"] = float(np.mean(np.asarray(losses[-1000:], dtype=np.float64)))
        out["params"] = [float(p) for p in params]
    elif args.workload in ("W2", "W3"):
        x, y, hidden, batch, lr = mlp_data(args.workload)
        dt, losses, acc = globals()[f"mlp_{fw}"](x, y, hidden, batch, args.steps, lr)
        out["final_loss"] = float(np.mean(losses[-50:]))
        out["accuracy"] = acc
        out["gflops"] = mlp_flops(x.shape[1], hidden, 10, batch) * args.steps / dt / 1e9
    elif args.workload == "W4":
        dt, losses, _ = globals()[f"w4_{fw}"](args.rows, args.steps)
        out["rows"] = args.rows
        out["final_loss"] = float(np.mean(losses[-10:]))
    elif args.workload == "matmul":
        rng = np.random.default_rng(0)
        a = rng.standard_normal((4096, 1024)).astype(np.float32)
        b = rng.standard_normal((1024, 1024)).astype(np.float32)
        a @ b
        t = time.perf_counter()
        for _ in range(args.steps):
            a @ b
        dt = time.perf_counter() - t
        out["gflops"] = 2 * 4096 * 1024 * 1024 * args.steps / dt / 1e9
    else:
        raise SystemExit(f"unknown workload {args.workload}")
    out["us_per_step"] = dt / args.steps * 1e6
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["threads"] = threads_info()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
