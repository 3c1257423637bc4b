"""`tf.distributions` (Normal, Uniform, Bernoulli, Categorical, KL), graph and eager.
Expected values marked "TF" were obtained from TensorFlow 2.21's `tf.compat.v1` in graph
mode and written here."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

D = tf.distributions


def _dists():
    return dict(
        n=D.Normal(loc=[0.0, 1.0], scale=[1.0, 2.0]),
        m=D.Normal(0.5, 1.5),
        b=D.Bernoulli(logits=[0.3, -1.2]),
        b2=D.Bernoulli(probs=[0.6, 0.1]),
        c=D.Categorical(logits=[[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]]),
        c2=D.Categorical(probs=[[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
        u=D.Uniform(low=[0.0, 1.0], high=[2.0, 5.0]),
    )


def _stats(d):
    n, b, c, u = d["n"], d["b"], d["c"], d["u"]
    return dict(
        n_lp=n.log_prob([0.5, -1.0]),
        n_cdf=n.cdf([0.5, -1.0]),
        n_ent=n.entropy(),
        n_mean=n.mean(),
        n_std=n.stddev(),
        n_prob=n.prob([0.5, -1.0]),
        kl_n=D.kl_divergence(n, d["m"]),
        b_lp=b.log_prob([1, 0]),
        b_ent=b.entropy(),
        b_mean=b.mean(),
        b_var=b.variance(),
        b_mode=b.mode(),
        kl_b=D.kl_divergence(b, d["b2"]),
        c_lp=c.log_prob([1, 2]),
        c_ent=c.entropy(),
        c_mode=c.mode(),
        kl_c=D.kl_divergence(c, d["c2"]),
        c_lp2=d["c2"].log_prob([[2], [0]]),
        u_lp=u.log_prob([1.0, 6.0]),
        u_cdf=u.cdf([1.0, 6.0]),
        u_ent=u.entropy(),
        u_mean=u.mean(),
        u_var=u.variance(),
    )


TF = dict(  # TF's values
    n_lp=[-1.0439385, -2.1120858],
    n_cdf=[0.69146246, 0.15865526],
    n_ent=[1.4189385, 2.1120858],
    n_mean=[0.0, 1.0],
    n_std=[1.0, 2.0],
    n_prob=[0.35206532, 0.12098535],
    kl_n=[0.18324286, 0.15676236],
    b_lp=[-0.55435526, -0.26328245],
    b_ent=[0.6820225, 0.5410527],
    b_mean=[0.5744426, 0.2314752],
    b_var=[0.2444583, 0.17789443],
    b_mode=[1, 0],
    kl_b=[0.00135184, 0.07291082],
    c_lp=[-0.4643688, -1.0986123],
    c_ent=[0.90595925, 1.0986123],
    c_mode=[1, 0],
    kl_c=[0.3201263, 0.51082563],
    c_lp2=[[-0.6931472, -0.22314355], [-1.609438, -2.3025851]],
    u_lp=[-0.6931472, -np.inf],
    u_cdf=[0.5, 1.0],
    u_ent=[0.6931472, 1.3862944],
    u_mean=[1.0, 3.0],
    u_var=[0.33333334, 1.3333334],
)


def test_statistics_match_tf_in_graph_mode():
    with tf.Graph().as_default(), tf.Session() as sess, np.errstate(divide="ignore"):
        got = sess.run(_stats(_dists()))
    for key, expected in TF.items():
        np.testing.assert_allclose(got[key], expected, rtol=2e-5, atol=1e-6, err_msg=key)
    assert got["b_mode"].dtype == np.int32 and got["c_mode"].dtype == np.int32


def test_statistics_match_tf_in_eager_mode():
    with tf.eager_mode(), np.errstate(divide="ignore"):
        got = {k: v.numpy() for k, v in _stats(_dists()).items()}
    for key, expected in TF.items():
        np.testing.assert_allclose(got[key], expected, rtol=2e-5, atol=1e-6, err_msg=key)


def test_shapes_and_types_match_tf():
    with tf.Graph().as_default():
        d = _dists()
        n, c, b = d["n"], d["c"], d["b"]
        # TF: (3, 2), (2,), (), (2,), (4, 2), (2, 5, 2); int32 samples; reparameterization
        assert n.sample(3, seed=1).shape.as_list() == [3, 2]
        assert n.batch_shape.as_list() == [2] and n.event_shape.as_list() == []
        assert c.batch_shape.as_list() == [2] and c.sample(4).shape.as_list() == [4, 2]
        assert b.sample([2, 5]).shape.as_list() == [2, 5, 2] and b.sample().dtype == tf.int32
        assert repr(n.reparameterization_type) == "<Reparameterization Type: FULLY_REPARAMETERIZED>"
        assert c.reparameterization_type is D.NOT_REPARAMETERIZED
        assert sorted(n.parameters) == ["allow_nan_stats", "loc", "name", "scale", "validate_args"]


def test_samples_follow_the_distributions():
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.set_random_seed(1)
        normal, bern, cat, unif = sess.run(
            [
                D.Normal(2.0, 3.0).sample(20000),
                D.Bernoulli(probs=0.3).sample(20000),
                D.Categorical(probs=[0.2, 0.8]).sample(20000),
                D.Uniform(1.0, 3.0).sample(20000),
            ]
        )
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    assert abs(bern.mean() - 0.3) < 0.02 and set(np.unique(bern)) == {0, 1}
    assert abs(cat.mean() - 0.8) < 0.02
    assert unif.min() >= 1.0 and unif.max() < 3.0 and abs(unif.mean() - 2.0) < 0.03


def test_normal_samples_are_reparameterized():
    with tf.Graph().as_default(), tf.Session() as sess:
        loc, scale = tf.constant(1.0), tf.constant(2.0)
        x = D.Normal(loc, scale).sample(5, seed=3)
        d_loc, d_scale, draw = sess.run(tf.gradients(tf.reduce_sum(x), [loc, scale]) + [x])
    eps_sum = (draw - 1.0).sum() / 2.0  # x = loc + scale * eps: d/dscale = sum(eps)
    assert d_loc == pytest.approx(5.0)
    assert d_scale == pytest.approx(eps_sum, rel=1e-5)


def test_kl_registry_and_parameter_errors():
    with tf.Graph().as_default():
        with pytest.raises(NotImplementedError, match="No KL"):
            D.kl_divergence(D.Normal(0.0, 1.0), D.Uniform())
        with pytest.raises(ValueError, match="probs or logits"):
            D.Bernoulli()
        with pytest.raises(ValueError, match="probs or logits"):
            D.Categorical(logits=[1.0], probs=[1.0])

        class MyNormal(D.Normal):
            pass

        # a subclass finds its base's KL, as in TF
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)) is not None
        with pytest.raises(ValueError, match="already been registered"):
            D.RegisterKL(D.Normal, D.Normal)(lambda a, b, name=None: None)


def test_exponential_and_laplace_match_tf_where_tf_follows_the_math():
    with tf.Graph().as_default(), tf.Session() as sess, np.errstate(divide="ignore"):
        e = D.Exponential(rate=[0.5, 2.0])
        lap = D.Laplace(loc=[0.0, 1.0], scale=[1.0, 0.5])
        got = sess.run(
            dict(
                e_lp=e.log_prob([1.0, -1.0]),
                e_cdf=e.cdf([1.0, 3.0]),
                e_ent=e.entropy(),
                e_mean=e.mean(),
                e_var=e.variance(),
                e_mode=e.mode(),
                l_lp=lap.log_prob([0.5, -1.0]),
                l_cdf=lap.cdf([0.5, -1.0]),
                l_ent=lap.entropy(),
                l_var=lap.variance(),
                l_mode=lap.mode(),
            )
        )
        tf.set_random_seed(2)
        e_draws, l_draws = sess.run(
            [D.Exponential(2.0).sample(20000), D.Laplace(1.0, 2.0).sample(20000)]
        )
    expected = dict(  # TF's values ...
        e_lp=[-1.1931472, -np.inf],
        e_cdf=[0.39346936, 0.9975212],
        e_ent=[1.6931472, 0.30685282],
        e_mean=[2.0, 0.5],
        e_var=[4.0, 0.25],
        e_mode=[0.0, 0.0],
        l_lp=[-1.1931472, -4.0],
        l_cdf=[0.69673467, 0.00915781],
        l_ent=[1.6931472, 1.0],
        l_var=[2.0, 0.5],
        l_mode=[0.0, 1.0],
    )
    # ... except two intended differences (docs/tf1_compat.md): TF evaluates the density
    # formula outside the support (log_prob(-1) = 2.693) and gives NaN for the mode
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=2e-5, atol=1e-6, err_msg=key)
    assert e_draws.min() > 0 and abs(e_draws.mean() - 0.5) < 0.02
    assert abs(l_draws.mean() - 1.0) < 0.1 and abs(l_draws.var() - 8.0) < 0.5
    assert D.Exponential(1.0).reparameterization_type is D.FULLY_REPARAMETERIZED
