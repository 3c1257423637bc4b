"""A training process killed with SIGKILL resumes from its latest checkpoint."""

import glob
import os
import signal
import subprocess

import numpy as np

import miniflow as tf
from miniflow.train.checkpoint import load_checkpoint_tensors

SCRIPT = os.path.join(os.path.dirname(__file__), "train_script.py")


def _run(python, env, *args, timeout=120):
    return subprocess.run(
        [python, SCRIPT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def _kill_after_saves(python, env, ckdir, n_saves):
    proc = subprocess.Popen(
        [python, SCRIPT, "--dir", ckdir, "--steps", "100000", "--every", "1", "--sleep", "0.002"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        saves = 0
        for line in proc.stdout:
            if line.startswith("SAVED"):
                saves += 1
                if saves >= n_saves:
                    break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, proc.returncode


def test_sigkill_then_resume_restores_exact_checkpoint_values(tmp_path, python, child_env):
    ckdir = str(tmp_path / "run")
    os.makedirs(ckdir)
    _kill_after_saves(python, child_env, ckdir, n_saves=25)

    # Every checkpoint left on disk is complete and readable; none is half-written.
    indexes = glob.glob(os.path.join(ckdir, "*.index"))
    assert 1 <= len(indexes) <= 4  # max_to_keep=3, plus at most one not yet pruned
    for index in indexes:
        values = load_checkpoint_tensors(index[: -len(".index")])
        assert set(values) == {"w", "b", "global_step"}
    latest = tf.train.latest_checkpoint(ckdir)
    assert latest is not None and latest + ".index" in indexes
    on_disk = load_checkpoint_tensors(latest)
    assert int(on_disk["global_step"]) >= 25
    assert latest.endswith(f"-{int(on_disk['global_step'])}")

    dump = str(tmp_path / "restored.npz")
    total = int(on_disk["global_step"]) + 5
    out = _run(
        python,
        child_env,
        "--dir",
        ckdir,
        "--steps",
        str(total),
        "--every",
        "5",
        "--dump-restored",
        dump,
    )
    assert "DONE" in out.stdout
    with np.load(dump) as restored:
        assert str(restored["path"]) == latest
        np.testing.assert_array_equal(restored["w"], on_disk["w"])
        np.testing.assert_array_equal(restored["b"], on_disk["b"])
        assert int(restored["step"]) == int(on_disk["global_step"])

    # Training after the resume is exactly the uninterrupted run (batches depend on the
    # step only), so nothing was lost or replayed.
    fresh = str(tmp_path / "fresh")
    os.makedirs(fresh)
    _run(python, child_env, "--dir", fresh, "--steps", str(total), "--every", str(total))
    resumed_final = load_checkpoint_tensors(tf.train.latest_checkpoint(ckdir))
    fresh_final = load_checkpoint_tensors(tf.train.latest_checkpoint(fresh))
    assert int(resumed_final["global_step"]) == total == int(fresh_final["global_step"])
    np.testing.assert_allclose(resumed_final["w"], fresh_final["w"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(resumed_final["b"], fresh_final["b"], rtol=1e-6, atol=1e-7)
