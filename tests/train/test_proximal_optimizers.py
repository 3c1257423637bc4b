"""ProximalGradientDescent, ProximalAdagrad and AdagradDA follow TF1's update rules:
three steps, dense and sparse (repeated row) gradients, compared with numbers printed
by real TensorFlow 2.x (`tf.compat.v1`, graph mode) running the same program; eager mode
gives the same numbers as graph mode."""

import numpy as np
import pytest

import miniflow as tf

W0 = [[0.5, -0.3], [0.1, 0.8], [-0.7, 0.2]]
COEF = [[1.0, -2.0], [0.5, 3.0], [0.25, 0.1]]

MAKERS = {
    "pgd": lambda gs: tf.train.ProximalGradientDescentOptimizer(0.1, 0.05, 0.2),
    "pgd_no_l1": lambda gs: tf.train.ProximalGradientDescentOptimizer(0.1, 0.0, 0.2),
    "pada": lambda gs: tf.train.ProximalAdagradOptimizer(0.1, 0.1, 0.05, 0.2),
    "pada_plain": lambda gs: tf.train.ProximalAdagradOptimizer(0.1, 0.2, 0.0, 0.0),
    "da": lambda gs: tf.train.AdagradDAOptimizer(0.1, gs, 0.1, 0.05, 0.2),
    "da_no_l1": lambda gs: tf.train.AdagradDAOptimizer(0.1, gs, 0.3, 0.0, 0.1),
}

# From TensorFlow 2.x tf.compat.v1 (graph mode), /tmp script: 3 x minimize(global_step=gs).
TF_DENSE = {
    "pgd": [
        [-0.0, -1.1721529960632324],
        [-0.1791335791349411, -0.09724579006433487],
        [-0.8262216448783875, -0.10026649385690689],
    ],
    "pgd_no_l1": [
        [0.00599317392334342, -1.1930179595947266],
        [-0.1921772062778473, -0.10331622511148453],
        [-0.8399413824081421, -0.10535313934087753],
    ],
    "pada": [
        [0.26901885867118835, -0.52552729845047],
        [-0.11019211262464523, 0.5740219354629517],
        [-0.8386077880859375, -0.0270235538482666],
    ],
    "pada_plain": [
        [0.2840877175331116, -0.5380859375],
        [-0.1091158390045166, 0.5812325477600098],
        [-0.8936628699302673, -0.014015302062034607],
    ],
    "da": [
        [-0.14423112571239471, -0.16047456860542297],
        [-0.15501606464385986, -0.10912664234638214],
        [-0.1513500064611435, -0.1564510613679886],
    ],
    "da_no_l1": [
        [-0.14958961308002472, -0.16526831686496735],
        [-0.1609741449356079, -0.11168666929006577],
        [-0.15741834044456482, -0.16237826645374298],
    ],
}
TF_SPARSE = {
    "pgd": [
        [0.09625635296106339, 0.2602449357509613],
        [0.1, 0.8],
        [-0.7894003987312317, -0.6622811555862427],
    ],
    "pgd_no_l1": [
        [0.11067575961351395, 0.2652411162853241],
        [0.1, 0.8],
        [-0.8038198351860046, -0.6767005324363708],
    ],
    "pada": [
        [0.2554084360599518, -0.064357690513134],
        [0.1, 0.8],
        [-0.8194566369056702, -0.03012462705373764],
    ],
    "pada_plain": [
        [0.2807520925998688, -0.07569967210292816],
        [0.1, 0.8],
        [-0.8855959177017212, -0.026750531047582626],
    ],
    "da": [
        [-0.16013981401920319, 0.16488143801689148],
        [0.1, 0.8],
        [-0.13748091459274292, -0.16806672513484955],
    ],
    "da_no_l1": [
        [-0.1656893938779831, 0.1693321317434311],
        [0.1, 0.8],
        [-0.14222121238708496, -0.17126740515232086],
    ],
}


def _loss(w, sparse):
    if sparse:  # rows 0, 2, 0: a repeated index exercises the duplicate-row sum
        return tf.reduce_sum(tf.gather(w, [0, 2, 0]) * [[1.0, -2.0], [0.5, 3.0], [0.25, 0.1]])
    return tf.reduce_sum(w * w * COEF + w)


def _graph(case, sparse):
    tf.reset_default_graph()
    gs = tf.Variable(0, dtype=tf.int64, name="gs")
    w = tf.Variable(W0, dtype=tf.float32)
    op = MAKERS[case](gs).minimize(_loss(w, sparse), global_step=gs)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for _ in range(3):
            s.run(op)
        return s.run(w), s.run(gs)


def _eager(case, sparse):
    with tf.eager_mode():
        gs = tf.Variable(0, dtype=tf.int64)
        w = tf.Variable(W0, dtype=tf.float32)
        opt = MAKERS[case](gs)
        for _ in range(3):
            opt.minimize(lambda: _loss(w, sparse), var_list=[w], global_step=gs)
        return w.numpy(), gs.numpy()


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("case", sorted(MAKERS))
def test_three_steps_match_tensorflow(case, sparse):
    want = (TF_SPARSE if sparse else TF_DENSE)[case]
    got, step = _graph(case, sparse)
    assert got.dtype == np.float32 and step == 3
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    eager, step = _eager(case, sparse)
    assert step == 3
    np.testing.assert_allclose(eager, got, rtol=1e-6, atol=1e-7)


def test_slots_and_validation():
    tf.reset_default_graph()
    gs = tf.train.get_or_create_global_step()
    w = tf.Variable(W0)
    da = tf.train.AdagradDAOptimizer(0.1, gs)
    da.minimize(tf.reduce_sum(w), global_step=gs)
    assert sorted(da.get_slot_names()) == ["gradient_accumulator", "gradient_squared_accumulator"]
    pada = tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.5)
    pada.minimize(tf.reduce_sum(w))
    assert pada.get_slot_names() == ["accumulator"]
    assert pada.get_slot(w, "accumulator").op.name == "Variable/ProximalAdagrad"
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_allclose(s.run(pada.get_slot(w, "accumulator")), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value"):
        tf.train.AdagradDAOptimizer(0.1, gs, initial_gradient_squared_accumulator_value=-1.0)
