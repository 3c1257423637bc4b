"""W1 in eager mode: scalar linear regression y = w*x + b, squared loss, GradientTape —
side by side with PyTorch eager (when importable) in the same process, interleaved, so
both see the same machine load.

Usage: python benchmarks/bench_eager_w1.py [--profile]
"""

import sys
import time

import numpy as np

import miniflow as tf


def miniflow_steps():
    w, b = tf.Variable(0.0), tf.Variable(0.0)
    opt = tf.train.GradientDescentOptimizer(0.01)
    x, y = tf.constant(2.0), tf.constant(5.0)

    def step_opt():
        with tf.GradientTape() as tape:
            loss = tf.square(w * x + b - y)
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))

    def step_hand():
        with tf.GradientTape() as tape:
            loss = tf.square(w * x + b - y)
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.01 * gw)
        b.assign_sub(0.01 * gb)

    xs = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    ys = 2 * xs + 10
    it = iter(range(1 << 62))

    def step_fed():  # bench_core.py's W1 loop: a NumPy example per step, loss as a float
        i = next(it) & 4095
        with tf.GradientTape() as tape:
            loss = tf.square(ys[i] - (w * xs[i] + b))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.01 * gw)
        b.assign_sub(0.01 * gb)
        return float(loss)

    return {
        "miniflow apply_gradients": step_opt,
        "miniflow assign_sub": step_hand,
        "miniflow fed + float(loss)": step_fed,
    }


def torch_steps():
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    x, y = torch.tensor(2.0), torch.tensor(5.0)
    opt = torch.optim.SGD([w, b], lr=0.01)

    def step_torch():
        loss = (w * x + b - y) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()

    xs = torch.from_numpy(np.random.default_rng(0).standard_normal(4096).astype(np.float32))
    ys = 2 * xs + 10
    it = iter(range(1 << 62))

    def step_torch_fed():
        i = next(it) & 4095
        opt.zero_grad()
        loss = (ys[i] - (w * xs[i] + b)) ** 2
        loss.backward()
        opt.step()
        return loss.item()

    return {"pytorch SGD": step_torch, "pytorch fed + loss.item()": step_torch_fed}


def measure(step, n=2000):
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n * 1e6, (time.process_time() - c0) / n * 1e6


def main():
    tf.enable_eager_execution()
    steps = {**miniflow_steps(), **torch_steps()}
    if "--profile" in sys.argv:
        import cProfile
        import pstats

        step = steps["miniflow apply_gradients"]
        cProfile.runctx("for _ in range(20000): step()", globals(), locals(), "/tmp/w1.prof")
        pstats.Stats("/tmp/w1.prof").sort_stats("tottime").print_stats(25)
        return
    for step in steps.values():
        for _ in range(500):
            step()
    best = {name: (float("inf"), float("inf")) for name in steps}
    for _ in range(7):  # interleaved rounds: every framework sees the same load
        for name, step in steps.items():
            wall, cpu = measure(step)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    for name, (wall, cpu) in best.items():
        print(f"W1 eager, {name:26s} {wall:7.1f} us/step wall  {cpu:7.1f} us/step CPU")


if __name__ == "__main__":
    main()
