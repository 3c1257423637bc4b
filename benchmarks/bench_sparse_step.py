"""W4: one sparse Adagrad step costs the same whatever the embedding table's size.

Builds ``loss = sum(gather(table, ids) ** 2)`` (an embedding lookup) for tables of
1,000 x 16 and of 1,000,000 x 16 with 100 ids per batch, and times
``sess.run(train_op)`` (Adagrad, so the update also touches the accumulator). A sparse
update touches only the looked-up rows of the table and of the accumulator, so the two
step times should be about equal.

Run: ``python benchmarks/bench_sparse_step.py [--steps N]``; not part of the tests.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import miniflow as tf

DIM, BATCH = 16, 100


def time_step(rows: int, steps: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` mean microseconds of one training step."""
    graph = tf.Graph()
    with graph.as_default():
        table = tf.Variable(tf.random_uniform([rows, DIM], -0.1, 0.1, seed=1), name="table")
        ids = tf.placeholder(tf.int64, [BATCH], name="ids")
        loss = tf.reduce_sum(tf.square(tf.gather(table, ids)))  # = embedding_lookup
        train_op = tf.train.AdagradOptimizer(0.1).minimize(loss)
        rng = np.random.RandomState(0)
        batches = [rng.randint(0, rows, BATCH).astype(np.int64) for _ in range(steps)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for b in batches[:20]:  # compile the plan, warm caches
                sess.run(train_op, {ids: b})
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                for b in batches:
                    sess.run(train_op, {ids: b})
                best = min(best, (time.perf_counter() - start) / steps)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    small = time_step(1_000, args.steps)
    large = time_step(1_000_000, args.steps)
    print(f"Adagrad step, {BATCH} ids, embedding dim {DIM}")
    print(f"{'table rows':>12} | {'us/step':>9}")
    print(f"{1_000:>12,} | {small:>9.1f}")
    print(f"{1_000_000:>12,} | {large:>9.1f}")
    print(f"ratio (1M / 1K): {large / small:.2f}")


if __name__ == "__main__":
    main()
