"""Classic TF1 tutorial programs (`programs/`), unmodified but for ``import miniflow as
tf``, run as scripts: each must train to a good accuracy."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"
ROOT = Path(__file__).resolve().parents[2]


def _run(name, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, str(PROGRAMS / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _last_number(text, label):
    return float(re.findall(rf"{label}:?\s*([0-9.]+)", text)[-1])


def test_layers_cnn_with_reuse_summaries_and_datasets(tmp_path):
    pytest.importorskip("tensorboardX")
    out = _run("cnn_digits.py", tmp_path)
    assert _last_number(out, "Testing Accuracy") > 0.8
    assert list(tmp_path.glob("events.out.tfevents.*"))


def test_eager_tfe_network_training_and_saver(tmp_path):
    out = _run("eager_iris.py", tmp_path)
    assert _last_number(out, "Final accuracy") > 0.9
    assert "steps: 300" in out


def test_bidirectional_lstm_with_float64_labels():
    out = _run("birnn_digits.py")
    assert _last_number(out, "Testing Accuracy") > 0.6
