"""W1 in eager mode: scalar linear regression y = w*x + b, squared loss, GradientTape.

Usage: python benchmarks/eager_w1.py [--profile]  (prints microseconds per step)
"""

import sys
import time

import miniflow as tf


def main():
    tf.enable_eager_execution()
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

    if "--profile" in sys.argv:
        import cProfile
        import pstats

        cProfile.runctx("for _ in range(20000): step_opt()", globals(), locals(), "/tmp/w1.prof")
        pstats.Stats("/tmp/w1.prof").sort_stats("tottime").print_stats(25)
        return
    for name, step in [("apply_gradients", step_opt), ("assign_sub", step_hand)]:
        for _ in range(500):
            step()
        best = float("inf")
        for _ in range(5):
            n = 3000
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            best = min(best, (time.perf_counter() - t0) / n * 1e6)
        print(f"W1 eager ({name}): {best:.1f} us/step")
    print("w, b =", w.numpy(), b.numpy())


if __name__ == "__main__":
    main()
