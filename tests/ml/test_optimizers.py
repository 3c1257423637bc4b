"""Per-coordinate optimizers against hand-computed updates and a scalar reference FTRL."""

import math

import numpy as np
import pytest

from miniflow.ml.optimizers import (
    CoordinateAdagrad,
    CoordinateAdam,
    CoordinateFTRL,
    CoordinateMomentum,
    CoordinateSGD,
    DenseStore,
    HashStore,
    make_optimizer,
)

KEYS = np.array([1, 4], np.int64)
G = np.array([0.5, -2.0])


def test_sgd_step_by_hand():
    opt = CoordinateSGD(6, lr=0.1, l2=0.5)
    opt.store.put("w", KEYS, np.array([1.0, -1.0]))
    opt.update(KEYS, G)
    # TF's proximal step (w - lr g) / (1 + lr l2): (1 - 0.05) / 1.05 ; (-1 + 0.2) / 1.05
    np.testing.assert_allclose(opt.weights(KEYS), [0.95 / 1.05, -0.8 / 1.05])
    np.testing.assert_array_equal(opt.weights(np.array([0, 2, 3, 5])), 0.0)  # untouched


def test_sgd_l1_soft_threshold_and_schedule():
    opt = CoordinateSGD(3, lr=1.0, l1=0.3, schedule="invscaling", power_t=0.5)
    opt.update(np.array([0, 1]), np.array([-0.2, -1.0]))  # step 1: lr 1
    # w = 0.2 -> max(0.2 - 0.3, 0) = 0 ; w = 1.0 -> 0.7
    np.testing.assert_allclose(opt.weights(np.array([0, 1])), [0.0, 0.7])
    opt.update(np.array([1]), np.array([0.0]))  # step 2: lr 1/sqrt(2), only l1 shrinks
    assert opt.weights(np.array([1]))[0] == pytest.approx(0.7 - 0.3 / math.sqrt(2))


def test_momentum_two_steps_by_hand():
    opt = CoordinateMomentum(2, lr=0.1, momentum=0.9)
    k = np.array([0])
    opt.update(k, np.array([1.0]))  # v = -0.1, w = -0.1
    opt.update(k, np.array([1.0]))  # v = 0.9*-0.1 - 0.1 = -0.19, w = -0.29
    assert opt.weights(k)[0] == pytest.approx(-0.29)


def test_adagrad_two_steps_by_hand():
    opt = CoordinateAdagrad(2, lr=0.5, eps=1e-12)
    k = np.array([1])
    opt.update(k, np.array([3.0]))  # n = 9, w = -0.5*3/3 = -0.5
    opt.update(k, np.array([4.0]))  # n = 25, w = -0.5 - 0.5*4/5 = -0.9
    assert opt.weights(k)[0] == pytest.approx(-0.9)


def test_adam_first_step_is_lr_times_sign():
    opt = CoordinateAdam(3, lr=0.01)
    opt.update(KEYS[:1], np.array([123.0]))  # bias-corrected m/sqrt(v) = 1 on step 1
    assert opt.weights(KEYS[:1])[0] == pytest.approx(-0.01, rel=1e-6)
    # Lazy per-key step count: a key first touched later also gets a full first step.
    for _ in range(5):
        opt.update(np.array([0]), np.array([1.0]))
    opt.update(np.array([2]), np.array([-7.0]))
    assert opt.weights(np.array([2]))[0] == pytest.approx(0.01, rel=1e-6)


def _ftrl_reference(grads_per_step, alpha, beta, l1, l2):
    """McMahan et al. 2013, Algorithm 1, one scalar coordinate at a time."""
    z, n = {}, {}

    def weight(i):
        zi, ni = z.get(i, 0.0), n.get(i, 0.0)
        if abs(zi) <= l1:
            return 0.0
        return -(zi - math.copysign(l1, zi)) / ((beta + math.sqrt(ni)) / alpha + l2)

    for step in grads_per_step:
        for i, g in step.items():
            w = weight(i)
            sigma = (math.sqrt(n.get(i, 0.0) + g * g) - math.sqrt(n.get(i, 0.0))) / alpha
            z[i] = z.get(i, 0.0) + g - sigma * w
            n[i] = n.get(i, 0.0) + g * g
    return weight


@pytest.mark.parametrize("store", ["dense", "hash"])
def test_ftrl_matches_scalar_reference(store):
    rng = np.random.default_rng(0)
    hp = {"alpha": 0.3, "beta": 1.0, "l1": 0.2, "l2": 0.5}
    steps = []
    for _ in range(50):
        keys = rng.choice(10_000, size=20, replace=False)
        steps.append(dict(zip(keys.tolist(), rng.normal(size=20).tolist(), strict=True)))
    ref = _ftrl_reference(steps, **hp)
    kw = {"store": HashStore(CoordinateFTRL.slots)} if store == "hash" else {}
    opt = CoordinateFTRL(None if kw else 10_000, dtype=np.float64, **kw, **hp)
    for s in steps:
        opt.update(np.array(list(s)), np.array(list(s.values())))
    touched = np.array(sorted({k for s in steps for k in s}))
    expected = np.array([ref(i) for i in touched])
    np.testing.assert_allclose(opt.weights(touched), expected, rtol=1e-12, atol=1e-15)
    assert (expected == 0).any() and (expected != 0).any()  # l1 really zeroes some weights


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "adam", "ftrl"])
def test_hash_store_equals_dense_store_on_a_huge_key_space(name):
    rng = np.random.default_rng(1)
    dense = make_optimizer(name, 1000, l2=0.1)
    mapping = rng.choice(2**40, size=1000, replace=False)  # dense key k <-> sparse key
    sparse = make_optimizer(name, store=HashStore(type(dense).slots), l2=0.1)
    for _ in range(30):
        keys = rng.choice(1000, size=50, replace=False)
        g = rng.normal(size=50)
        dense.update(keys, g)
        sparse.update(mapping[keys], g)
    np.testing.assert_allclose(sparse.weights(mapping), dense.weights(np.arange(1000)), rtol=1e-12)
    assert len(sparse.store) <= 1000
    keys, _ = sparse.store.items(next(iter(type(dense).slots)))
    assert set(keys.tolist()) <= set(mapping.tolist())


def test_repeated_keys_with_equal_gradients_update_once():
    a, b = CoordinateFTRL(10, alpha=0.5), CoordinateFTRL(10, alpha=0.5)
    a.update(np.array([3, 7]), np.array([1.5, -1.0]))
    b.update(np.array([3, 7, 3, 3]), np.array([1.5, -1.0, 1.5, 1.5]))
    np.testing.assert_array_equal(a.weights(np.arange(10)), b.weights(np.arange(10)))


def test_dense_store_memory_and_errors():
    s = DenseStore(1 << 20, CoordinateFTRL.slots, np.float32)
    assert s.nbytes == 2 * 4 * (1 << 20)
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", 10)
    with pytest.raises(ValueError, match="dim="):
        CoordinateFTRL()
    with pytest.raises(ValueError, match="schedule"):
        CoordinateSGD(3, schedule="cosine")


@pytest.mark.parametrize(
    "slots,dtype",
    [
        ({"z": 0.0, "n": 0.5}, np.float32),
        ({"z": 0.0, "n": 0.0}, np.float64),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, np.float32),
    ],
)
def test_dense_store_rows_agree_with_per_slot_access(slots, dtype):
    s = DenseStore(100, slots, dtype)
    keys = np.array([3, 50, 99])
    names = tuple(slots)
    for name, got in zip(names, s.get_many(names, keys), strict=True):
        np.testing.assert_array_equal(got, slots[name])  # initial values
    s.put_many(names, keys, [np.arange(3) + 10 * j for j in range(len(names))])
    for j, name in enumerate(names):
        np.testing.assert_array_equal(s.get(name, keys), np.arange(3) + 10 * j)
        np.testing.assert_array_equal(s.get(name, np.array([4])), slots[name])  # untouched
    s.put(names[0], np.array([50]), np.array([-1.0]))
    assert s.get_many(names, np.array([50]))[0][0] == -1.0


@pytest.mark.parametrize("slots", [{"z": 0.0, "n": 0.0}, {"a": 1.0, "b": 0.0, "c": 2.0}])
def test_an_unpickled_dense_store_writes_to_its_own_table(slots):
    """Pickled views come back as copies; the store rebuilds them on unpickling, so
    puts after a round trip reach the table that gets and the model read."""
    import pickle

    s = DenseStore(50, slots, np.float32)
    keys = np.array([3, 7, 3 + 40])
    s.put_many(tuple(slots), keys, [np.full(3, i + 1.5, np.float32) for i in range(len(slots))])
    t = pickle.loads(pickle.dumps(s))
    names = tuple(slots)
    for j, name in enumerate(names):
        np.testing.assert_array_equal(t.get(name, keys), np.full(3, j + 1.5, np.float32))
    t.put(names[0], np.array([9]), np.array([-4.0], np.float32))
    t.put_many(names, np.array([11]), [np.array([8.0 + j], np.float32) for j in range(len(names))])
    assert t.array(names[0])[9] == -4.0 and t.get_many(names, np.array([9]))[0][0] == -4.0
    for j, name in enumerate(names):
        assert t.array(name)[11] == 8.0 + j and t.get(name, np.array([11]))[0] == 8.0 + j
        assert t.array(name)[0] == slots[name]  # untouched keys keep the initial value
    assert s.get(names[0], np.array([9]))[0] == slots[names[0]]  # the original is apart
