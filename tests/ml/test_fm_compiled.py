"""The compiled FM/FFM step (miniflow.ml.fm_kernels) against the NumPy one it replaces.

Both paths compute gradients in float64 and keep the optimizer state in float32 (the
trainer's default). They sum the same terms in a different order, so a gradient can
differ in its last float64 bits and, after the cast to float32, by one float32 ulp
(6e-8 relative); FTRL's ``z`` accumulates such differences over steps. The tests allow
1e-5 relative (about 100 ulps) after several steps; the AUC of a whole run is equal to
four decimals (docs/ml.md). Where the gradients are equal the update rules give equal
bits (the SGD check with dyadic numbers).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import pytest

from miniflow.ml import compiled
from miniflow.ml.batch import Batch
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_data import parse_libffm
from miniflow.ml.fm_math import field_bits_for
from miniflow.ml.sparse_lr import SparseLRTrainer

pytestmark = pytest.mark.skipif(not compiled.available(), reason="needs numba ([fast])")


@contextmanager
def numba_switch(on: bool):
    old = os.environ.get(compiled.ENV)
    os.environ[compiled.ENV] = "0" if on else "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ[compiled.ENV]
        else:
            os.environ[compiled.ENV] = old


def random_batch(rng, n_rows, dims, max_len, fields=0, valued=True):
    lengths = rng.integers(0, max_len + 1, n_rows)
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    shift = dims - field_bits_for(fields) if fields else dims
    ids = rng.integers(0, 1 << shift, indptr[-1]).astype(np.int64)
    if fields:
        ids |= rng.integers(0, fields, len(ids)) << shift
    values = rng.normal(size=len(ids)).astype(np.float32) if valued else None
    return Batch(indptr, ids, values, (rng.random(n_rows) < 0.4).astype(np.float32))


def trainer(kind, optimizer, dims=9, fields=4, factors=3):
    return FMTrainer(
        dims, optimizer, model=kind, factors=factors, fields=fields if kind == "ffm" else None,
        lr=0.05, batch_size=10_000, seed=5, init_std=0.1,
    )  # fmt: skip


def state(t):
    return [t.opt.store._table.copy(), t.factor_opt.store._table.copy(), t.bias]


def test_the_switch_follows_the_environment():
    with numba_switch(True):
        assert compiled.enabled()
    with numba_switch(False):
        assert not compiled.enabled()


@pytest.mark.parametrize("kind", ["fm", "ffm"])
@pytest.mark.parametrize("optimizer", ["ftrl", "adagrad", "sgd"])
@pytest.mark.parametrize("valued", [False, True])
@pytest.mark.parametrize("factors", [3, 4])  # FFM's row loop has its own loops for k = 4
def test_compiled_steps_equal_numpy_steps_to_float32_rounding(kind, optimizer, valued, factors):
    rng = np.random.default_rng(11)
    # batches of changing sizes: the compiled step reuses its work arrays
    sizes = (40, 12, 40, 3, 25, 40)
    batches = [random_batch(rng, n, 9, 6, 4 if kind == "ffm" else 0, valued) for n in sizes]
    runs = {}
    for on in (False, True):
        t = trainer(kind, optimizer, factors=factors)
        with numba_switch(on):
            assert (t._rules is not None and compiled.enabled()) == on
            losses = [t.step(Batch(b.indptr, b.indices, b.values, b.labels)) for b in batches]
        runs[on] = (losses, state(t), t.factor_opt.step, t.opt.step)
    (l0, s0, *steps0), (l1, s1, *steps1) = runs[False], runs[True]
    np.testing.assert_allclose(l1, l0, rtol=1e-6)
    assert steps0 == steps1
    for a, b in zip(s0[:2], s1[:2], strict=True):
        assert np.count_nonzero(a) == np.count_nonzero(b)  # the same coordinates moved
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    assert s1[2] == pytest.approx(s0[2], rel=1e-6)


def test_compiled_sgd_update_is_bit_identical_when_gradients_are_exact():
    """Dyadic inputs: every gradient is exact in any summation order, so the two paths
    must agree to the bit (the update rules themselves do not differ)."""
    batch = Batch(
        np.array([0, 2, 3, 5]), np.array([1, 2, 2, 3, 1]),
        np.array([0.5, 1.0, 2.0, 0.25, 1.0], np.float32), np.array([1, 0, 1], np.float32),
    )  # fmt: skip
    tables = []
    for on in (False, True):
        t = FMTrainer(4, "sgd", factors=2, lr=0.125, factor_l2=0.0, init_std=0.0, seed=0)
        with numba_switch(on):
            t.step(batch)
            t.step(Batch(batch.indptr, batch.indices, batch.values, batch.labels))
        tables.append((t.opt.store._table.copy(), t.factor_opt.store._table.copy()))
    for a, b in zip(*tables, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dims", [6, 20])
def test_compiled_dedup_finds_the_unique_ids_and_their_occurrences(dims):
    rng = np.random.default_rng(dims)
    ids = rng.integers(0, 1 << dims, 5000).astype(np.int64)
    t = FMTrainer(dims)
    with numba_switch(True):
        keys, local = t._dedup(ids)
    want_keys, _ = SparseLRTrainer._dedup(t, ids)
    assert len(set(keys.tolist())) == len(keys)  # unique, and each occurrence points at its id
    np.testing.assert_array_equal(np.sort(keys), np.sort(want_keys))
    np.testing.assert_array_equal(keys[local], ids)
    assert local.dtype == np.int32


LIBFFM = (
    b"1 0:3:1 1:7:1 2:5:0.5\n"
    b"\n"
    b"0 3:1:2e-3   0:9:1\n"
    b"-1 1:2:-1.25 # a comment 1:2:3\n"
    b"1\n"
    b"+1 2:123456789012:1 0:0:1\n"
)


@pytest.mark.parametrize("fields,field_bits", [(0, 0), (4, 2)])
def test_compiled_libffm_parser_gives_the_numpy_batch(fields, field_bits):
    with numba_switch(False):
        want = parse_libffm(LIBFFM, 20, field_bits, fields)
    with numba_switch(True):
        got = parse_libffm(LIBFFM, 20, field_bits, fields)
    for name in ("indptr", "indices", "values", "labels"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert got.labels.tolist() == [1, 0, 0, 1, 1]


@pytest.mark.parametrize(
    "text,message",
    [
        (b"1 0:3\n", "is not field:index:value"),
        (b"1 0:3:1:1\n", "is not field:index:value"),
        (b"1 a:3:1\n", "non-negative integers"),
        (b"1 0:3:x\n", "x"),
        (b"1 0:3:1\n0 9:1:1\n", ">= the model's 4 fields"),
        (b"1 0:3:nan\n", "nan"),
    ],
)
def test_compiled_libffm_parser_leaves_errors_to_the_numpy_parser(text, message):
    errors = []
    for on in (False, True):
        with numba_switch(on), pytest.raises(ValueError, match=message) as e:
            parse_libffm(text, 20, 2, 4)
        errors.append((str(e.value), getattr(e.value, "line", None)))
    assert errors[0] == errors[1]
