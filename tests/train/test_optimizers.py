"""Every optimizer against its update formula (TF1's documented rules), written out by
hand in NumPy below, for several dense and sparse steps; slots; in-place updates."""

import numpy as np
import pytest

import miniflow as tf

# -- reference updates: state is a dict of float64 arrays, g the (row-summed) gradient --


def ref_momentum(s, g, lr=0.125, momentum=0.875, nesterov=False):
    s["momentum"] = momentum * s["momentum"] + g
    if nesterov:
        s["var"] = s["var"] - (lr * g + lr * momentum * s["momentum"])
    else:
        s["var"] = s["var"] - lr * s["momentum"]


def ref_adagrad(s, g, lr=0.125):
    s["accumulator"] = s["accumulator"] + g * g
    s["var"] = s["var"] - lr * g / np.sqrt(s["accumulator"])


def ref_adadelta(s, g, lr=0.5, rho=0.875, eps=2.0**-20):
    s["accum"] = rho * s["accum"] + (1 - rho) * g * g
    update = np.sqrt(s["accum_update"] + eps) / np.sqrt(s["accum"] + eps) * g
    s["accum_update"] = rho * s["accum_update"] + (1 - rho) * update * update
    s["var"] = s["var"] - lr * update


def ref_rmsprop(s, g, lr=0.0625, decay=0.75, momentum=0.5, eps=2.0**-10, centered=False):
    s["rms"] = decay * s["rms"] + (1 - decay) * g * g
    if centered:
        s["mg"] = decay * s["mg"] + (1 - decay) * g
        denom = s["rms"] - s["mg"] ** 2 + eps
    else:
        denom = s["rms"] + eps
    s["momentum"] = momentum * s["momentum"] + lr * g / np.sqrt(denom)
    s["var"] = s["var"] - s["momentum"]


def ref_adam(s, g, lr=0.125, b1=0.75, b2=0.875, eps=2.0**-14, rows=None):
    s["t"] = s.get("t", 0) + 1
    t = s["t"]
    lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    if rows is None:
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
    else:  # TF1 sparse Adam: moments decay everywhere, gradient added on its rows
        s["m"] = b1 * s["m"]
        s["m"][rows] += (1 - b1) * g
        s["v"] = b2 * s["v"]
        s["v"][rows] += (1 - b2) * g * g
    s["var"] = s["var"] - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)


def ref_ftrl(s, g, lr=0.25, p=-0.5, l1=0.0625, l2=0.125, shrink=0.0):
    w, n = s["var"], s["accum"]
    n_new = n + g * g
    g_shrunk = g + 2 * shrink * w
    sigma = (n_new**-p - n**-p) / lr
    s["linear"] = s["linear"] + g_shrunk - sigma * w
    z = s["linear"]
    quad = n_new**-p / lr + 2 * l2
    s["var"] = np.where(np.abs(z) > l1, (np.sign(z) * l1 - z) / quad, 0.0)
    s["accum"] = n_new


# name -> (optimizer factory, reference, initial slot values, reference kwargs)
CASES = {
    "momentum": (
        lambda: tf.train.MomentumOptimizer(0.125, 0.875),
        ref_momentum,
        {"momentum": 0.0},
        {},
    ),
    "nesterov": (
        lambda: tf.train.MomentumOptimizer(0.125, 0.875, use_nesterov=True),
        ref_momentum,
        {"momentum": 0.0},
        {"nesterov": True},
    ),
    "adagrad": (
        lambda: tf.train.AdagradOptimizer(0.125, initial_accumulator_value=0.25),
        ref_adagrad,
        {"accumulator": 0.25},
        {},
    ),
    "adadelta": (
        lambda: tf.train.AdadeltaOptimizer(0.5, rho=0.875, epsilon=2.0**-20),
        ref_adadelta,
        {"accum": 0.0, "accum_update": 0.0},
        {},
    ),
    "rmsprop": (
        lambda: tf.train.RMSPropOptimizer(0.0625, decay=0.75, momentum=0.5, epsilon=2.0**-10),
        ref_rmsprop,
        {"rms": 1.0, "momentum": 0.0},
        {},
    ),
    "rmsprop_centered": (
        lambda: tf.train.RMSPropOptimizer(
            0.0625, decay=0.75, momentum=0.5, epsilon=2.0**-10, centered=True
        ),
        ref_rmsprop,
        {"rms": 1.0, "momentum": 0.0, "mg": 0.0},
        {"centered": True},
    ),
    "adam": (
        lambda: tf.train.AdamOptimizer(0.125, beta1=0.75, beta2=0.875, epsilon=2.0**-14),
        ref_adam,
        {"m": 0.0, "v": 0.0},
        {},
    ),
    "ftrl": (
        lambda: tf.train.FtrlOptimizer(
            0.25,
            l1_regularization_strength=0.0625,
            l2_regularization_strength=0.125,
            initial_accumulator_value=0.125,
        ),
        ref_ftrl,
        {"accum": 0.125, "linear": 0.0},
        {},
    ),
    "ftrl_power": (
        lambda: tf.train.FtrlOptimizer(
            0.25,
            learning_rate_power=-0.75,
            l1_regularization_strength=0.0625,
            l2_regularization_strength=0.125,
            initial_accumulator_value=0.125,
            l2_shrinkage_regularization_strength=0.25,
        ),
        ref_ftrl,
        {"accum": 0.125, "linear": 0.0},
        {"p": -0.75, "shrink": 0.25},
    ),
}

W0 = np.array(
    [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.1], [0.3, -0.4, 0.9], [1.1, 1.2, -1.3]]
)
rng = np.random.RandomState(0)
GRADS = [rng.randn(5, 3) for _ in range(3)]
SPARSE = [([3, 0, 3], rng.randn(3, 3)), ([1], rng.randn(1, 3)), ([0, 4, 4, 4], rng.randn(4, 3))]


def _build(make, dtype, sparse):
    """var, the fed gradient placeholders, the train op and the optimizer; the loss is
    linear in var so its gradient is exactly what is fed."""
    var = tf.Variable(W0.astype(dtype), name="w")
    g = tf.placeholder(dtype, [None, 3])
    if sparse:
        ids = tf.placeholder(tf.int64, [None])
        loss = tf.reduce_sum(tf.gather(var, ids) * g)
    else:
        ids = None
        loss = tf.reduce_sum(var * g)
    step = tf.train.get_or_create_global_step()
    opt = make()
    train = opt.minimize(loss, global_step=step)
    return var, g, ids, train, opt, step


def _state(init):
    s = {"var": W0.copy()}
    s.update({k: np.full_like(W0, v) for k, v in init.items()})
    return s


def _check(sess, opt, var, state, tol):
    np.testing.assert_allclose(sess.run(var), state["var"], rtol=tol, atol=tol)
    for name in opt.get_slot_names():
        np.testing.assert_allclose(
            sess.run(opt.get_slot(var, name)), state[name], rtol=tol, atol=tol, err_msg=name
        )


# Hyperparameters become float32 tensors cast to the variable's dtype (as in TF1); the
# ones above are exact in float32, so float64 variables match to rounding error.
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_dense_steps_match_formula(case, dtype, tol):
    make, ref, init, kw = CASES[case]
    tf.reset_default_graph()
    var, g, _, train, opt, step = _build(make, dtype, sparse=False)
    state = _state(init)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i, grad in enumerate(GRADS):
            sess.run(train, {g: grad.astype(dtype)})
            ref(state, grad, **kw)
            _check(sess, opt, var, state, tol)
            assert sess.run(step) == i + 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_steps_match_formula_on_touched_rows(case):
    make, ref, init, kw = CASES[case]
    tf.reset_default_graph()
    var, g, ids, train, opt, _ = _build(make, np.float64, sparse=True)
    state = _state(init)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for idx, vals in SPARSE:
            sess.run(train, {g: vals, ids: idx})
            rows, inverse = np.unique(idx, return_inverse=True)
            summed = np.zeros((len(rows), 3))
            np.add.at(summed, inverse, vals)  # duplicates add up before the update
            if ref is ref_adam:
                ref(state, summed, rows=rows, **kw)
            else:
                sub = {k: v[rows] for k, v in state.items()}
                ref(sub, summed, **kw)
                for k, v in sub.items():
                    state[k][rows] = v
            _check(sess, opt, var, state, 1e-12)


def test_slot_names_match_tensorflow():
    expect = {
        "momentum": ["momentum"],
        "adagrad": ["accumulator"],
        "adadelta": ["accum", "accum_update"],
        "rmsprop": ["momentum", "rms"],
        "rmsprop_centered": ["mg", "momentum", "rms"],
        "adam": ["m", "v"],
        "ftrl": ["accum", "linear"],
    }
    for case, names in expect.items():
        tf.reset_default_graph()
        var, _, _, _, opt, _ = _build(CASES[case][0], np.float32, sparse=False)
        assert opt.get_slot_names() == names
        for n in names:
            slot = opt.get_slot(var, n)
            assert slot.shape.as_list() == [5, 3] and not slot.trainable
        assert opt.get_slot(var, "nope") is None


def test_adam_beta_powers_advance_once_per_step():
    tf.reset_default_graph()
    var, g, _, train, opt, _ = _build(CASES["adam"][0], np.float32, sparse=False)
    b1, b2 = opt._get_beta_accumulators()
    assert b1.op.name == "beta1_power" and b2.op.name == "beta2_power"
    assert b1 in opt.variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {g: GRADS[0].astype(np.float32)})
        np.testing.assert_allclose(sess.run([b1, b2]), [0.75**4, 0.875**4], rtol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_updates_are_in_place(case):
    """The variable's buffer and its slots' buffers are the same arrays after steps."""
    tf.reset_default_graph()
    var, g, ids, train, opt, _ = _build(CASES[case][0], np.float32, sparse=False)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        slots = [var] + [opt.get_slot(var, n) for n in opt.get_slot_names()]
        before = [v._slot_in(sess).value for v in slots]
        sess.run(train, {g: GRADS[0].astype(np.float32)})
        after = [v._slot_in(sess).value for v in slots]
        assert all(a is b for a, b in zip(before, after))
        assert not np.allclose(after[0], W0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: tf.train.AdagradOptimizer(0.5),
        lambda: tf.train.FtrlOptimizer(0.5),
        lambda: tf.train.MomentumOptimizer(0.5, 0.9),
        lambda: tf.train.RMSPropOptimizer(0.5),
        lambda: tf.train.AdadeltaOptimizer(0.5),
        lambda: tf.train.GradientDescentOptimizer(0.5),
    ],
)
def test_sparse_step_on_embedding_touches_only_looked_up_rows(make):
    tf.reset_default_graph()
    table0 = np.random.RandomState(1).randn(50, 4).astype(np.float32)
    emb = tf.Variable(table0)
    ids = tf.placeholder(tf.int64, [None])
    loss = tf.reduce_sum(tf.square(tf.gather(emb, ids) - 1.0))
    opt = make()
    train = opt.minimize(loss)
    looked_up = [7, 3, 7, 42]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        slots0 = {n: sess.run(opt.get_slot(emb, n)) for n in opt.get_slot_names()}
        sess.run(train, {ids: looked_up})
        table1 = sess.run(emb)
        changed = np.flatnonzero(np.any(table1 != table0, axis=1))
        assert changed.tolist() == [3, 7, 42]
        for n, before in slots0.items():
            after = sess.run(opt.get_slot(emb, n))
            untouched = np.setdiff1d(np.arange(50), looked_up)
            np.testing.assert_array_equal(after[untouched], before[untouched], err_msg=n)


def test_minimize_var_list_and_global_step():
    tf.reset_default_graph()
    a = tf.Variable(1.0)
    b = tf.Variable(2.0)
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdagradOptimizer(0.1).minimize(a * a + b * b, var_list=[a], global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(train)
        assert sess.run(step) == 4
        assert sess.run(b) == 2.0
        assert sess.run(a) < 1.0


def test_compute_and_apply_gradients_separately_with_callable_learning_rate():
    tf.reset_default_graph()
    x = tf.Variable([1.0, -2.0])
    opt = tf.train.MomentumOptimizer(lambda: 0.5, 0.0)
    gv = opt.compute_gradients(tf.reduce_sum(x * x))
    train = opt.apply_gradients([(g * 2.0, v) for g, v in gv])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(x), [1 - 0.5 * 4, -2 + 0.5 * 8])


def test_bad_hyperparameters_raise_value_error():
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)


def test_sparse_index_out_of_range_is_invalid_argument():
    tf.reset_default_graph()
    v = tf.Variable(np.zeros((4, 2), np.float32))
    grad = tf.IndexedSlices(
        tf.constant(np.ones((1, 2), np.float32)), tf.constant([9], tf.int64), tf.constant([4, 2])
    )
    train = tf.train.AdagradOptimizer(0.1).apply_gradients([(grad, v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"9 .*out of range \[0, 4\)"):
            sess.run(train)


def test_uninitialized_slot_is_failed_precondition():
    tf.reset_default_graph()
    v = tf.Variable([1.0, 2.0])
    opt = tf.train.AdamOptimizer(0.1)
    train = opt.minimize(tf.reduce_sum(v * v))
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(train)


@pytest.mark.parametrize(
    "make", [lambda: tf.train.AdagradOptimizer(0.3), lambda: tf.train.GradientDescentOptimizer(0.3)]
)
def test_sparse_path_equals_dense_path_for_two_overlapping_lookups(make):
    """The gradient of two lookups is a concatenated IndexedSlices with repeated rows;
    for optimizers that leave zero-gradient rows alone, applying it sparsely must equal
    applying its densified form."""
    tables = []
    for densify in (False, True):
        tf.reset_default_graph()
        emb = tf.Variable(np.random.RandomState(5).randn(20, 3))
        a = tf.placeholder(tf.int64, [None])
        b = tf.placeholder(tf.int64, [None])
        loss = tf.reduce_sum(tf.sin(tf.gather(emb, a))) + tf.reduce_sum(
            tf.square(tf.gather(emb, b))
        )
        opt = make()
        (g,) = tf.gradients(loss, [emb])
        assert isinstance(g, tf.IndexedSlices)
        train = opt.apply_gradients([(tf.convert_to_tensor(g) if densify else g, emb)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for ids_a, ids_b in [([1, 2, 2], [2, 7]), ([7], [1, 1, 19]), ([0], [0])]:
                sess.run(train, {a: ids_a, b: ids_b})
            tables.append(sess.run(emb))
    np.testing.assert_allclose(tables[0], tables[1], rtol=1e-12, atol=1e-14)


def test_clipped_sparse_gradients_stay_sparse_through_apply():
    tf.reset_default_graph()
    emb = tf.Variable(np.ones((30, 2)))
    ids = tf.constant([3, 4])
    loss = tf.reduce_sum(tf.gather(emb, ids) * tf.constant([[3.0, 0.0], [0.0, 4.0]], tf.float64))
    opt = tf.train.GradientDescentOptimizer(1.0)
    grads, _ = tf.clip_by_global_norm([g for g, _ in opt.compute_gradients(loss, [emb])], 1.0)
    assert isinstance(grads[0], tf.IndexedSlices)
    train = opt.apply_gradients([(grads[0], emb)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        table = sess.run(emb)
    want = np.ones((30, 2))
    want[3, 0] -= 0.6
    want[4, 1] -= 0.8
    np.testing.assert_allclose(table, want)
