"""Sparse LR trainer and model: hand-checked steps, quality vs ground truth and sklearn,
save/load, Ctrl-C, and the O(k)-per-batch memory property."""

import json
import os
import signal
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from miniflow.ml import metrics
from miniflow.ml.data import Batch, concat_batches, parse_libsvm, read_libsvm
from miniflow.ml.datagen import write_ctr
from miniflow.ml.optimizers import HashStore
from miniflow.ml.sparse_lr import SparseLinearModel, SparseLRTrainer, load_model


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_sgd_steps_equal_the_log_loss_gradient_by_hand():
    # Row 0 repeats feature 3, which CSR (and the model) treat as x_3 = 2.
    text = b"1 3:1 3:1 7:0.5\n0 7:2 9:1\n1 9:1\n0 1:1 3:1\n"
    batch = parse_libsvm(text)
    X = batch.to_csr(16).toarray().astype(np.float64)
    y = batch.labels.astype(float)
    lr = 0.3
    t = SparseLRTrainer(4, "sgd", lr=lr, batch_size=4, dtype=np.float64)
    w, b = np.zeros(16), 0.0
    for _ in range(3):
        p = _sigmoid(X @ w + b)
        loss = np.sum(np.log1p(np.exp(X @ w + b)) - y * (X @ w + b))
        # Summed (not averaged) gradient over the batch; SGD touches only used keys.
        w, b = w - lr * X.T @ (p - y), b - lr * np.sum(p - y)
        assert t.step(batch) == pytest.approx(loss)
        np.testing.assert_allclose(t.opt.weights(np.arange(16)), w, rtol=1e-12)
        assert t.bias == pytest.approx(b)


@pytest.fixture(scope="module")
def ctr(tmp_path_factory):
    d = tmp_path_factory.mktemp("ctr")
    info = write_ctr(d / "train.svm", 60_000, 20, seed=1, fields=16, max_vocab=20_000)
    test = write_ctr(
        d / "test.svm", 20_000, 20, seed=2, truth_path=d / "truth.npy", fields=16, max_vocab=20_000
    )
    assert info["ground_truth_auc"] > 0.75
    return d, test


def test_ftrl_learns_close_to_ground_truth_and_beats_sgdclassifier(ctr):
    d, info = ctr
    train = concat_batches(list(read_libsvm(d / "train.svm", 20)))
    test = concat_batches(list(read_libsvm(d / "test.svm", 20)))
    t = SparseLRTrainer(20, "ftrl")
    t.fit([train], epochs=1, progress=False)
    auc = metrics.roc_auc(test.labels, t.predict_proba(test))
    truth_auc = metrics.roc_auc(test.labels, np.load(d / "truth.npy"))
    assert truth_auc == pytest.approx(info["ground_truth_auc"])
    sk = SGDClassifier(loss="log_loss", random_state=0).fit(train.to_csr(1 << 20), train.labels)
    sk_auc = metrics.roc_auc(test.labels, sk.decision_function(test.to_csr(1 << 20)))
    assert truth_auc - 0.05 < auc < truth_auc
    assert auc > sk_auc - 0.005, (auc, sk_auc)


@pytest.mark.parametrize("optimizer", ["adagrad", "sgd"])
def test_other_optimizers_learn(ctr, optimizer):
    d, _ = ctr
    # Gradients are summed over the 1024-row batch, so plain SGD needs a small rate.
    t = SparseLRTrainer(20, optimizer, lr=0.002 if optimizer == "sgd" else 0.1)
    hist = t.fit(
        lambda: read_libsvm(d / "train.svm", 20),
        epochs=2,
        holdout=lambda: read_libsvm(d / "test.svm", 20),
        progress=False,
    )
    assert len(hist) == 2 and hist[-1].holdout["auc"] > 0.72
    assert hist[1].progressive_log_loss < hist[0].progressive_log_loss


def test_hash_store_trainer_equals_dense_trainer(ctr):
    d, _ = ctr
    chunks = list(read_libsvm(d / "train.svm", 20))[:3]
    dense = SparseLRTrainer(20, "ftrl", dtype=np.float64)
    sparse = SparseLRTrainer(20, "ftrl", store=HashStore({"z": 0.0, "n": 0.0}))
    dense.partial_fit(chunks)
    sparse.partial_fit(chunks)
    test = chunks[0]
    np.testing.assert_allclose(sparse.predict_proba(test), dense.predict_proba(test), rtol=1e-9)
    k1, w1 = dense.nonzero_weights()
    k2, w2 = sparse.nonzero_weights()
    order = np.argsort(k2)
    np.testing.assert_array_equal(k1, k2[order])
    np.testing.assert_allclose(w1, w2[order], rtol=1e-9)


def test_save_load_round_trip(ctr, tmp_path):
    d, _ = ctr
    t = SparseLRTrainer(20, "ftrl", l1=1.0)
    t.fit(lambda: read_libsvm(d / "train.svm", 20), progress=False)
    test = concat_batches(list(read_libsvm(d / "test.svm", 20)))
    t.to_model({"note": "x"}).save(tmp_path / "m")
    m = load_model(tmp_path / "m")
    np.testing.assert_allclose(m.predict_proba(test), t.predict_proba(test), rtol=1e-5)
    np.testing.assert_allclose(m.predict_proba(test.to_csr(1 << 20)), m.predict_proba(test))
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format"] == "miniflow.sparse_lr" and meta["version"] == 1
    assert meta["optimizer"]["name"] == "ftrl" and meta["optimizer"]["l1"] == 1.0
    assert meta["note"] == "x" and meta["nnz"] == m.nnz
    with np.load(tmp_path / "m" / "weights.npz", allow_pickle=False) as z:
        assert set(z.files) == {"keys", "values"} and (z["values"] != 0).all()
    assert 0 < m.nnz < 1 << 20  # only non-zero weights are stored (l1 zeroes many)
    meta["version"] = 99
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="newer"):
        load_model(tmp_path / "m")
    meta["format"] = "other"
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        load_model(tmp_path / "m")


def test_model_lookup_by_hand():
    m = SparseLinearModel([9, 2, 5], [0.5, -1.0, 2.0], bias=0.25, dims_log2=4)
    np.testing.assert_array_equal(m.lookup(np.array([2, 3, 9, 25, 5])), [-1.0, 0, 0.5, 0.5, 2.0])
    X = sp.csr_matrix(np.array([[0, 0, 1, 0, 0, 3], [0] * 6]))  # row 1 is empty
    np.testing.assert_allclose(m.decision_function(X), [0.25 - 1.0 + 6.0, 0.25])


def test_ctrl_c_stops_after_the_current_batch_and_keeps_a_consistent_model(ctr):
    d, _ = ctr
    t = SparseLRTrainer(20, "ftrl", batch_size=512)

    def interrupting():
        for i, chunk in enumerate(read_libsvm(d / "train.svm", 20)):
            if i == 2:
                os.kill(os.getpid(), signal.SIGINT)
            yield chunk

    previous = signal.getsignal(signal.SIGINT)
    hist = t.fit(interrupting, epochs=3, progress=False)
    assert signal.getsignal(signal.SIGINT) is previous  # handler restored
    assert len(hist) == 1 and hist[0].interrupted
    assert 0 < t.rows_seen == hist[0].rows < 60_000
    keys, w = t.nonzero_weights()
    assert np.isfinite(w).all() and len(keys) > 0


def test_a_batch_allocates_o_k_not_o_dims():
    dims_log2 = 22  # a 4M-weight model: 16 MiB per float32 array
    t = SparseLRTrainer(dims_log2, "ftrl")
    rng = np.random.default_rng(0)
    rows, per_row = 256, 20
    indices = rng.integers(0, 1 << dims_log2, rows * per_row)
    batch = Batch(
        np.arange(0, rows * per_row + 1, per_row),
        indices,
        None,
        rng.integers(0, 2, rows).astype(np.float32),
    )
    t.step(batch)
    tracemalloc.start()
    t.step(batch)
    t.predict_proba(batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2_000_000, peak  # ~5k touched features; one dense temporary would be 16 MiB


def test_cached_epochs_train_exactly_like_parsing_every_epoch(ctr, tmp_path):
    from miniflow.ml.cache import read_cache
    from miniflow.ml.source import DataSource

    d, _ = ctr
    a, b = SparseLRTrainer(20, batch_size=1024), SparseLRTrainer(20, batch_size=1024)
    src = DataSource(d / "train.svm", 20, cache=tmp_path / "c", block_rows=a.batch_size)
    a.fit(src, epochs=3, progress=False)
    b.fit(lambda: read_libsvm(d / "train.svm", 20), epochs=3, progress=False)
    assert src.cached
    blocks = list(read_cache(tmp_path / "c"))
    assert all(blk.keys is not None for blk in blocks)  # the trainer's de-duplication
    for blk in blocks[:5]:
        np.testing.assert_array_equal(blk.keys[blk.local], blk.indices)
        assert len(np.unique(blk.keys)) == len(blk.keys)
    test = blocks[0]
    np.testing.assert_array_equal(a.predict_proba(test), b.predict_proba(test))


@pytest.mark.parametrize("dedup_bits", [22, 6])
def test_dedup_gives_unique_keys_and_local_ids(dedup_bits):
    # 2^6 slots for 2^20 ids forces many collisions onto the sorting fallback.
    t = SparseLRTrainer(20, dedup_bits=dedup_bits)
    rng = np.random.default_rng(7)
    for n in (1, 50, 5000):
        ids = rng.integers(0, 1 << 20, n) % rng.integers(1, 1 << 20)  # many repeats
        keys, local = t._dedup(ids)
        assert len(np.unique(keys)) == len(keys) == len(np.unique(ids))
        np.testing.assert_array_equal(keys[local], ids)


def test_small_dedup_table_trains_the_same_model(ctr):
    d, _ = ctr
    chunks = list(read_libsvm(d / "train.svm", 20))[:4]
    a, b = (
        SparseLRTrainer(20, dtype=np.float64),
        SparseLRTrainer(20, dtype=np.float64, dedup_bits=8),
    )
    a.partial_fit(chunks)
    b.partial_fit([Batch(c.indptr, c.indices, c.values, c.labels) for c in chunks])
    np.testing.assert_allclose(b.predict_proba(chunks[0]), a.predict_proba(chunks[0]), rtol=1e-9)
