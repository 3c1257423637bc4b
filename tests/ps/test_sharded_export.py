"""Sharded export: each shard writes its own part, and `miniflow serve` and `miniflow
predict` answer from the parts with the predictions of the merged in-process model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from miniflow.ps import PSConfig, PSJob
from miniflow.ps.export import ShardedLinearModel, load_sharded_model
from miniflow.ps.model_parts import read_part
from miniflow.ps.sharding import shard_of


def _job(ctr, tmp_path, name, export):
    cfg = PSConfig(
        num_shards=3,
        num_workers=2,
        backend="process",
        dims_log2=ctr.dims_log2,
        batch_size=ctr.batch_size,
        job_dir=str(tmp_path / name),
        export=export,
    )
    return PSJob(cfg).run(ctr.train(), holdout=[ctr.test], progress=False)


@pytest.fixture(scope="module")
def jobs(ctr, tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    return _job(ctr, d, "merged", "merged"), _job(ctr, d, "sharded", "sharded"), d


def test_each_part_holds_exactly_its_shards_nonzero_weights(jobs):
    merged, sharded, _ = jobs
    model = sharded.model
    assert isinstance(model, ShardedLinearModel) and len(model.parts) == 3
    for i, (keys, weights) in enumerate(model.parts):
        assert isinstance(keys, np.memmap)  # served from the files, not loaded
        assert (np.diff(keys) > 0).all() and (shard_of(keys, 3) == i).all()
        assert (weights != 0).all()
    every = np.concatenate([k for k, _ in model.parts])
    np.testing.assert_array_equal(np.sort(every), merged.model.keys)
    assert model.bias == merged.model.bias and model.nnz == merged.model.nnz
    assert sharded.holdout["auc"] == merged.holdout["auc"]


def test_predictions_equal_the_merged_model_bit_for_bit(jobs, ctr):
    merged, sharded, _ = jobs
    np.testing.assert_array_equal(
        sharded.model.predict_proba(ctr.test), merged.model.predict_proba(ctr.test)
    )
    ids = np.array([0, 5, (1 << ctr.dims_log2) - 1, 12345, (1 << ctr.dims_log2) + 5])
    np.testing.assert_array_equal(sharded.model.lookup(ids), merged.model.lookup(ids))


def test_miniflow_serve_answers_from_a_sharded_model(jobs, ctr, tmp_path):
    merged, sharded, _ = jobs
    base = tmp_path / "models" / "ctr"
    sharded.model.save(base / "1")  # file copies; the manifest names the parts
    assert sorted(os.listdir(base / "1"))[:2] == ["model.json", "part-00000.keys.npy"]
    rows = [ctr.test.slice(i, i + 1) for i in range(20)]
    body = {"instances": [{"indices": r.indices.tolist(), "values": [1.0] * r.nnz} for r in rows]}
    cmd = [sys.executable, "-m", "miniflow", "serve", "--model-dir", str(base), "--name", "ctr",
           "--port", "0"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        if not first.startswith("miniflow serve: listening on "):
            proc.kill()  # its stderr ends only when it does
            pytest.fail(f"no listening line ({first!r}): {proc.stderr.read()}")
        status_url = first.split()[4] + "/v1/models/ctr"
        deadline = time.monotonic() + 60
        while True:  # the server listens first, then loads the version
            try:
                with urllib.request.urlopen(status_url, timeout=10) as resp:
                    if "AVAILABLE" in resp.read().decode():
                        break
            except urllib.error.HTTPError:
                pass
            assert time.monotonic() < deadline, "the sharded model never became AVAILABLE"
            time.sleep(0.1)
        url = status_url + ":predict"
        req = urllib.request.Request(url, json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            got = np.array(json.loads(resp.read())["predictions"], np.float64).ravel()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    want = np.concatenate([merged.model.predict_proba(r) for r in rows])
    np.testing.assert_allclose(got, want, rtol=1e-6)  # JSON carries float32 outputs


def test_miniflow_predict_runs_batch_prediction_on_a_sharded_model(jobs, ctr, tmp_path):
    merged, sharded, _ = jobs
    out = tmp_path / "pred.txt"
    r = subprocess.run(
        [sys.executable, "-m", "miniflow", "predict", "--model-dir", str(sharded.model.directory), "--no-progress",
         "--input", str(ctr.test_path), "--output", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = np.loadtxt(out, ndmin=1)
    np.testing.assert_allclose(got, merged.model.predict_proba(ctr.test), rtol=1e-5, atol=1e-7)


def test_a_damaged_sharded_model_is_refused_with_the_reason(jobs, tmp_path):
    _, sharded, _ = jobs
    copy = tmp_path / "m"
    sharded.model.save(copy)
    keys, _ = read_part(str(copy), 1, mmap=False)
    np.save(copy / "part-00001.keys.npy", keys[:-1])
    with pytest.raises(ValueError, match="part 1"):
        load_sharded_model(copy)
    os.remove(copy / "part-00002.weights.npy")
    with pytest.raises((ValueError, FileNotFoundError)):
        load_sharded_model(copy)


def test_sharded_export_needs_a_job_dir():
    with pytest.raises(ValueError, match="needs --job-dir"):
        PSJob(PSConfig(export="sharded"))
    with pytest.raises(ValueError, match="'merged' or 'sharded'"):
        PSJob(PSConfig(export="zip", job_dir="x"))


def test_the_cli_refuses_a_sharded_export_without_a_job_dir(ctr):
    r = subprocess.run(
        [sys.executable, "-m", "miniflow", "lr", "train", "--train", str(ctr.train_path),
         "--ps-shards", "2", "--sharded-export", "--model-out", "m"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == (
        "miniflow lr train: error: --sharded-export needs --job-dir: "
        "the shards write the model there"
    )
