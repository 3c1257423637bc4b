"""`tf.distributions.Normal`, `Uniform`, `Exponential` and `Laplace`: reparameterized, so
samples carry gradients."""

from __future__ import annotations

import math

import numpy as np

import miniflow as tf
from miniflow.distributions.distribution import (
    FULLY_REPARAMETERIZED,
    Distribution,
    RegisterKL,
)


def _params(name, **values):
    """The parameters as tensors of one float dtype (that of the first tensor given)."""
    with tf.name_scope(name):
        first = next((v for v in values.values() if tf.is_tensor(v)), None)
        dtype = first.dtype if first is not None else tf.float32
        return [tf.convert_to_tensor(v, dtype=dtype, name=k) for k, v in values.items()]


class Normal(Distribution):
    """N(loc, scale^2), batched by broadcasting ``loc`` against ``scale``."""

    def __init__(self, loc, scale, validate_args=False, allow_nan_stats=True, name="Normal"):
        self._loc, self._scale = _params(name, loc=loc, scale=scale)
        super().__init__(
            self._loc.dtype,
            FULLY_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                loc=loc,
                scale=scale,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    loc = property(lambda self: self._loc)
    scale = property(lambda self: self._scale)

    def _batch_template(self):
        return self._loc + self._scale

    def _sample_n(self, n, seed=None):
        shape = tf.concat([[n], tf.shape(self._batch_template())], 0)
        return self._loc + self._scale * tf.random_normal(shape, dtype=self.dtype, seed=seed)

    def _z(self, x):
        return (x - self._loc) / self._scale

    def _log_prob(self, x):
        return -0.5 * tf.square(self._z(x)) - tf.log(self._scale) - 0.5 * math.log(2 * math.pi)

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            z = self._z(tf.convert_to_tensor(value, dtype=self.dtype))
            return 0.5 * tf.math.erfc(-z / math.sqrt(2.0))

    def _entropy(self):
        return 0.5 * math.log(2 * math.pi * math.e) + tf.log(self._scale) * tf.ones_like(self._loc)

    def _mean(self):
        return self._loc * tf.ones_like(self._scale)

    _mode = _mean

    def _variance(self):
        return tf.square(self._scale) * tf.ones_like(self._loc)


class Uniform(Distribution):
    """Uniform on [low, high)."""

    def __init__(
        self, low=0.0, high=1.0, validate_args=False, allow_nan_stats=True, name="Uniform"
    ):
        self._low, self._high = _params(name, low=low, high=high)
        super().__init__(
            self._low.dtype,
            FULLY_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                low=low,
                high=high,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    low = property(lambda self: self._low)
    high = property(lambda self: self._high)

    def range(self, name="range"):
        with self._scope(name):
            return self._high - self._low

    def _batch_template(self):
        return self._low + self._high

    def _sample_n(self, n, seed=None):
        shape = tf.concat([[n], tf.shape(self._batch_template())], 0)
        u = tf.random_uniform(shape, dtype=self.dtype, seed=seed)
        return self._low + (self._high - self._low) * u

    def _inside(self, x):
        return tf.logical_and(x >= self._low, x < self._high)

    def _log_prob(self, x):
        return tf.log(tf.cast(self._inside(x), self.dtype) / (self._high - self._low))

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            x = tf.convert_to_tensor(value, dtype=self.dtype)
            return tf.clip_by_value((x - self._low) / (self._high - self._low), 0.0, 1.0)

    def _entropy(self):
        return tf.log(self._high - self._low)

    def _mean(self):
        return (self._low + self._high) / 2.0

    def _variance(self):
        return tf.square(self._high - self._low) / 12.0


class Exponential(Distribution):
    """Exponential with ``rate``: density ``rate * exp(-rate * x)`` for x >= 0."""

    def __init__(self, rate, validate_args=False, allow_nan_stats=True, name="Exponential"):
        (self._rate,) = _params(name, rate=rate)
        super().__init__(
            self._rate.dtype,
            FULLY_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                rate=rate, validate_args=validate_args, allow_nan_stats=allow_nan_stats, name=name
            ),
            name=name,
        )

    rate = property(lambda self: self._rate)

    def _batch_template(self):
        return self._rate

    def _sample_n(self, n, seed=None):
        shape = tf.concat([[n], tf.shape(self._rate)], 0)
        tiny = float(np.finfo(self.dtype.as_numpy_dtype).tiny)
        u = tf.random_uniform(shape, minval=tiny, maxval=1.0, dtype=self.dtype, seed=seed)
        return -tf.log(u) / self._rate

    def _log_prob(self, x):
        # -inf outside the support (TF evaluates the formula there)
        inside = tf.log(tf.cast(x >= 0, self.dtype))
        return tf.log(self._rate) - self._rate * x + inside

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            x = tf.convert_to_tensor(value, dtype=self.dtype)
            return tf.maximum(-tf.math.expm1(-self._rate * x), 0.0)

    def _entropy(self):
        return 1.0 - tf.log(self._rate)

    def _mean(self):
        return 1.0 / self._rate

    def _mode(self):
        return tf.zeros_like(self._rate)  # TF (as a Gamma with concentration 1): NaN

    def _variance(self):
        return 1.0 / tf.square(self._rate)


class Laplace(Distribution):
    """Laplace with ``loc`` and ``scale``: density ``exp(-|x - loc| / scale) / (2 scale)``."""

    def __init__(self, loc, scale, validate_args=False, allow_nan_stats=True, name="Laplace"):
        self._loc, self._scale = _params(name, loc=loc, scale=scale)
        super().__init__(
            self._loc.dtype,
            FULLY_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                loc=loc,
                scale=scale,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    loc = property(lambda self: self._loc)
    scale = property(lambda self: self._scale)

    def _batch_template(self):
        return self._loc + self._scale

    def _sample_n(self, n, seed=None):
        shape = tf.concat([[n], tf.shape(self._batch_template())], 0)
        low = float(np.nextafter(self.dtype.as_numpy_dtype(-1.0), self.dtype.as_numpy_dtype(0)))
        u = tf.random_uniform(shape, minval=low, maxval=1.0, dtype=self.dtype, seed=seed)
        return self._loc - self._scale * tf.sign(u) * tf.log1p(-tf.abs(u))

    def _log_prob(self, x):
        return -math.log(2.0) - tf.log(self._scale) - tf.abs(x - self._loc) / self._scale

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            z = (tf.convert_to_tensor(value, dtype=self.dtype) - self._loc) / self._scale
            return 0.5 - 0.5 * tf.sign(z) * tf.math.expm1(-tf.abs(z))

    def _entropy(self):
        return (math.log(2.0) + 1.0 + tf.log(self._scale)) * tf.ones_like(self._loc)

    def _mean(self):
        return self._loc * tf.ones_like(self._scale)

    _mode = _mean

    def _variance(self):
        return 2.0 * tf.square(self._scale) * tf.ones_like(self._loc)


@RegisterKL(Normal, Normal)
def _kl_normal_normal(a, b, name=None):
    diff_log_scale = tf.log(a.scale) - tf.log(b.scale)
    return (
        0.5 * tf.square((a.loc - b.loc) / b.scale)
        + 0.5 * tf.expm1(2.0 * diff_log_scale)
        - diff_log_scale
    )
