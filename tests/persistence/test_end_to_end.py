"""A TF1 program trains with tf.data, logs summaries, checkpoints and exports; its outputs
are then checked with independent readers and served without its code."""

import os
import subprocess

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import miniflow as tf
from miniflow.train.checkpoint import load_checkpoint_tensors

PROGRAM = os.path.join(os.path.dirname(__file__), "tf1_program.py")


def test_tf1_program_end_to_end(tmp_path, python, child_env):
    missing = subprocess.run(
        [python, PROGRAM], env=child_env, capture_output=True, text=True, timeout=120
    )
    assert missing.returncode == 1 and "workdir" in missing.stderr

    work = str(tmp_path)
    run = subprocess.run(
        [python, PROGRAM, f"--workdir={work}", "--epochs=3"],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "trained 12 steps" in run.stderr  # 64 rows / 16 per batch * 3 epochs

    latest = tf.train.latest_checkpoint(os.path.join(work, "ckpt"))
    assert latest.endswith("model-12")
    assert [
        os.path.basename(p)
        for p in tf.train.get_checkpoint_state(
            os.path.join(work, "ckpt")
        ).all_model_checkpoint_paths
    ] == ["model-8", "model-12"]
    weights = load_checkpoint_tensors(latest)

    acc = EventAccumulator(os.path.join(work, "logs"))
    acc.Reload()
    losses = acc.Scalars("loss")
    assert [e.step for e in losses] == list(range(1, 13))
    assert losses[-1].value < losses[0].value / 10

    runner = tf.saved_model.load_signature_runner(os.path.join(work, "export", "1"))
    xs = np.load(os.path.join(work, "xs.npy"))
    got = runner.run({"x": xs})["y"]
    np.testing.assert_allclose(got, xs @ weights["w"] + weights["b"], rtol=1e-5, atol=1e-5)
    runner.close()
