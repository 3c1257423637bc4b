"""The shared update rules (core/update_rules.py): each rule against a scalar NumPy
reference written from TF's documented kernel formula, and the three paths that apply
them (a ``tf.train`` optimizer op in a Session, a ``miniflow.ml`` coordinate optimizer,
a ``miniflow.ps`` shard) giving bit-identical updates on the same inputs."""

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss

import miniflow as tf
from miniflow.core import update_rules as rules
from miniflow.ml.optimizers import OPTIMIZERS, make_optimizer
from miniflow.ps.shard import Shard, ShardConfig

RNG = np.random.default_rng(7)


# -- scalar references: the formulas of TF's raw_ops documentation, one element at a time
def ref_momentum(w, a, g, lr, mu, nesterov):
    a = mu * a + g
    return (w - (g * lr + a * mu * lr) if nesterov else w - lr * a), a


def ref_adagrad(w, a, g, lr):
    a = a + g * g
    return w - lr * g / math.sqrt(a), a


def ref_proximal(w, g, lr, l1, l2):
    v = w - lr * g
    return math.copysign(1.0, v) / (1 + lr * l2) * max(abs(v) - lr * l1, 0.0)


def ref_adam(w, m, v, g, lr, b1, b2, eps, t):
    lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return w - lr_t * m / (math.sqrt(v) + eps), m, v


def ref_ftrl(w, acc, lin, g, lr, l1, l2, shrink, p):
    """ApplyFtrlV2: the shrinkage term enters linear, not the accumulator."""
    g_shrink = g + 2 * shrink * w
    acc_new = acc + g * g
    lin = lin + g_shrink - (acc_new ** (-p) - acc ** (-p)) / lr * w
    quadratic = 1.0 / (acc_new**p * lr) + 2 * l2
    w = (math.copysign(l1, lin) - lin) / quadratic if abs(lin) > l1 else 0.0
    return w, acc_new, lin


def ref_rmsprop(w, ms, mom, mg, g, lr, rho, mu, eps, centered):
    ms = rho * ms + (1 - rho) * g * g
    if centered:
        mg = rho * mg + (1 - rho) * g
        mom = mu * mom + lr * g / math.sqrt(ms - mg * mg + eps)
    else:
        mom = mu * mom + lr * g / math.sqrt(ms + eps)
    return w - mom, ms, mom, mg


def _vec(n=7, scale=1.0):
    return RNG.normal(size=n) * scale


def _each(fn, *arrays):
    """Applies the scalar reference element-wise; returns one array per output."""
    outs = [
        fn(*(float(a[i]) if isinstance(a, np.ndarray) else a for a in arrays)) for i in range(7)
    ]
    return (
        [np.array(col) for col in zip(*outs, strict=True)]
        if isinstance(outs[0], tuple)
        else np.array(outs)
    )


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_matches_the_reference(nesterov):
    w, a, g = _vec(), _vec(), _vec()
    want_w, want_a = _each(lambda *x: ref_momentum(*x, 0.1, 0.9, nesterov), w, a, g)
    rules.momentum(w, a, g, 0.1, 0.9, nesterov)
    np.testing.assert_allclose(w, want_w, rtol=1e-13)
    np.testing.assert_allclose(a, want_a, rtol=1e-13)


def test_sgd_adagrad_and_proximal_rules_match_the_references():
    w, g = _vec(), _vec()
    want = w - 0.3 * g
    rules.sgd(w, g, 0.3)
    np.testing.assert_allclose(w, want, rtol=1e-15)
    a = np.abs(_vec()) + 0.1
    want_w, want_a = _each(lambda *x: ref_adagrad(*x, 0.2), w, a, g)
    rules.adagrad(w, a, g, 0.2)
    np.testing.assert_allclose(w, want_w, rtol=1e-13)
    np.testing.assert_allclose(a, want_a, rtol=1e-15)
    w[:2], g[:2] = 0.1, [0.1, -0.1]  # |w - lr g| under lr l1 = 0.15: zeroed
    got = rules.proximal_sgd(w, g, 0.5, 0.3, 0.2)
    np.testing.assert_allclose(got, _each(lambda *x: ref_proximal(*x, 0.5, 0.3, 0.2), w, g))
    assert (got == 0).any() and (got != 0).any()  # the l1 threshold really zeroes some
    a2 = a + g * g
    want = _each(lambda wi, gi, ai: ref_proximal(wi, gi, 0.4 / math.sqrt(ai), 0.2, 0.1), w, g, a2)
    rules.proximal_adagrad(w, a, g, 0.4, 0.2, 0.1)
    np.testing.assert_allclose(w, want, rtol=1e-13)


def test_sgd_scatter_applies_repeated_rows_one_after_another():
    w = np.zeros(4)
    rules.sgd_scatter(w, np.array([1, 3, 1]), np.array([1.0, 2.0, 4.0]), 0.5)
    np.testing.assert_array_equal(w, [0.0, -2.5, 0.0, -1.0])


@pytest.mark.parametrize("t", [1, 5])
def test_adam_matches_the_reference_with_scalar_and_per_element_powers(t):
    w, m, v, g = _vec(), _vec(), np.abs(_vec()), _vec()
    args = (0.01, 0.9, 0.999, 1e-8)
    want = _each(lambda *x: ref_adam(*x, *args, t), w, m, v, g)
    for powers in ((0.9**t, 0.999**t), (np.full(7, 0.9**t), np.full(7, 0.999**t))):
        got = [w.copy(), m.copy(), v.copy()]
        rules.adam(*got, g, *args, *powers)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize(
    "l1,l2,shrink,power", [(0.0, 0.0, 0.0, -0.5), (0.05, 0.1, 0.0, -0.5), (0.05, 0.1, 0.2, -0.3)]
)
def test_ftrl_matches_the_reference(l1, l2, shrink, power):
    w, acc, lin, g = _vec(scale=0.1), np.abs(_vec()) + 0.1, _vec(scale=0.1), _vec()
    want = _each(lambda *x: ref_ftrl(*x, 0.3, l1, l2, shrink, power), w, acc, lin, g)
    got = rules.ftrl(w, acc, lin, g, 0.3, l1, l2, shrink, power)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(rules.ftrl_weights(got[2], got[1], 0.3, l1, l2, power), got[0])


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_matches_the_reference_and_the_in_place_form(centered):
    w, ms, mom, mg, g = _vec(), np.abs(_vec()) + 1, _vec(), _vec(scale=0.1), _vec()
    hp = (0.01, 0.9, 0.5, 1e-10)
    want = _each(lambda *x: ref_rmsprop(*x, *hp, centered), w, ms, mom, mg, g)
    new_ms, new_mom, new_mg = rules.rmsprop(g, ms, mom, mg if centered else None, *hp)
    np.testing.assert_allclose(w - new_mom, want[0], rtol=1e-13)
    np.testing.assert_allclose(new_ms, want[1], rtol=1e-13)
    if centered:
        np.testing.assert_allclose(new_mg, want[3], rtol=1e-13)
        return
    f32 = [a.astype(np.float32) for a in (w, ms, mom, g)]
    rules.rmsprop_in_place(*f32, *hp)
    assert all(a.dtype == np.float32 for a in f32)
    np.testing.assert_allclose(f32[0], want[0], rtol=1e-5)


def test_rules_keep_float32():
    w, a, g = (np.abs(_vec()).astype(np.float32) + 0.1 for _ in range(3))
    lr = np.float32(0.1)
    for rule in (
        lambda: rules.momentum(w, a, g, lr, np.float32(0.9), True),
        lambda: rules.adagrad(w, a, g, lr, np.float32(1e-7)),
        lambda: rules.proximal_adagrad(w, a, g, lr, np.float32(0.1), np.float32(0.1)),
        lambda: rules.adam(w, a, a.copy(), g, lr, np.float32(0.9), np.float32(0.99), 1e-7, lr, lr),
    ):
        rule()
        assert w.dtype == a.dtype == np.float32
    out = rules.ftrl(w, a, g, g, lr, lr, lr, lr, -0.5)
    assert all(x.dtype == np.float32 for x in out)
    assert rules.proximal_sgd(w, g, lr, lr, lr).dtype == np.float32


# -- the sparse logistic-regression gradient -----------------------------------------------
def test_logistic_gradient_against_dense_algebra_sklearn_and_finite_differences():
    indptr = np.array([0, 2, 2, 5, 6])  # row 1 is empty
    local = np.array([0, 1, 2, 0, 3, 1])
    values = np.array([1.0, 0.5, 2.0, -1.0, 3.0, 0.25])
    y = np.array([1, 0, 1, 0], np.float32)
    w, bias = np.array([0.3, -0.2, 0.1, 0.05]), 0.4
    X = np.zeros((4, 4))
    for r in range(4):
        for j in range(indptr[r], indptr[r + 1]):
            X[r, local[j]] += values[j]
    margin = rules.sparse_margins(indptr, w[local], values, bias)
    np.testing.assert_allclose(margin, X @ w + bias, rtol=1e-15)
    d, loss = rules.logistic_loss(margin, y)
    p = 1 / (1 + np.exp(-(X @ w + bias)))
    assert loss == pytest.approx(log_loss(y, p, normalize=False), rel=1e-12)
    grads = rules.sparse_linear_gradient(d, indptr, local, 4, values)
    np.testing.assert_allclose(grads, X.T @ (p - y), rtol=1e-12)

    def total(wv):
        return rules.logistic_loss(rules.sparse_margins(indptr, wv[local], values, bias), y)[1]

    h = 1e-6
    fd = [(total(w + h * e) - total(w - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(grads, fd, rtol=1e-6)
    # all rows non-empty takes the reduceat path; it must agree with the bincount one
    full = np.array([0, 2, 5, 6])
    np.testing.assert_allclose(
        rules.sparse_margins(full, w[local], values, 0.0),
        [w[0] + 0.5 * w[1], 2 * w[2] - w[0] + 3 * w[3], 0.25 * w[1]],
        rtol=1e-15,
    )


# -- three paths, one rule ------------------------------------------------------------------
N = 12  # coordinates


def _steps(n_steps=4, dense=False):
    """(keys, float32 grads) per step: unique keys in random order, or all keys."""
    out = []
    for _ in range(n_steps):
        keys = np.arange(N) if dense else RNG.choice(N, size=5, replace=False)
        out.append((keys.astype(np.int64), RNG.normal(size=len(keys)).astype(np.float32)))
    return out


def _tf_path(make_tf_opt, steps, dtype, sparse):
    g = tf.Graph()
    with g.as_default():
        var = tf.Variable(np.zeros(N, dtype))
        vals = tf.placeholder(dtype, [None])
        idx = tf.placeholder(tf.int64, [None])
        grad = tf.IndexedSlices(vals, idx, tf.constant([N], tf.int64)) if sparse else vals
        train = make_tf_opt().apply_gradients([(grad, var)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for keys, gs in steps:
                if sparse:
                    sess.run(train, {vals: gs.astype(dtype), idx: keys})
                else:
                    dense = np.zeros(N, dtype)
                    dense[keys] = gs
                    sess.run(train, {vals: dense})
            return sess.run(var)


def _ml_path(name, hp, steps, dtype):
    opt = make_optimizer(name, N, dtype=dtype, **hp)
    for keys, gs in steps:
        opt.weights(keys)  # the trainer's pattern: pull, then push the same keys
        opt.update(keys, gs)
    return opt.weights(np.arange(N))


def _ps_path(name, hp, steps, dtype):
    reg = {k: hp.pop(k) for k in ("l1", "l2") if k in hp}
    cfg = ShardConfig(
        optimizer=name, hyperparameters=hp, dtype=np.dtype(dtype).name, sync=False, **reg
    )
    shard = Shard(cfg)
    for step, (keys, gs) in enumerate(steps):
        shard.pull(keys)
        shard.push(0, step, keys, gs)
    return shard.pull(np.arange(N))


# Hyperparameters exactly representable in float32: TF converts a Python number to a
# float32 tensor before casting it to the variable's dtype, so a float64 variable sees
# float64(float32(0.3)); with these values both paths see the same number.
FTRL_HP = dict(
    alpha=0.25, beta=0.5, l1=0.0625, l2=0.125, learning_rate_power=-0.5, initial_accumulator=0.125
)
FTRL_TF_L2 = (0.125 + 0.5 / 0.25) / 2  # ml's beta folds into TF's l2: (l2 + beta/alpha)/2
T = tf.train
# (ml name, ml hyperparameters, the same rule as a tf.train optimizer)
SHARED = {
    "sgd": ("sgd", dict(lr=0.25), lambda: T.GradientDescentOptimizer(0.25)),
    "proximal sgd": (
        "sgd",
        dict(lr=0.25, l1=0.0625, l2=0.125),
        lambda: T.ProximalGradientDescentOptimizer(0.25, 0.0625, 0.125),
    ),
    "momentum": (
        "momentum",
        dict(lr=0.125, momentum=0.875),
        lambda: T.MomentumOptimizer(0.125, 0.875),
    ),
    "nesterov": (
        "momentum",
        dict(lr=0.125, momentum=0.875, nesterov=True),
        lambda: T.MomentumOptimizer(0.125, 0.875, use_nesterov=True),
    ),
    "adagrad": (
        "adagrad",
        dict(lr=0.25, eps=0.0, initial_accumulator=0.125),
        lambda: T.AdagradOptimizer(0.25, initial_accumulator_value=0.125),
    ),
    "proximal adagrad": (
        "adagrad",
        dict(lr=0.25, eps=0.0, initial_accumulator=0.125, l1=0.03125, l2=0.0625),
        lambda: T.ProximalAdagradOptimizer(0.25, 0.125, 0.03125, 0.0625),
    ),
    "ftrl": (
        "ftrl",
        FTRL_HP,
        lambda: T.FtrlOptimizer(
            0.25,
            learning_rate_power=-0.5,
            initial_accumulator_value=0.125,
            l1_regularization_strength=0.0625,
            l2_regularization_strength=FTRL_TF_L2,
        ),
    ),
    "ftrl power shrinkage": (
        "ftrl",
        {**FTRL_HP, "learning_rate_power": -0.25, "l2_shrinkage": 0.25},
        lambda: T.FtrlOptimizer(
            0.25,
            learning_rate_power=-0.25,
            initial_accumulator_value=0.125,
            l1_regularization_strength=0.0625,
            l2_regularization_strength=FTRL_TF_L2,
            l2_shrinkage_regularization_strength=0.25,
        ),
    ),
    "adam": (
        "adam",
        dict(lr=0.05, beta1=0.9, beta2=0.99, eps=1e-7),
        lambda: T.AdamOptimizer(0.05, 0.9, 0.99, 1e-7),
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", list(SHARED))
def test_tf_ml_and_ps_paths_give_identical_updates(rule, dtype):
    name, hp, make_tf_opt = SHARED[rule]
    if rule == "adam" and dtype == np.float64:
        pytest.skip("TF keeps Adam's beta powers in float32 whatever the variable's dtype")
    # TF1's sparse Adam is not lazy (every row's moments decay), so Adam is compared on
    # steps that touch every key, where lazy and dense agree; the others on both kinds.
    for dense in (True,) if rule == "adam" else (False, True):
        steps = _steps(dense=dense)
        want = _tf_path(make_tf_opt, steps, dtype, sparse=not dense)
        assert np.count_nonzero(want) > N // 3  # the steps really moved the weights
        ml = _ml_path(name, dict(hp), steps, dtype)
        assert ml.dtype == dtype
        np.testing.assert_array_equal(ml, want, err_msg=f"ml {rule} dense={dense}")
        ps = _ps_path(name, dict(hp), steps, dtype)
        np.testing.assert_array_equal(ps, want.astype(np.float64), err_msg=f"ps {rule}")


def test_every_coordinate_optimizer_is_compared_with_tf():
    assert {SHARED[r][0] for r in SHARED} == set(OPTIMIZERS)


def test_lazy_adam_gives_a_late_key_its_full_first_step_like_tf_on_that_key_alone():
    opt = make_optimizer("adam", 3, lr=0.01, dtype=np.float32)
    for _ in range(5):
        opt.update(np.array([0]), np.array([1.0]))
    opt.update(np.array([2]), np.array([-7.0]))
    alone = _tf_path(
        lambda: T.AdamOptimizer(0.01), [(np.array([2]), np.float32([-7.0]))], np.float32, False
    )
    assert opt.weights(np.array([2]))[0] == alone[2] == pytest.approx(0.01, rel=1e-5)


@pytest.mark.parametrize(
    "name,hp,match",
    [
        ("ftrl", {"alpha": 0.0}, "alpha > 0"),
        ("ftrl", {"learning_rate_power": 0.5}, "learning_rate_power <= 0"),
        ("ftrl", {"l2_shrinkage": -1.0}, "l2_shrinkage"),
        ("adagrad", {"eps": 0.0}, "initial_accumulator > 0"),
        ("adagrad", {"lr": -1.0}, "lr > 0"),
        ("adam", {"beta1": 1.0}, "beta1"),
        ("sgd", {"lr": 0.0}, "lr must be > 0"),
        ("sgd", {"l1": -0.1}, "l1 must be >= 0"),
        ("momentum", {"l2": float("nan")}, "l2 must be >= 0"),
    ],
)
def test_bad_hyperparameters_are_refused_by_name(name, hp, match):
    with pytest.raises(ValueError, match=match):
        make_optimizer(name, 4, **hp)


def test_ftrl_without_beta_or_l2_reads_untouched_keys_as_zero_without_warnings():
    opt = make_optimizer("ftrl", 5, alpha=0.1, beta=0.0)
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(opt.weights(np.arange(5)), 0.0)
        opt.update(np.array([1]), np.array([0.0]))  # a zero gradient on a new key
        np.testing.assert_array_equal(opt.weights(np.arange(5)), 0.0)


def test_the_trainer_and_the_ps_worker_compute_the_same_lr_gradient():
    from miniflow.ml.data import parse_libsvm
    from miniflow.ml.sparse_lr import SparseLRTrainer
    from miniflow.ps.worker import gradient

    batch = parse_libsvm(b"1 3:1 7:0.5\n0 7:2 9:1\n1 9:-1.5\n0 1:1 3:1\n")
    keys, local = np.unique(batch.indices, return_inverse=True)
    w0 = np.array([0.2, -0.1, 0.3, 0.05])  # weights of keys 1, 3, 7, 9
    grads, bias_grad, loss = gradient(batch, local, len(keys), w0, 0.1)
    trainer = SparseLRTrainer(4, "sgd", lr=1.0, batch_size=4, dtype=np.float64)
    trainer.opt.store.put("w", keys, w0)
    trainer.bias_opt.store.put("w", np.zeros(1, np.int64), np.array([0.1]))
    assert trainer.step(batch) == loss
    np.testing.assert_array_equal(trainer.opt.weights(keys), w0 - grads)  # lr 1
    assert trainer.bias == 0.1 - bias_grad
