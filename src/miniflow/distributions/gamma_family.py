"""`tf.distributions.Gamma`, `Beta` and `StudentT`: distributions whose samples are drawn
from gamma variates (TF1's formulas for log_prob and the statistics)."""

from __future__ import annotations

import math

import numpy as np

import miniflow as tf
from miniflow.distributions.continuous import _params
from miniflow.distributions.distribution import (
    FULLY_REPARAMETERIZED,
    NOT_REPARAMETERIZED,
    Distribution,
)


def _nan_where(cond, x, allow_nan_stats, what):
    """x with NaN where ``cond`` (TF's ``allow_nan_stats``); otherwise x unchanged, as TF
    then asserts the condition instead."""
    del what
    if not allow_nan_stats:
        return x
    return tf.where(cond, tf.fill(tf.shape(x), np.array(np.nan, x.dtype.as_numpy_dtype)), x)


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) e^(-rate x) / Gamma(a)."""

    def __init__(
        self, concentration, rate, validate_args=False, allow_nan_stats=True, name="Gamma"
    ):
        self._concentration, self._rate = _params(name, concentration=concentration, rate=rate)
        super().__init__(
            self._concentration.dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                concentration=concentration,
                rate=rate,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    concentration = property(lambda self: self._concentration)
    rate = property(lambda self: self._rate)

    def _batch_template(self):
        return self._concentration + self._rate

    def _sample_n(self, n, seed=None):
        ones = tf.ones_like(self._batch_template())
        return tf.random_gamma(
            [n],
            alpha=self._concentration * ones,
            beta=self._rate * ones,
            dtype=self.dtype,
            seed=seed,
        )

    def _log_prob(self, x):
        return (
            tf.math.xlogy(self._concentration - 1.0, x)
            - self._rate * x
            - tf.lgamma(self._concentration)
            + self._concentration * tf.log(self._rate)
        )

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            x = tf.convert_to_tensor(value, dtype=self.dtype)
            return tf.math.igamma(self._concentration, self._rate * x)

    def _entropy(self):
        a = self._concentration
        return a - tf.log(self._rate) + tf.lgamma(a) + (1.0 - a) * tf.digamma(a)

    def _mean(self):
        return self._concentration / self._rate

    def _variance(self):
        return self._concentration / tf.square(self._rate)

    def _mode(self):
        mode = (self._concentration - 1.0) / self._rate
        return _nan_where(self._concentration < 1.0, mode, self.allow_nan_stats, "mode")


class Beta(Distribution):
    """Beta(concentration1, concentration0) on (0, 1)."""

    def __init__(
        self,
        concentration1=None,
        concentration0=None,
        validate_args=False,
        allow_nan_stats=True,
        name="Beta",
    ):
        self._c1, self._c0 = _params(
            name, concentration1=concentration1, concentration0=concentration0
        )
        self._total = self._c1 + self._c0
        super().__init__(
            self._c1.dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                concentration1=concentration1,
                concentration0=concentration0,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    concentration1 = property(lambda self: self._c1)
    concentration0 = property(lambda self: self._c0)
    total_concentration = property(lambda self: self._total)

    def _batch_template(self):
        return self._total

    def _sample_n(self, n, seed=None):
        ones = tf.ones_like(self._total)
        g1 = tf.random_gamma([n], self._c1 * ones, dtype=self.dtype, seed=seed)
        g0 = tf.random_gamma(
            [n], self._c0 * ones, dtype=self.dtype, seed=None if seed is None else seed + 1
        )
        return g1 / (g1 + g0)

    def _lbeta(self):
        return tf.lgamma(self._c1) + tf.lgamma(self._c0) - tf.lgamma(self._total)

    def _log_prob(self, x):
        return tf.math.xlogy(self._c1 - 1.0, x) + (self._c0 - 1.0) * tf.log1p(-x) - self._lbeta()

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            x = tf.convert_to_tensor(value, dtype=self.dtype)
            ones = tf.ones_like(self._total)
            return tf.math.betainc(self._c1 * ones, self._c0 * ones, x * ones)

    def _entropy(self):
        return (
            self._lbeta()
            - (self._c1 - 1.0) * tf.digamma(self._c1)
            - (self._c0 - 1.0) * tf.digamma(self._c0)
            + (self._total - 2.0) * tf.digamma(self._total)
        )

    def _mean(self):
        return self._c1 / self._total

    def _variance(self):
        m = self._mean()
        return m * (1.0 - m) / (1.0 + self._total)

    def _mode(self):
        mode = (self._c1 - 1.0) / (self._total - 2.0)
        return _nan_where(
            tf.logical_or(self._c1 <= 1.0, self._c0 <= 1.0), mode, self.allow_nan_stats, "mode"
        )


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, location ``loc`` and ``scale``."""

    def __init__(self, df, loc, scale, validate_args=False, allow_nan_stats=True, name="StudentT"):
        self._df, self._loc, self._scale = _params(name, df=df, loc=loc, scale=scale)
        super().__init__(
            self._df.dtype,
            FULLY_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                df=df,
                loc=loc,
                scale=scale,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    df = property(lambda self: self._df)
    loc = property(lambda self: self._loc)
    scale = property(lambda self: self._scale)

    def _batch_template(self):
        return self._df + self._loc + self._scale

    def _sample_n(self, n, seed=None):
        ones = tf.ones_like(self._batch_template())
        shape = tf.concat([[n], tf.shape(ones)], 0)
        normal = tf.random_normal(shape, dtype=self.dtype, seed=seed)
        df = self._df * ones
        gamma = tf.random_gamma(
            [n], 0.5 * df, beta=0.5, dtype=self.dtype, seed=None if seed is None else seed + 1
        )
        return normal * tf.rsqrt(gamma / df) * self._scale + self._loc

    def _log_prob(self, x):
        y = (x - self._loc) / self._scale
        unnormalized = -0.5 * (self._df + 1.0) * tf.log1p(tf.square(y) / self._df)
        normalization = (
            tf.log(tf.abs(self._scale))
            + 0.5 * tf.log(self._df)
            + 0.5 * math.log(math.pi)
            + tf.lgamma(0.5 * self._df)
            - tf.lgamma(0.5 * (self._df + 1.0))
        )
        return unnormalized - normalization

    def _entropy(self):
        df = self._df * tf.ones_like(self._batch_template())
        lbeta = tf.lgamma(0.5 * df) + math.lgamma(0.5) - tf.lgamma(0.5 * (df + 1.0))
        return (
            tf.log(tf.abs(self._scale))
            + 0.5 * tf.log(df)
            + lbeta
            + 0.5 * (df + 1.0) * (tf.digamma(0.5 * (df + 1.0)) - tf.digamma(0.5 * df))
        )

    def _mean(self):
        mean = self._loc * tf.ones_like(self._batch_template())
        return _nan_where(self._df * tf.ones_like(mean) <= 1.0, mean, self.allow_nan_stats, "mean")

    def _mode(self):
        return self._loc * tf.ones_like(self._batch_template())

    def _variance(self):
        ones = tf.ones_like(self._batch_template())
        df = self._df * ones
        var = tf.square(self._scale) * ones * df / tf.maximum(df - 2.0, 1e-30 * ones)
        var = tf.where(
            df > 2.0, var, tf.fill(tf.shape(var), np.array(np.inf, var.dtype.as_numpy_dtype))
        )
        return _nan_where(df <= 1.0, var, self.allow_nan_stats, "variance")
