"""The NumPy special functions against scipy.special (float64, ~1e-11 relative)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import miniflow as tf

rng = np.random.default_rng(0)
POS = np.concatenate([rng.uniform(0.01, 30, 300), 10 ** rng.uniform(-6, 3, 100)])
REAL = np.concatenate([rng.uniform(-20, 20, 300), [0.5, -2.5, 1e-8]])


def _run(fn, *args):
    with tf.eager_mode():
        return fn(*[tf.constant(np.asarray(a, np.float64)) for a in args]).numpy()


@pytest.mark.parametrize(
    "name,fn,ref,args,rtol",
    [
        ("lgamma", tf.math.lgamma, sp.gammaln, (REAL,), 1e-11),
        ("digamma", tf.math.digamma, sp.digamma, (REAL[REAL != np.round(REAL)],), 1e-10),
        (
            "polygamma",
            tf.math.polygamma,
            lambda n, x: sp.polygamma(n.astype(int), x),
            (rng.integers(0, 5, 400).astype(float), POS),
            1e-11,
        ),
        ("zeta", tf.math.zeta, sp.zeta, (rng.uniform(1.1, 40, 400), POS), 1e-11),
        ("igamma", tf.math.igamma, sp.gammainc, (POS, POS * rng.uniform(0, 3, 400)), 1e-10),
        ("igammac", tf.math.igammac, sp.gammaincc, (POS, POS * rng.uniform(0, 3, 400)), 1e-10),
        (
            "betainc",
            tf.math.betainc,
            sp.betainc,
            (10 ** rng.uniform(-2, 2, 400), 10 ** rng.uniform(-2, 2, 400), rng.uniform(0, 1, 400)),
            1e-10,
        ),
        ("erf", tf.math.erf, sp.erf, (rng.uniform(-6, 6, 400),), 1e-14),
        ("erfc", tf.math.erfc, sp.erfc, (rng.uniform(-6, 26, 400),), 1e-13),
        (
            "erfinv",
            tf.math.erfinv,
            sp.erfinv,
            (
                np.concatenate(
                    [rng.uniform(-1, 1, 300), 1 - 10 ** -rng.uniform(1, 15, 50), [1e-20]]
                ),
            ),
            1e-13,
        ),
        (
            "ndtri",
            tf.math.ndtri,
            sp.ndtri,
            (np.concatenate([rng.uniform(0, 1, 300), 10 ** -rng.uniform(1, 300, 100)]),),
            1e-12,
        ),
        ("bessel_i0e", tf.math.bessel_i0e, sp.i0e, (rng.uniform(-60, 60, 400),), 1e-13),
        ("bessel_i1e", tf.math.bessel_i1e, sp.i1e, (rng.uniform(-60, 60, 400),), 1e-13),
    ],
)
def test_against_scipy(name, fn, ref, args, rtol):
    np.testing.assert_allclose(_run(fn, *args), ref(*args), rtol=rtol, atol=1e-300, err_msg=name)


SPECIAL = tf.math.special
WIDE = np.concatenate([rng.uniform(0, 40, 300), 10 ** rng.uniform(-6, 2.5, 100)])


@pytest.mark.parametrize(
    "name,fn,ref,args",
    [
        ("j0", SPECIAL.bessel_j0, sp.j0, (np.concatenate([WIDE, -WIDE[:50]]),)),
        ("j1", SPECIAL.bessel_j1, sp.j1, (np.concatenate([WIDE, -WIDE[:50]]),)),
        ("y0", SPECIAL.bessel_y0, sp.y0, (WIDE,)),
        ("y1", SPECIAL.bessel_y1, sp.y1, (WIDE,)),
        ("k0", SPECIAL.bessel_k0, sp.k0, (WIDE,)),
        ("k1", SPECIAL.bessel_k1, sp.k1, (WIDE,)),
        ("k0e", SPECIAL.bessel_k0e, sp.k0e, (WIDE,)),
        ("k1e", SPECIAL.bessel_k1e, sp.k1e, (WIDE,)),
        ("dawsn", SPECIAL.dawsn, sp.dawsn, (np.concatenate([WIDE, -WIDE[:50]]),)),
        ("expint", SPECIAL.expint, sp.expi, (WIDE,)),
        (
            "fresnel_sin",
            SPECIAL.fresnel_sin,
            lambda x: sp.fresnel(x)[0],
            (np.concatenate([WIDE, -WIDE[:50]]),),
        ),
        (
            "fresnel_cos",
            SPECIAL.fresnel_cos,
            lambda x: sp.fresnel(x)[1],
            (np.concatenate([WIDE, -WIDE[:50]]),),
        ),
        ("spence", SPECIAL.spence, sp.spence, (WIDE,)),
    ],
)
def test_special_namespace_against_scipy(name, fn, ref, args):
    # oscillating functions: relative accuracy away from their zeros, absolute near them
    want, got = ref(*args), _run(fn, *args)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    bad = np.abs(got - want)[finite] > 1e-11 * np.abs(want[finite]) + 1e-13
    assert not bad.any(), (
        name,
        args[0][finite][bad][:5],
        got[finite][bad][:5],
        want[finite][bad][:5],
    )


def test_special_namespace_edges_follow_tensorflow():
    # values at x = [-1, 0, 0.5] from real TensorFlow (float64)
    x = np.array([-1.0, 0.0, 0.5])
    with tf.eager_mode():
        got = {
            n: getattr(SPECIAL, n)(x).numpy()
            for n in ["bessel_y0", "bessel_k0", "bessel_k1e", "expint", "spence"]
        }
    np.testing.assert_allclose(got["bessel_y0"], [-np.inf, -np.inf, -0.4445187335067066])
    np.testing.assert_allclose(got["bessel_k0"], [np.inf, np.inf, 0.9244190712276663])
    np.testing.assert_allclose(got["bessel_k1e"], [np.inf, np.inf, 2.7310097082117863])
    np.testing.assert_allclose(got["expint"], [np.nan, -np.inf, 0.45421990486317354])
    np.testing.assert_allclose(got["spence"], [np.nan, 1.6449340668482264, 0.5822405264650135])


def test_poles_and_domain_edges_follow_tensorflow():
    # numbers from real TensorFlow (float32)
    with tf.eager_mode():
        np.testing.assert_array_equal(tf.math.lgamma([0.0, -1.0]).numpy(), [np.inf, np.inf])
        np.testing.assert_array_equal(
            np.isnan(tf.math.digamma([0.0, -1.0, -2.5]).numpy()), [True, True, False]
        )
        np.testing.assert_array_equal(
            tf.math.zeta([1.0, 0.5, 2.0, 2.0], [1.0, 1.0, 0.0, -1.0]).numpy(),
            [np.inf, np.nan, np.inf, np.inf],
        )
        np.testing.assert_array_equal(
            tf.math.igamma([0.0, 1.0, -1.0, 1.0], [1.0, 0.0, 1.0, -1.0]).numpy(),
            [np.nan, 0.0, np.nan, np.nan],
        )
        np.testing.assert_array_equal(
            tf.math.erfinv([-1.0, 1.0, 1.5]).numpy(), [-np.inf, np.inf, np.nan]
        )
        np.testing.assert_array_equal(
            tf.math.ndtri([0.0, 1.0, 1.5]).numpy(), [-np.inf, np.inf, np.nan]
        )


def test_gradients_match_tensorflow():
    # d/dx at x = [0.3, 0.0, 1.5] from real TensorFlow (float64)
    x = np.array([0.3, 0.0, 1.5])
    with tf.eager_mode():
        xt = tf.constant(x)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xt)
            i0e, i1e = tf.math.bessel_i0e(xt), tf.math.bessel_i1e(xt)
            atan2 = tf.atan2(xt, tf.constant([0.7, 2.0, 0.0], tf.float64))
        np.testing.assert_allclose(
            tape.gradient(i0e, xt).numpy(), [-0.64520306, 0.0, -0.14839422], rtol=1e-7
        )
        np.testing.assert_allclose(
            tape.gradient(i1e, xt).numpy(), [0.2706112, 0.5, 0.00236796], rtol=1e-6, atol=1e-8
        )
        np.testing.assert_allclose(
            tape.gradient(atan2, xt).numpy(), [1.20689655, 0.5, 0.0], rtol=1e-7
        )


def test_igamma_gradient_in_a_matches_tensorflow():
    # d/da igamma(a, x) at a = [0.5, 2, 10], x = [1, 1.5, 8], from real TensorFlow
    with tf.eager_mode():
        a = tf.constant([0.5, 2.0, 10.0], tf.float64)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(a)
            p = tf.math.igamma(a, tf.constant([1.0, 1.5, 8.0], tf.float64))
            q = tf.math.igammac(a, tf.constant([1.0, 1.5, 8.0], tf.float64))
        want = [-0.38983726, -0.31348864, -0.11260572]
        np.testing.assert_allclose(tape.gradient(p, a).numpy(), want, rtol=1e-7)
        np.testing.assert_allclose(tape.gradient(q, a).numpy(), np.negative(want), rtol=1e-7)
