"""Factorization machines: exact gradients, sparse updates, AUC over LR, the saved model."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from miniflow.ml import metrics
from miniflow.ml.batch import Batch, concat_batches
from miniflow.ml.data import read_libsvm
from miniflow.ml.datagen import write_ctr
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_data import read_libffm
from miniflow.ml.fm_math import (
    factor_keys,
    ffm_interactions,
    field_bits_for,
    fm_interactions,
    initial_factors,
)
from miniflow.ml.fm_model import FMModel, load_fm_model
from miniflow.ml.sparse_lr import SparseLinearModel, SparseLRTrainer


@pytest.fixture(autouse=True)
def _both_paths(kernel_path):
    """Every test here runs on the NumPy step and on the compiled one (conftest)."""
    return kernel_path


# -- an independent, naive model: explicit loops over pairs ----------------------------------
def naive_margins(batch: Batch, w: dict, V: dict, b: float, fields: int, shift: int):
    """b + sum w_i x_i + sum_{a<c} <v, v'> x_a x_c. V: FM {id: vec}; FFM {(id, field): vec}."""
    out = []
    x_all = np.ones(batch.nnz) if batch.values is None else batch.values.astype(np.float64)
    for r in range(len(batch)):
        lo, hi = batch.indptr[r], batch.indptr[r + 1]
        ids, xs = batch.indices[lo:hi].tolist(), x_all[lo:hi].tolist()
        m = b + sum(w.get(i, 0.0) * x for i, x in zip(ids, xs, strict=True))
        for (ia, xa), (ic, xc) in itertools.combinations(zip(ids, xs, strict=True), 2):
            if fields:
                va, vc = V[(ia, ic >> shift)], V[(ic, ia >> shift)]
            else:
                va, vc = V[ia], V[ic]
            m += float(np.dot(va, vc)) * xa * xc
        out.append(m)
    return np.array(out)


def random_batch(rng, n_rows, dim, max_len, fields=0, shift=0):
    lengths = rng.integers(0, max_len + 1, n_rows)
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    ids = rng.integers(0, dim, indptr[-1]).astype(np.int64)
    if fields:
        ids = (rng.integers(0, fields, len(ids)) << shift) | (ids & ((1 << shift) - 1))
    values = rng.normal(size=len(ids)).astype(np.float32)
    labels = (rng.random(n_rows) < 0.4).astype(np.float32)
    return Batch(indptr, ids, values, labels)


def interactions(batch, kind, fields, shift):
    keys, local = np.unique(batch.indices, return_inverse=True)
    x = batch.values.astype(np.float64)
    if kind == "fm":
        return fm_interactions(batch.indptr, keys, local, x)
    return ffm_interactions(batch.indptr, keys, local, x, batch.indices >> shift, fields)


def row_dict(inter, V, kind, fields):
    if kind == "fm":
        return dict(zip(inter.rows.tolist(), V, strict=True))
    return {(int(r) // fields, int(r) % fields): v for r, v in zip(inter.rows, V, strict=True)}


# -- gradients ------------------------------------------------------------------------------
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(["fm", "ffm"]),
    k=st.integers(1, 4),
    max_len=st.integers(0, 6),
)
def test_pairwise_term_and_its_gradient_match_naive_loops_and_finite_differences(
    seed, kind, k, max_len
):
    rng = np.random.default_rng(seed)
    fields, shift = (3, 4) if kind == "ffm" else (0, 0)
    batch = random_batch(rng, 6, 12, max_len, fields, shift)  # ids repeat within rows
    inter = interactions(batch, kind, fields, shift)
    V = rng.normal(size=(len(inter.rows), k))
    got = inter.forward(V)
    want = naive_margins(batch, {}, row_dict(inter, V, kind, fields), 0.0, fields, shift)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)

    g = rng.normal(size=len(batch))  # any d loss / d margin
    grad = inter.backward(g)
    eps = 1e-6
    numeric = np.zeros_like(V)
    for idx in np.ndindex(*V.shape):
        Vp, Vm = V.copy(), V.copy()
        Vp[idx] += eps
        Vm[idx] -= eps
        numeric[idx] = (g @ inter.forward(Vp) - g @ inter.forward(Vm)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def factor_offsets(t: FMTrainer, rows: np.ndarray) -> np.ndarray:
    """The trainer's learned offsets ``v - v0`` of factor row keys, flat (zero for a row
    whose feature has no storage slot yet)."""
    slots = t.storage_rows(rows)
    out = np.zeros((len(rows), t.k))
    have = slots >= 0
    out[have] = t.factor_opt.weights(factor_keys(slots[have], t.k)).reshape(-1, t.k)
    return out.reshape(-1)


def _log_loss(batch, w, V, b, fields, shift):
    m = naive_margins(batch, w, V, b, fields, shift)
    y = batch.labels.astype(np.float64)
    return float(np.sum(np.logaddexp(0.0, m) - y * m))


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["fm", "ffm"]))
def test_trainer_step_applies_the_exact_log_loss_gradient(seed, kind):
    """SGD with lr=1: parameter change = -(d summed log loss / d parameter), checked by
    central differences of the naive model's loss."""
    rng = np.random.default_rng(seed)
    dims, k = 6, 3
    fields = 3 if kind == "ffm" else None
    shift = dims - field_bits_for(fields) if fields else 0
    t = FMTrainer(
        dims, "sgd", model=kind, factors=k, fields=fields, lr=1.0, factor_l2=0.0,
        init_std=0.5, seed=seed % 1000, batch_size=100, dtype=np.float64,
    )  # fmt: skip
    batch = random_batch(rng, 5, 1 << shift if fields else 1 << dims, 4, fields or 0, shift)
    keys = np.unique(batch.indices)
    inter = interactions(batch, kind, fields or 0, shift)
    fk = factor_keys(inter.rows, k)
    V0 = (initial_factors(fk, t.seed, t.init_std) + factor_offsets(t, inter.rows)).reshape(-1, k)
    w0, b0 = t.opt.weights(keys), t.bias
    t.step(batch)
    V1 = (initial_factors(fk, t.seed, t.init_std) + factor_offsets(t, inter.rows)).reshape(-1, k)
    grad_w, grad_V, grad_b = w0 - t.opt.weights(keys), V0 - V1, b0 - t.bias

    w = dict(zip(keys.tolist(), w0, strict=True))
    eps = 1e-6

    def loss(wd=w, V=V0, b=b0):
        return _log_loss(batch, wd, row_dict(inter, V, kind, fields or 0), b, fields or 0, shift)

    for j, key in enumerate(keys.tolist()):
        hi, lo = dict(w), dict(w)
        hi[key] += eps
        lo[key] -= eps
        assert grad_w[j] == pytest.approx((loss(hi) - loss(lo)) / (2 * eps), rel=1e-5, abs=1e-6)
    for idx in np.ndindex(*V0.shape):
        Vp, Vm = V0.copy(), V0.copy()
        Vp[idx] += eps
        Vm[idx] -= eps
        numeric = (loss(V=Vp) - loss(V=Vm)) / (2 * eps)
        assert grad_V[idx] == pytest.approx(numeric, rel=1e-5, abs=1e-6)
    assert grad_b == pytest.approx((loss(b=b0 + eps) - loss(b=b0 - eps)) / (2 * eps), rel=1e-5)


def test_initial_factors_are_seeded_standard_normals():
    z = initial_factors(np.arange(200_000), seed=7, std=1.0)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    np.testing.assert_array_equal(z[:100], initial_factors(np.arange(100), 7, 1.0))
    assert not np.allclose(z[:100], initial_factors(np.arange(100), 8, 1.0))


# -- sparse updates -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["fm", "ffm"])
@pytest.mark.parametrize("optimizer", ["ftrl", "adagrad", "sgd"])
def test_a_step_changes_only_the_active_rows_of_the_factor_tables(kind, optimizer):
    dims, k, fields = 8, 4, 4
    t = FMTrainer(
        dims, optimizer, model=kind, factors=k, fields=fields if kind == "ffm" else None,
        lr=0.05, batch_size=1000,
    )  # fmt: skip
    shift = dims - field_bits_for(fields) if kind == "ffm" else 0
    rng = np.random.default_rng(3)
    batch = random_batch(rng, 20, 1 << 6, 3, fields if kind == "ffm" else 0, shift)
    n_rows = (1 << dims) * (fields if kind == "ffm" else 1)
    all_factor_keys = np.arange(n_rows * k)
    t.step(random_batch(rng, 20, 1 << 6, 3, fields if kind == "ffm" else 0, shift))  # warm
    before = t.factor_opt.weights(all_factor_keys).copy()
    w_before = t.opt.weights(np.arange(1 << dims)).copy()
    t.step(batch)
    changed = np.flatnonzero(t.factor_opt.weights(all_factor_keys) != before)
    changed_rows = set((changed // k).tolist())  # rows of the table (storage rows)

    # FM: the row of every feature in the batch. FFM: row (i, F(j)) of every pair i, j
    # of features in one batch row.
    expected = set(batch.indices.tolist()) if kind == "fm" else set()
    for r in range(len(batch) if kind == "ffm" else 0):
        ids = batch.indices[batch.indptr[r] : batch.indptr[r + 1]].tolist()
        for a, c in itertools.permutations(range(len(ids)), 2):
            expected.add(ids[a] * fields + (ids[c] >> shift))
    expected = set(t.storage_rows(np.array(sorted(expected))).tolist())
    assert -1 not in expected  # every feature trained on has a slot
    assert changed_rows == expected
    assert len(changed) == len(expected) * k  # every factor of an active row, nothing else
    assert len(expected) < n_rows / 5
    w_changed = set(np.flatnonzero(t.opt.weights(np.arange(1 << dims)) != w_before).tolist())
    assert w_changed == set(batch.indices.tolist())


@pytest.mark.parametrize("kind", ["fm", "ffm"])
def test_factor_rows_are_stored_together_in_order_of_first_use(kind):
    """Features spread over the whole id space get table rows 0, 1, 2, ... in the
    order training first meets them (so memory is touched only for those rows); the
    mapping is invisible to prediction: an unseen feature's vector reads as zero."""
    dims, k, fields = 12, 4, 4
    t = FMTrainer(dims, model=kind, factors=k, fields=fields if kind == "ffm" else None)
    shift = dims - field_bits_for(fields) if kind == "ffm" else 0
    rng = np.random.default_rng(8)
    first = random_batch(rng, 30, 1 << (shift or dims), 4, fields if kind == "ffm" else 0, shift)
    t.step(first)
    order = list(dict.fromkeys(first.indices.tolist()))  # unique, in order of appearance
    n_seen = int(t.seen.sum())
    assert n_seen == len(order)
    assert sorted(t._factor_slot[order].tolist()) == list(range(1, n_seen + 1))
    for _ in range(3):
        t.step(
            random_batch(rng, 30, 1 << (shift or dims), 4, fields if kind == "ffm" else 0, shift)
        )
    n_seen = int(t.seen.sum())
    per_feature = (fields if kind == "ffm" else 1) * k
    table = t.factor_opt.store._table
    touched = np.flatnonzero(table.any(axis=1))
    assert touched.max() < n_seen * per_feature  # all state in the first rows
    unseen = np.flatnonzero(~t.seen)[:5]
    rows = unseen * fields if kind == "ffm" else unseen
    assert (t.storage_rows(rows) == -1).all()
    _, V = t._factors(rows, training=False)
    assert not V.any()


def test_a_pickled_trainer_predicts_as_the_original():
    """Pickling drops the compiled step's work arrays (not model state) and keeps the
    storage slots: the copy predicts what the original predicts."""
    fields = 4
    shift = 10 - field_bits_for(fields)
    rng = np.random.default_rng(4)
    t = FMTrainer(10, model="ffm", factors=4, fields=fields, batch_size=1000)
    for _ in range(2):
        t.step(random_batch(rng, 30, 1 << shift, 5, fields, shift))
    copy = pickle.loads(pickle.dumps(t))
    assert not hasattr(copy, "_scratch")
    test = random_batch(rng, 50, 1 << shift, 5, fields, shift)
    want = t.predict_proba(test)
    assert np.ptp(want) > 0  # factors and weights moved
    np.testing.assert_array_equal(copy.predict_proba(test), want)
    # and trains on as the original does (the store's views are rebuilt on unpickling)
    more = random_batch(rng, 30, 1 << shift, 5, fields, shift)
    t.step(more)
    copy.step(more)
    np.testing.assert_array_equal(copy.predict_proba(test), t.predict_proba(test))
    assert not np.array_equal(t.predict_proba(test), want)


# -- learning -------------------------------------------------------------------------------
CROSSED = {"fields": 8, "max_vocab": 500, "cross_rank": 4, "cross_sigma": 0.3}


@pytest.fixture(scope="module")
def crossed_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("crossed")
    info = write_ctr(d / "train.svm", 60_000, 16, seed=1, **CROSSED)
    test = write_ctr(d / "test.svm", 20_000, 16, seed=2, **CROSSED)
    write_ctr(d / "train.ffm", 60_000, 16, "libffm", seed=1, **CROSSED)
    write_ctr(d / "test.ffm", 20_000, 16, "libffm", seed=2, **CROSSED)
    return d, info, test


def _auc(trainer, batches):
    return trainer.evaluate(batches)["auc"]


def test_fm_and_ffm_beat_lr_on_crossed_ground_truth(crossed_data):
    d, _, test_info = crossed_data
    train = concat_batches(list(read_libsvm(d / "train.svm", 16)))
    test = concat_batches(list(read_libsvm(d / "test.svm", 16)))
    lr = SparseLRTrainer(16)
    lr.fit([train], epochs=2, progress=False)
    fm = FMTrainer(16, factors=4)
    fm.fit([train], epochs=2, progress=False)
    auc_lr, auc_fm = _auc(lr, [test]), _auc(fm, [test])
    ffm = FMTrainer(16, model="ffm", fields=8, factors=4)
    ffm_train = concat_batches(list(read_libffm(d / "train.ffm", 16, 3, 8)))
    ffm.fit([ffm_train], epochs=1, progress=False)
    auc_ffm = _auc(ffm, list(read_libffm(d / "test.ffm", 16, 3, 8)))
    # Measured: LR 0.683, FM 0.754, FFM 0.719, ground truth 0.785 (FFM has 7x the
    # parameters of the FM that generated the data, so it learns more slowly).
    assert auc_fm > auc_lr + 0.05, (auc_fm, auc_lr)
    assert auc_ffm > auc_lr + 0.02, (auc_ffm, auc_lr)
    assert auc_fm < test_info["ground_truth_auc"]


def test_without_crossed_effects_fm_is_no_worse_than_lr(tmp_path):
    write_ctr(tmp_path / "tr.svm", 30_000, 14, seed=1, fields=8, max_vocab=500)
    write_ctr(tmp_path / "te.svm", 10_000, 14, seed=2, fields=8, max_vocab=500)
    train = concat_batches(list(read_libsvm(tmp_path / "tr.svm", 14)))
    test = list(read_libsvm(tmp_path / "te.svm", 14))
    lr, fm = SparseLRTrainer(14), FMTrainer(14, factors=4)
    lr.fit([train], progress=False)
    fm.fit([train], progress=False)
    assert _auc(fm, test) > _auc(lr, test) - 0.01


def test_ground_truth_option_keeps_the_linear_truth_and_adds_pairs():
    from miniflow.ml.datagen import CTRGroundTruth

    plain = CTRGroundTruth.make(fields=4, max_vocab=50, model_seed=5)
    crossed = CTRGroundTruth.make(fields=4, max_vocab=50, model_seed=5, cross_rank=2)
    for a, b in zip(plain.weights, crossed.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    values, p, _ = crossed.sample(50, np.random.default_rng(0))
    m = crossed.bias + sum(crossed.weights[f][values[:, f]] for f in range(4))
    for f, g in itertools.combinations(range(4), 2):
        u, v = crossed.factors[f][values[:, f]], crossed.factors[g][values[:, g]]
        m = m + np.sum(u * v, axis=1)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-m)), rtol=1e-12)


# -- the saved model ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["fm", "ffm"])
def test_saved_model_predicts_what_the_trainer_predicts(tmp_path, kind):
    rng = np.random.default_rng(0)
    fields = 4 if kind == "ffm" else None
    shift = 10 - field_bits_for(4) if fields else 0
    t = FMTrainer(10, model=kind, fields=fields, factors=3, batch_size=64)
    data = [random_batch(rng, 500, 1 << 7, 6, fields or 0, shift) for _ in range(3)]
    t.fit(data, progress=False)
    unseen = random_batch(rng, 200, 1 << 10, 6, fields or 0, shift)
    t.to_model({"note": "x"}).save(tmp_path / "m")
    model = load_fm_model(tmp_path / "m")
    assert model.kind == kind and model.k == 3 and model.meta["note"] == "x"
    for batch in (data[0], unseen):
        np.testing.assert_allclose(model.predict_proba(batch), t.predict_proba(batch), rtol=1e-5)
    # the model's own numbers through the naive loops
    lin = dict(zip(model.linear.keys.tolist(), model.linear.weights.tolist(), strict=True))
    rows = dict(zip(model.row_keys.tolist(), model.factors.astype(np.float64), strict=True))
    if kind == "fm":
        V = {i: rows.get(i, np.zeros(3)) for i in range(1 << 10)}
    else:
        V = {(i, f): rows.get(i * 4 + f, np.zeros(3)) for i in range(1 << 10) for f in range(4)}
    want = naive_margins(data[1], lin, V, model.bias, fields or 0, shift)
    np.testing.assert_allclose(model.decision_function(data[1]), want, rtol=1e-6, atol=1e-6)


def test_load_refuses_other_formats_and_newer_versions(tmp_path):
    SparseLinearModel([1], [0.5], 0.1, 4).save(tmp_path / "lr")
    with pytest.raises(ValueError, match="expected 'miniflow.sparse_fm'"):
        load_fm_model(tmp_path / "lr")
    linear = SparseLinearModel([1], [0.5], 0.1, 4)
    FMModel(linear, [1], np.ones((1, 2))).save(tmp_path / "fm")
    meta = (tmp_path / "fm" / "model.json").read_text().replace('"version": 1', '"version": 9')
    (tmp_path / "fm" / "model.json").write_text(meta)
    with pytest.raises(ValueError, match="upgrade miniflow"):
        load_fm_model(tmp_path / "fm")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="needs fields"):
        FMTrainer(10, model="ffm")
    with pytest.raises(ValueError, match="'fm' or 'ffm'"):
        FMTrainer(10, model="fwfm")
    with pytest.raises(ValueError, match="factors must be >= 1"):
        FMTrainer(10, factors=0)
    with pytest.raises(ValueError, match="no bits for feature ids"):
        FMTrainer(3, model="ffm", fields=16)
    with pytest.raises(ValueError, match="lower dims_log2"):
        FMTrainer(30, model="ffm", fields=64, factors=16)
    t = FMTrainer(8, model="ffm", fields=3)  # 2 field bits: field 3 does not exist
    bad = Batch(np.array([0, 2]), np.array([1, (3 << 6) | 5]), None, np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="has field 3 >= fields=3"):
        t.step(bad)


def test_empty_rows_and_single_feature_rows_have_no_pairwise_term():
    t = FMTrainer(8, factors=2, init_std=1.0, batch_size=10)
    b = Batch(np.array([0, 0, 1, 1]), np.array([5]), None, np.array([1, 0, 1], np.float32))
    loss = t.step(b)
    assert math.isfinite(loss)
    p = t.predict_proba(b)
    assert p[0] == pytest.approx(p[2]) == pytest.approx(1 / (1 + math.exp(-t.bias)))
    assert metrics.log_loss([1, 0], p[:2]) > 0
