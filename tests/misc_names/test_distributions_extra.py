"""tf.distributions.Gamma, Beta, StudentT, Dirichlet, Multinomial and
DirichletMultinomial against numbers from real TensorFlow 2.21 (tf.compat.v1,
graph mode), written in below; graph and eager mode."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

NAN, INF = np.nan, np.inf
TF = {  # from TF 2.21 tf.compat.v1.distributions on the parameters of build() below
    "g_lp": [-0.2703785300254822, -1.7056660652160645, -1.2038151025772095],
    "g_mean": [0.5, 4.0, 1.75],
    "g_var": [0.5, 8.0, 0.875],
    "g_ent": [0.09060955047607422, 2.2703628540039062, 1.249934196472168],
    "g_mode": [NAN, 2.0, 1.25],
    "g_cdf": [0.5614219903945923, 0.20928236842155457, 0.7326639890670776],
    "b_lp": [-0.027933776378631592, 0.17847022414207458, 0.1627340316772461],
    "b_mean": [0.25, 0.7407407164573669, 0.6363636255264282],
    "b_var": [0.0625, 0.051903754472732544, 0.03560076281428337],
    "b_ent": [-0.5484176874160767, -0.404996395111084, -0.2986903190612793],
    "b_mode": [NAN, NAN, 0.7142857313156128],
    "b_cdf": [0.6607459783554077, 0.3585376739501953, 0.1788007766008377],
    "t_lp": [-1.287043571472168, -1.8679262399673462, -8.421939849853516],
    "t_mean": [NAN, 1.0, -2.0],
    "t_var": [NAN, INF, 0.4166666567325592],
    "t_ent": [2.816906452178955, 2.842805862426758, 0.9343545436859131],
    "t_mode": [0.0, 1.0, -2.0],
    "d_lp": [0.7717961072921753, 1.868720531463623],
    "d_mean": [
        [0.3571428656578064, 0.4761905074119568, 0.1666666716337204],
        [0.5, 0.1666666716337204, 0.3333333432674408],
    ],
    "d_var": [
        [0.04415227100253105, 0.04796789959073067, 0.02670940011739731],
        [0.035714291036129, 0.0198412723839283, 0.0317460335791111],
    ],
    "d_ent": [-1.1419001817703247, -1.2443442344665527],
    "d_cov": [
        [
            [0.04415227100253105, -0.032705388963222504, -0.011446885764598846],
            [-0.032705388963222504, 0.04796789959073067, -0.015262515284121037],
            [-0.011446885764598846, -0.015262515284121037, 0.02670940011739731],
        ],
        [
            [0.035714291036129, -0.011904763989150524, -0.02380952797830105],
            [-0.011904763989150524, 0.0198412723839283, -0.00793650932610035],
            [-0.02380952797830105, -0.00793650932610035, 0.0317460335791111],
        ],
    ],
    "d_mode": [[0.1428571492433548, 0.2857142984867096, 0.5714285969734192]],
    "m_lp": [-2.0393099784851074, -1.9076404571533203],
    "m_mean": [
        [1.0844347476959229, 0.6577429175376892, 3.257822036743164],
        [1.1038590669631958, 1.4900538921356201, 0.40608707070350647],
    ],
    "m_var": [
        [0.8492349982261658, 0.5712177753448486, 1.135141134262085],
        [0.6976907849311829, 0.7499670386314392, 0.35111817717552185],
    ],
    "m_cov": [
        [
            [0.8492349982261658, -0.1426558494567871, -0.7065790891647339],
            [-0.1426558643579483, 0.5712177753448486, -0.42856189608573914],
            [-0.7065790891647339, -0.42856186628341675, 1.135141134262085],
        ],
        [
            [0.6976907849311829, -0.5482698678970337, -0.14942096173763275],
            [-0.5482698678970337, 0.7499670386314392, -0.2016972005367279],
            [-0.14942096173763275, -0.2016972154378891, 0.35111817717552185],
        ],
    ],
    "m_probs": [
        [0.2168869525194168, 0.13154858350753784, 0.6515644192695618],
        [0.36795303225517273, 0.49668464064598083, 0.13536235690116882],
    ],
    "dm_lp": [-3.5949039459228516, -2.639057159423828],
    "dm_mean": [
        [1.4285714626312256, 1.9047620296478271, 0.6666666865348816],
        [2.0, 0.6666666865348816, 1.3333333730697632],
    ],
    "dm_var": [
        [1.4481947422027588, 1.5733474493026733, 0.8760684728622437],
        [1.428571343421936, 0.79365074634552, 1.269841194152832],
    ],
}
# TF's static sample shapes for the same distributions
TF_SHAPES = {
    "d_sample": [4, 2, 2, 3],
    "m_sample": [3, 2, 3],
    "dm_sample": [3, 2, 3],
    "g_sample": [2, 3],
    "b_sample": [5, 3],
    "t_sample": [2, 3],
}


def build():
    tfd = tf.distributions
    g = tfd.Gamma([0.5, 2.0, 3.5], [1.0, 0.5, 2.0])
    x = tf.constant([0.3, 1.7, 2.2])
    b = tfd.Beta([0.5, 2.0, 3.5], [1.5, 0.7, 2.0])
    xb = tf.constant([0.3, 0.7, 0.45])
    t = tfd.StudentT([0.8, 1.5, 5.0], [0.0, 1.0, -2.0], [1.0, 2.0, 0.5])
    d = tfd.Dirichlet([[1.5, 2.0, 0.7], [3.0, 1.0, 2.0]])
    xd = tf.constant([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    m = tfd.Multinomial(total_count=[5.0, 3.0], logits=[[0.1, -0.4, 1.2], [0.0, 0.3, -1.0]])
    c = tf.constant([[2.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    dm = tfd.DirichletMultinomial(total_count=4.0, concentration=[[1.5, 2.0, 0.7], [3.0, 1.0, 2.0]])
    out = dict(
        g_lp=g.log_prob(x),
        g_mean=g.mean(),
        g_var=g.variance(),
        g_ent=g.entropy(),
        g_mode=g.mode(),
        g_cdf=g.cdf(x),
        b_lp=b.log_prob(xb),
        b_mean=b.mean(),
        b_var=b.variance(),
        b_ent=b.entropy(),
        b_mode=b.mode(),
        b_cdf=b.cdf(xb),
        t_lp=t.log_prob(x),
        t_mean=t.mean(),
        t_var=t.variance(),
        t_ent=t.entropy(),
        t_mode=t.mode(),
        d_lp=d.log_prob(xd),
        d_mean=d.mean(),
        d_var=d.variance(),
        d_ent=d.entropy(),
        d_cov=d.covariance(),
        d_mode=tfd.Dirichlet([[1.5, 2.0, 3.0]]).mode(),
        m_lp=m.log_prob(c),
        m_mean=m.mean(),
        m_var=m.variance(),
        m_cov=m.covariance(),
        m_probs=m.probs,
        dm_lp=dm.log_prob(tf.constant([[2.0, 0.0, 2.0], [1.0, 1.0, 2.0]])),
        dm_mean=dm.mean(),
        dm_var=dm.variance(),
    )
    samples = dict(
        d_sample=d.sample([4, 2], seed=1),
        m_sample=m.sample(3, seed=1),
        dm_sample=dm.sample(3, seed=1),
        g_sample=g.sample([2], seed=1),
        b_sample=b.sample(5, seed=1),
        t_sample=t.sample(2, seed=1),
    )
    return out, samples, dict(d=d, m=m)


def _check(values):
    for key, want in TF.items():
        np.testing.assert_allclose(values[key], want, rtol=2e-5, atol=1e-6, err_msg=key)


def test_statistics_match_tf_graph_mode():
    with tf.Graph().as_default():
        out, samples, dists = build()
        for key, t in samples.items():
            assert t.shape.as_list() == TF_SHAPES[key], key
        assert dists["d"].batch_shape.as_list() == [2]
        assert dists["d"].event_shape.as_list() == [3]
        assert dists["m"].event_shape.as_list() == [3]
        with tf.Session() as sess:
            values, drawn = sess.run([out, samples])
    _check(values)
    for key, value in drawn.items():
        assert list(value.shape) == TF_SHAPES[key]
    np.testing.assert_allclose(drawn["d_sample"].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(drawn["m_sample"].sum(-1), [[5, 3]] * 3)
    np.testing.assert_array_equal(drawn["dm_sample"].sum(-1), [[4, 4]] * 3)
    assert np.all((drawn["b_sample"] > 0) & (drawn["b_sample"] < 1))
    assert np.all(drawn["g_sample"] > 0)


def test_statistics_match_tf_eager_mode():
    with tf.eager_mode():
        out, samples, _ = build()
        _check({k: v.numpy() for k, v in out.items()})
        for key, t in samples.items():
            assert list(t.numpy().shape) == TF_SHAPES[key]


def test_sample_moments():
    """Sample means near the analytic means (a check that samples follow the law)."""
    with tf.Graph().as_default():
        g = tf.distributions.Gamma(3.0, 2.0)
        b = tf.distributions.Beta(2.0, 5.0)
        t = tf.distributions.StudentT(5.0, 1.0, 2.0)
        m = tf.distributions.Multinomial(10.0, probs=[0.2, 0.3, 0.5])
        with tf.Session() as sess:
            gs, bs, ts, ms = sess.run(
                [
                    g.sample(20000, seed=3),
                    b.sample(20000, seed=4),
                    t.sample(20000, seed=5),
                    m.sample(5000, seed=6),
                ]
            )
    assert gs.mean() == pytest.approx(1.5, rel=0.03)
    assert bs.mean() == pytest.approx(2 / 7, rel=0.03)
    assert ts.mean() == pytest.approx(1.0, abs=0.08)
    np.testing.assert_allclose(ms.mean(0), [2.0, 3.0, 5.0], rtol=0.04)
