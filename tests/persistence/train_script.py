"""A TF1-style training script for the save/kill/restore test.

Trains a linear model with SGD on batches that depend only on the step number, saves a
checkpoint every ``--every`` steps, and resumes from the latest checkpoint on start.
"""

import argparse
import sys
import time

import numpy as np

import miniflow as tf


def batch(step):
    rng = np.random.default_rng(step)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32) + 0.25
    return x, y


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--dump-restored", default=None)
    a = p.parse_args()

    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([4, 1]), name="w")
    b = tf.Variable(0.0, name="b")
    step = tf.Variable(0, name="global_step", trainable=False)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=step)
    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        latest = tf.train.latest_checkpoint(a.dir)
        if latest:
            saver.restore(sess, latest)
            state = tf.train.get_checkpoint_state(a.dir)
            saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
            if a.dump_restored:
                np.savez(
                    a.dump_restored,
                    w=sess.run(w),
                    b=sess.run(b),
                    step=sess.run(step),
                    path=np.array(latest),
                )
        else:
            sess.run(tf.global_variables_initializer())
        while sess.run(step) < a.steps:
            xs, ys = batch(int(sess.run(step)))
            sess.run(train, {x: xs, y: ys})
            s = int(sess.run(step))
            if s % a.every == 0:
                saver.save(sess, f"{a.dir}/model.ckpt", global_step=s)
                print(f"SAVED {s}", flush=True)
            time.sleep(a.sleep)
        print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
