"""Ids above 2^32: `miniflow data gen-ctr --dims-log2 34` produces them, and sharded
training, export and prediction keep them (nothing truncates to 32 bits)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from miniflow.ml.data import concat_batches, read_libsvm
from miniflow.ml.datagen import hashed_id
from miniflow.ml.sparse_lr import load_model
from miniflow.ml.vw_text import hash_feature


def _miniflow(*args) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, "-m", "miniflow", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("big-ids")
    common = ["--fields", "8", "--max-vocab", "3000"]
    for name, rows, seed, dims in [
        ("train34", 20_000, 1, 34),
        ("test34", 4_000, 2, 34),
        ("train32", 20_000, 1, 32),
    ]:
        _miniflow("data", "gen-ctr", "--rows", rows, "--dims-log2", dims, "--seed", seed,
                  "--out", d / f"{name}.svm", *common)  # fmt: skip
    return d


def test_gen_ctr_fills_the_34_bit_space_and_keeps_the_32_bit_ids_below(files):
    b34 = concat_batches(list(read_libsvm(files / "train34.svm", 34)))
    b32 = concat_batches(list(read_libsvm(files / "train32.svm", 32)))
    ids = b34.indices
    assert ids.max() < 1 << 34 and ids.min() >= 0
    # uniform high bits: about 3/4 of the distinct ids lie at or above 2^32
    distinct = np.unique(ids)
    assert 0.6 < np.mean(distinct >= 1 << 32) < 0.9
    # the low 32 bits are the 32-bit ids of the same rows (sorted per row in both files)
    np.testing.assert_array_equal(np.sort(ids & 0xFFFFFFFF), np.sort(b32.indices))
    token = b"f3_17"
    assert hashed_id(token, 34) == (
        hash_feature(token, b"f") | (hash_feature(token, b"f+") << 32)
    ) & ((1 << 34) - 1)
    assert hashed_id(token, 20) == hash_feature(token, b"f") & ((1 << 20) - 1)


def test_gen_ctr_refuses_a_key_space_beyond_62_bits(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "miniflow", "data", "gen-ctr", "--rows", "5", "--dims-log2",
         "63", "--out", str(tmp_path / "x.svm")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode != 0 and "1..62" in r.stderr


def test_sharded_training_and_prediction_keep_ids_above_2_to_the_32(files, tmp_path):
    model_dir = tmp_path / "model"
    r = _miniflow(
        "lr", "train", "--train", files / "train34.svm", "--test", files / "test34.svm",
        "--dims-log2", 34, "--ps-shards", 2, "--workers", 2, "--backend", "local",
        "--batch-size", 512, "--model-out", model_dir, "--no-progress",
    )  # fmt: skip
    report = json.loads(r.stdout)
    assert report["test"]["auc"] > 0.65  # learnt (chance: 0.5; 20,000 rows)
    model = load_model(model_dir)
    assert model.dims_log2 == 34
    big = model.keys >= 1 << 32
    assert big.mean() > 0.5  # the weights of ids above 2^32 were trained and exported
    # prediction looks them up: a plain-Python margin over the exported weights
    weights = dict(zip(model.keys.tolist(), model.weights.astype(np.float64).tolist(), strict=True))
    test = concat_batches(list(read_libsvm(files / "test34.svm", 34)))
    rows = test.slice(0, 200)
    want = []
    for i in range(len(rows)):
        lo, hi = rows.indptr[i], rows.indptr[i + 1]
        values = np.ones(hi - lo) if rows.values is None else rows.values[lo:hi]
        m = model.bias + sum(
            weights.get(int(k), 0.0) * float(v)
            for k, v in zip(rows.indices[lo:hi], values, strict=True)
        )
        want.append(1 / (1 + np.exp(-m)))
    out = tmp_path / "pred.txt"
    _miniflow("predict", "--model-dir", model_dir, "--input", files / "test34.svm",
              "--output", out, "--no-progress")  # fmt: skip
    got = np.loadtxt(out, ndmin=1)[:200]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert (rows.indices >= 1 << 32).any()
