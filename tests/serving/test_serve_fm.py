"""`miniflow serve` on a trained FM/FFM: HTTP predictions equal in-process ones."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from serving_helpers import child_env, instances, libsvm_line

from miniflow.ml.batch import Batch
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_math import field_bits_for
from miniflow.ml.fm_model import load_fm_model
from miniflow.serving.errors import InvalidRequest
from miniflow.serving.servable import load_servable, servable_kind
from miniflow.serving.signature import Ragged

DIMS, FIELDS = 12, 4
SHIFT = DIMS - field_bits_for(FIELDS)


def _rows(rng, n, kind):
    rows = []
    for _ in range(n):
        k = int(rng.integers(0, 7))
        if kind == "ffm":
            idx = [(int(rng.integers(FIELDS)) << SHIFT) | int(rng.integers(200)) for _ in range(k)]
        else:
            idx = rng.integers(0, 1 << DIMS, k).tolist()
        rows.append((idx, np.round(rng.uniform(-2, 2, k), 3).tolist()))
    return rows


def _batch(rows):
    indptr = np.r_[0, np.cumsum([len(i) for i, _ in rows])].astype(np.int64)
    ids = np.array([i for r, _ in rows for i in r], np.int64)
    vals = np.array([v for _, r in rows for v in r], np.float32)
    return Batch(indptr, ids, vals, np.zeros(len(rows), np.float32))


def _train(path, kind, seed=0):
    """A model trained on random rows whose label depends on pairs, saved at path."""
    rng = np.random.default_rng(seed)
    t = FMTrainer(DIMS, model=kind, fields=FIELDS if kind == "ffm" else None, factors=4)
    for _ in range(3):
        rows = _rows(rng, 400, kind)
        b = _batch(rows)
        b.labels = (rng.random(len(rows)) < 0.3).astype(np.float32)
        t.fit([b], progress=False)
    t.to_model().save(path)
    return load_fm_model(path)


@pytest.mark.parametrize("kind", ["fm", "ffm"])
def test_served_predictions_equal_in_process_ones(tmp_path, start_server, kind):
    model = _train(tmp_path / "1", kind)
    assert servable_kind(tmp_path / "1") == "sparse_fm"
    server = start_server("--model-dir", tmp_path, "--name", "ctr")
    rows = _rows(np.random.default_rng(9), 40, kind)
    want = model.predict_proba(_batch(rows))
    assert np.ptp(want) > 0.01  # the model is not a constant

    status, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert status == 200, body
    np.testing.assert_allclose(body["predictions"], want, rtol=1e-5)

    status, body = server.post(
        "/v1/models/ctr:predict", {"signature_name": "predict", "instances": instances(rows)}
    )
    assert status == 200, body
    logits = [p["logits"] for p in body["predictions"]]
    np.testing.assert_allclose(logits, model.decision_function(_batch(rows)), rtol=1e-4, atol=1e-5)

    status, body = server.post("/v1/models/ctr:classify", {"examples": []})
    assert status in (200, 400)  # answered, not crashed
    status, body = server.post(
        "/v1/models/ctr:predict", {"instances": [{"indices": [1 << DIMS], "values": [1.0]}]}
    )
    assert status == 400 and "out of range" in body["error"]
    status, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows[:3])})
    assert status == 200  # still serving


def test_an_ffm_id_with_an_unknown_field_is_a_400(tmp_path, start_server):
    # 3 fields take 2 bits of the id, so field number 3 can be written but does not exist
    t = FMTrainer(DIMS, model="ffm", fields=3, factors=2)
    t.fit([_batch([([1, (1 << SHIFT) | 2], [1.0, 1.0])])], progress=False)
    t.to_model().save(tmp_path / "1")
    servable = load_servable(tmp_path / "1")
    bad = Ragged(np.array([(3 << SHIFT) | 1, 2], np.int64), np.array([0, 2]))
    vals = Ragged(np.ones(2, np.float32), np.array([0, 2]))
    with pytest.raises(InvalidRequest, match="has field 3"):
        servable.predict("serving_default", {"indices": bad, "values": vals})

    server = start_server("--model-dir", tmp_path, "--name", "ctr")
    body = {"instances": [{"indices": [(3 << SHIFT) | 1, 2], "values": [1, 1]}]}
    status, answer = server.post("/v1/models/ctr:predict", body)
    assert status == 400 and "has field 3" in answer["error"]
    status, _ = server.post(
        "/v1/models/ctr:predict", {"instances": [{"indices": [1], "values": [1]}]}
    )
    assert status == 200


def test_batch_predict_command_reads_libsvm_for_an_fm(tmp_path):
    model = _train(tmp_path / "m" / "1", "fm")
    rows = _rows(np.random.default_rng(5), 30, "fm")
    (tmp_path / "in.svm").write_text("\n".join(libsvm_line(i, v) for i, v in rows) + "\n")
    out = tmp_path / "out.txt"
    cmd = [sys.executable, "-m", "miniflow.cli.main", "predict", "--model-dir",
           str(tmp_path / "m"), "--input", str(tmp_path / "in.svm"), "--output", str(out),
           "--no-progress"]  # fmt: skip
    proc = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = np.loadtxt(out)
    np.testing.assert_allclose(got, model.predict_proba(_batch(rows)), rtol=1e-5)
