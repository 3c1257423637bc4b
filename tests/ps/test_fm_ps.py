"""Factorization machines on the parameter server (issue 20): factor rows are keys on the
shards like weights, and a sync job reproduces the single-process ``FMTrainer``.

The reference is the single-process trainer (an independent code path: its own dense
stores, its own step) on the same rows with the same global batch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from miniflow.ml import metrics
from miniflow.ml.data import concat_batches, read_libsvm
from miniflow.ml.datagen import write_ctr
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_data import read_fm_file
from miniflow.ml.fm_model import load_fm_model
from miniflow.ps import PSConfig, PSJob
from miniflow.ps.factors import FactorSpec
from miniflow.ps.shard import Shard, ShardConfig
from miniflow.ps.sharding import BIAS_KEY, decode_factor_keys, factor_keys, shard_of

DIMS, BATCH, K = 18, 512, 4


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("fm-ps")
    for name, rows, seed in (("train", 20_000, 1), ("test", 5_000, 2)):
        write_ctr(d / f"{name}.svm", rows, DIMS, seed=seed, fields=8, max_vocab=2_000)
    test = concat_batches(list(read_libsvm(d / "test.svm", DIMS)))
    ref = FMTrainer(DIMS, "ftrl", factors=K, batch_size=BATCH)
    ref.fit(read_libsvm(d / "train.svm", DIMS), progress=False)
    return d, test, ref


def _auc(model, test) -> float:
    from sklearn.metrics import roc_auc_score  # independent of miniflow's metrics

    return float(roc_auc_score(test.labels, model.predict_proba(test)))


def test_factor_keys_round_trip_and_live_on_the_shard_of_their_row():
    rows = np.array([0, 1, 7, 2**40 + 3, 2**53])
    keys = factor_keys(rows, 5)
    assert (keys < BIAS_KEY).all() and len(np.unique(keys)) == len(keys)
    r, f = decode_factor_keys(keys)
    np.testing.assert_array_equal(r, np.repeat(rows, 5))
    np.testing.assert_array_equal(f, np.tile(np.arange(5), len(rows)))
    for n in (1, 3, 8):
        np.testing.assert_array_equal(shard_of(keys, n), np.repeat(shard_of(rows, n), 5))


def test_sync_fm_on_two_local_shards_equals_the_single_process_trainer(data):
    d, test, ref = data
    cfg = PSConfig(num_shards=2, num_workers=2, dims_log2=DIMS, batch_size=BATCH, model="fm",
                   factors=K)  # fmt: skip
    result = PSJob(cfg).run(read_libsvm(d / "train.svm", DIMS), progress=False)
    want = ref.to_model()
    got = result.model
    np.testing.assert_array_equal(got.row_keys, want.row_keys)  # the same rows trained
    np.testing.assert_array_equal(got.linear.keys, want.linear.keys)
    np.testing.assert_allclose(got.factors, want.factors, atol=1e-5)
    np.testing.assert_allclose(got.linear.weights, want.linear.weights, atol=1e-5)
    assert abs(_auc(got, test) - _auc(want, test)) < 1e-4
    assert _auc(want, test) > 0.6  # it learned something
    # every factor row lives on the shard that owns its feature, nowhere else
    assert sum(s["keys"] for s in result.shard_stats) == len(want.linear.keys) * (K + 1)


def test_ffm_on_the_parameter_server_equals_the_single_process_trainer(tmp_path):
    fields = 6
    write_ctr(tmp_path / "t.ffm", 6_000, DIMS, fmt="libffm", seed=3, fields=fields, max_vocab=500)
    spec = FactorSpec("ffm", 2, fields, DIMS)

    def batches():
        return read_fm_file(tmp_path / "t.ffm", DIMS, "auto", spec.field_bits, fields)

    ref = FMTrainer(DIMS, "adagrad", model="ffm", fields=fields, factors=2, batch_size=256)
    ref.fit(batches(), progress=False)
    cfg = PSConfig(num_shards=3, num_workers=2, dims_log2=DIMS, batch_size=256, model="ffm",
                   fields=fields, factors=2, optimizer="adagrad")  # fmt: skip
    got = PSJob(cfg).run(batches(), progress=False).model
    want = ref.to_model()
    assert got.kind == "ffm" and got.fields == fields
    np.testing.assert_array_equal(got.row_keys, want.row_keys)
    np.testing.assert_allclose(got.factors, want.factors, atol=1e-5)
    test = concat_batches(list(batches()))
    np.testing.assert_allclose(got.predict_proba(test), want.predict_proba(test), atol=1e-5)


def _cli(*args, timeout=300):
    cmd = [sys.executable, "-m", "miniflow", "fm", "train", "--no-progress", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_cli_process_backend_reproduces_single_process_auc_and_serve_loads_it(data, tmp_path):
    d, test, _ = data
    common = ["--train", d / "train.svm", "--test", d / "test.svm", "--dims-log2", DIMS,
              "--factors", K, "--batch-size", BATCH]  # fmt: skip
    single = _cli(*common, "--output", tmp_path / "single")
    assert single.returncode == 0, single.stderr
    sharded = _cli(*common, "--ps-shards", 2, "--workers", 2, "--backend", "process",
                   "--job-dir", tmp_path / "job", "--output", tmp_path / "models" / "fm" / "1")  # fmt: skip
    assert sharded.returncode == 0, sharded.stderr
    a, b = json.loads(single.stdout), json.loads(sharded.stdout)
    assert a["kind"] == b["kind"] == "fm" and a["train_rows"] == b["train_rows"] == 20_000
    assert abs(a["test"]["auc"] - b["test"]["auc"]) < 1e-4, (a["test"], b["test"])
    assert b["parameter_server"]["lost"]["fraction"] == 0
    model = load_fm_model(tmp_path / "models" / "fm" / "1")
    assert abs(_auc(model, test) - b["test"]["auc"]) < 1e-6

    rows = [test.slice(i, i + 1) for i in range(25)]
    body = {"instances": [{"indices": r.indices.tolist(), "values": [1.0] * r.nnz} for r in rows]}
    cmd = [sys.executable, "-m", "miniflow", "serve", "--model-dir", str(tmp_path / "models" / "fm"),
           "--name", "fm", "--port", "0"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        if not first.startswith("miniflow serve: listening on "):
            proc.kill()  # its stderr ends only when it does
            pytest.fail(f"no listening line ({first!r}): {proc.stderr.read()}")
        url = first.split()[4] + "/v1/models/fm"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    if "AVAILABLE" in resp.read().decode():
                        break
            except urllib.error.HTTPError:
                pass
            assert time.monotonic() < deadline, "the FM model never became AVAILABLE"
            time.sleep(0.1)
        req = urllib.request.Request(url + ":predict", json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            served = np.array(json.loads(resp.read())["predictions"], np.float64).ravel()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    want = np.concatenate([model.predict_proba(r) for r in rows])
    np.testing.assert_allclose(served, want, rtol=1e-6)  # JSON carries float32 outputs


@pytest.mark.parametrize(
    "args, message",
    [
        (["--factors", "300"], "--factors must be an integer in 1..256, got 300"),
        (["--factor-l2", "-1"], "--factor-l2 must be a finite number >= 0"),
        (["--factor-alpha", "0"], "--factor-alpha must be a finite number > 0"),
        (["--sharded-export", "--job-dir", "J"], "--sharded-export writes linear models only"),
        (["--ps-shards", "0"], "--ps-shards (num_shards) must be an integer >= 1, got 0"),
    ],
)
def test_cli_refuses_bad_fm_options_in_one_line(data, args, message, tmp_path):
    d, _, _ = data
    base = ["--train", d / "train.svm", "--dims-log2", DIMS, "--batch-size", 64]
    if "--ps-shards" not in args:
        base += ["--ps-shards", 2]
    out = _cli(*base, *[a.replace("J", str(tmp_path / "j")) for a in args])
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("miniflow fm train: error: "), out.stderr
    assert message in lines[0]


def _fm_shard(tmp_path=None, index=0, num_shards=1) -> Shard:
    spec = FactorSpec("fm", 3, 0, 10, {"alpha": 0.1, "beta": 1.0})
    cfg = ShardConfig(index=index, num_shards=num_shards, dims_log2=10,
                      hyperparameters={"alpha": 0.2, "beta": 1.0},
                      factors=spec.__dict__,
                      checkpoint_path=None if tmp_path is None else str(tmp_path / "s.npz"))  # fmt: skip
    return Shard(cfg)


def test_a_shard_refuses_factor_keys_outside_the_job_and_an_lr_shard_refuses_them_all():
    shard = _fm_shard()
    bad_row = factor_keys(np.array([1 << 10]), 3)  # row 1024 of a 2^10 feature space
    bad_factor = -2 - ((np.array([5]) << 8) | 3)  # factor 3 of k=3
    for keys in (bad_row, bad_factor):
        with pytest.raises(ValueError, match="outside 1024 rows x k=3"):
            shard.push(0, 0, keys, np.ones(len(keys)), rows=1)
    assert shard.stats["rejected"] == 2 and shard.version == 0
    lr = Shard(ShardConfig(dims_log2=10))
    with pytest.raises(ValueError, match="outside"):
        lr.push(0, 0, factor_keys(np.array([1]), 3), np.ones(3), rows=1)


def test_factor_l2_is_added_once_per_step_on_the_shard_and_the_state_checkpoints(tmp_path):
    shard = _fm_shard(tmp_path)
    fkeys = factor_keys(np.array([3, 9]), 3)
    v0 = shard.factors.initial(fkeys)
    # the pure L2 pull towards 0 with a zero data gradient: FTRL's first step from
    # z=n=0 on gradient g = factor_l2 * v0 gives offset -alpha*g/(beta+|g|)...
    shard.push(0, 0, fkeys, np.zeros(len(fkeys)), rows=1)
    g = 1e-4 * v0
    sigma = np.abs(g) / 0.1
    z = g - sigma * 0.0
    want = -z / ((1.0 + np.abs(g)) / 0.1)  # FTRL-Proximal, l1 = l2 = 0, w starts at 0
    np.testing.assert_allclose(shard.pull(fkeys), want, rtol=1e-5)
    rows, vectors = shard.trained_factor_rows()
    np.testing.assert_array_equal(rows, [3, 9])
    np.testing.assert_allclose(vectors.ravel(), v0 + want, rtol=1e-5)
    shard.checkpoint()
    restored = Shard(shard.config, restore=True)
    np.testing.assert_array_equal(restored.pull(fkeys), shard.pull(fkeys))
    r2, v2 = restored.trained_factor_rows()
    np.testing.assert_array_equal(r2, rows)
    np.testing.assert_array_equal(v2, vectors)


def test_async_fm_trains_to_about_the_single_process_auc(data):
    d, test, ref = data
    cfg = PSConfig(num_shards=2, num_workers=2, dims_log2=DIMS, batch_size=BATCH, model="fm",
                   factors=K, sync=False, staleness=1)  # fmt: skip
    got = PSJob(cfg).run(read_libsvm(d / "train.svm", DIMS), progress=False).model
    assert abs(_auc(got, test) - metrics.roc_auc(test.labels, ref.predict_proba(test))) < 0.02
