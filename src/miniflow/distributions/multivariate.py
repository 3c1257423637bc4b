"""`tf.distributions.Dirichlet`, `Multinomial` and `DirichletMultinomial`: distributions
over vectors (the last dimension of the parameters is the event)."""

from __future__ import annotations

import numpy as np

import miniflow as tf
from miniflow.distributions.continuous import _params
from miniflow.distributions.discrete import _logits_and_probs
from miniflow.distributions.distribution import NOT_REPARAMETERIZED, Distribution


def _lbeta(c):
    """log B(c) over the last axis."""
    return tf.reduce_sum(tf.lgamma(c), -1) - tf.lgamma(tf.reduce_sum(c, -1))


def _log_combinations(n, counts):
    """log(n! / prod(counts!)) over the last axis."""
    return tf.lgamma(n + 1.0) - tf.reduce_sum(tf.lgamma(counts + 1.0), -1)


class _VectorEvent(Distribution):
    """Event shape = the last dimension of ``self._event_template()``."""

    def _batch_shape(self):
        return self._event_template().shape[:-1]

    def _batch_template(self):
        return self._event_template()[..., 0]

    @property
    def event_shape(self):
        return self._event_template().shape[-1:]

    def event_shape_tensor(self, name="event_shape_tensor"):
        return tf.shape(self._event_template(), name=name)[-1:]

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return tf.shape(self._event_template(), name=name)[:-1]

    def sample(self, sample_shape=(), seed=None, name="sample"):
        """Samples of shape ``sample_shape + batch_shape + event_shape``."""
        with self._scope(name):
            known = self.batch_shape.concatenate(self.event_shape)
            if not tf.is_tensor(sample_shape) and known.is_fully_defined():
                static = [int(d) for d in np.reshape(sample_shape, [-1])]
                flat = self._sample_n(int(np.prod(static)), seed)
                return tf.reshape(flat, static + known.as_list())
            shape = tf.reshape(tf.convert_to_tensor(sample_shape, dtype=tf.int32), [-1])
            flat = self._sample_n(tf.reduce_prod(shape), seed)
            return tf.reshape(flat, tf.concat([shape, tf.shape(flat)[1:]], 0))


class Dirichlet(_VectorEvent):
    """Dirichlet(concentration) over the probability simplex of the last dimension."""

    def __init__(self, concentration, validate_args=False, allow_nan_stats=True, name="Dirichlet"):
        (self._concentration,) = _params(name, concentration=concentration)
        self._total = tf.reduce_sum(self._concentration, -1)
        super().__init__(
            self._concentration.dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                concentration=concentration,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    concentration = property(lambda self: self._concentration)
    total_concentration = property(lambda self: self._total)

    def _event_template(self):
        return self._concentration

    def _sample_n(self, n, seed=None):
        g = tf.random_gamma([n], self._concentration, dtype=self.dtype, seed=seed)
        return g / tf.reduce_sum(g, -1, keepdims=True)

    def _log_prob(self, x):
        return tf.reduce_sum(tf.math.xlogy(self._concentration - 1.0, x), -1) - _lbeta(
            self._concentration
        )

    def _entropy(self):
        k = tf.cast(tf.shape(self._concentration)[-1], self.dtype)
        return (
            _lbeta(self._concentration)
            + (self._total - k) * tf.digamma(self._total)
            - tf.reduce_sum((self._concentration - 1.0) * tf.digamma(self._concentration), -1)
        )

    def _mean(self):
        return self._concentration / self._total[..., None]

    def _variance(self):
        m = self._mean()
        return m * (1.0 - m) / (1.0 + self._total[..., None])

    def covariance(self, name="covariance"):
        """Var on the diagonal, -m_i m_j / (1 + total) off it."""
        with self._scope(name):
            m = self._mean()
            scale = (1.0 + self._total)[..., None, None]
            return (tf.linalg.diag(m) - m[..., :, None] * m[..., None, :]) / scale

    def _mode(self):
        k = tf.cast(tf.shape(self._concentration)[-1], self.dtype)
        return (self._concentration - 1.0) / (self._total[..., None] - k)


class Multinomial(_VectorEvent):
    """Counts of ``total_count`` draws over the classes of ``logits`` / ``probs``."""

    def __init__(
        self,
        total_count,
        logits=None,
        probs=None,
        validate_args=False,
        allow_nan_stats=True,
        name="Multinomial",
    ):
        self._logits, self._probs = _logits_and_probs(logits, probs, name, multiclass=True)
        with tf.name_scope(name):
            self._total_count = tf.convert_to_tensor(
                total_count, dtype=self._probs.dtype, name="total_count"
            )
        self._mean_val = self._total_count[..., None] * self._probs
        super().__init__(
            self._probs.dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                total_count=total_count,
                logits=logits,
                probs=probs,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    total_count = property(lambda self: self._total_count)
    logits = property(lambda self: self._logits)
    probs = property(lambda self: self._probs)

    def _event_template(self):
        return self._mean_val

    def _sample_n(self, n, seed=None):
        return _multinomial_counts(n, self._logits, self._total_count, self.dtype, seed)

    def _log_prob(self, counts):
        return tf.reduce_sum(counts * tf.math.log_softmax(self._logits), -1) + _log_combinations(
            self._total_count, counts
        )

    def _mean(self):
        return tf.identity(self._mean_val)

    def _variance(self):
        return self._mean_val * (1.0 - self._probs)

    def covariance(self, name="covariance"):
        """n (diag(p) - p p^T)."""
        with self._scope(name):
            p = self._probs * tf.ones_like(self._mean_val)
            n = self._total_count[..., None, None]
            return n * (tf.linalg.diag(p) - p[..., :, None] * p[..., None, :])


def _multinomial_counts(n, logits, total_count, dtype, seed):
    """[n, batch..., k] counts: ``total_count`` categorical draws per batch member."""
    k = logits.shape.as_list()[-1] if logits.shape.ndims is not None else None
    if k is None:
        raise ValueError(
            "Sampling a multinomial needs a known number of classes (the last "
            f"dimension of the logits), got shape {logits.shape}"
        )
    flat_logits = tf.reshape(logits * tf.ones_like(total_count[..., None]), [-1, k])
    draws = tf.cast(tf.reduce_max(total_count), tf.int32)
    picks = tf.random.categorical(flat_logits, n * draws, seed=seed)  # [b, n * draws]
    picks = tf.reshape(picks, [-1, n, draws])
    live = tf.range(draws)[None, None, :] < tf.cast(
        tf.reshape(total_count * tf.ones_like(logits[..., 0]), [-1, 1, 1]), tf.int32
    )
    onehot = tf.one_hot(picks, k, dtype=dtype) * tf.cast(live, dtype)[..., None]
    counts = tf.transpose(tf.reduce_sum(onehot, 2), [1, 0, 2])  # [n, b, k]
    return tf.reshape(
        counts, tf.concat([[n], tf.shape(logits * tf.ones_like(total_count[..., None]))], 0)
    )


class DirichletMultinomial(_VectorEvent):
    """Multinomial counts whose class probabilities are drawn from Dirichlet(concentration)."""

    def __init__(
        self,
        total_count,
        concentration,
        validate_args=False,
        allow_nan_stats=True,
        name="DirichletMultinomial",
    ):
        self._total_count, self._concentration = _params(
            name, total_count=total_count, concentration=concentration
        )
        self._total = tf.reduce_sum(self._concentration, -1)
        super().__init__(
            self._concentration.dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                total_count=total_count,
                concentration=concentration,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    total_count = property(lambda self: self._total_count)
    concentration = property(lambda self: self._concentration)
    total_concentration = property(lambda self: self._total)

    def _event_template(self):
        return self._concentration * tf.ones_like(self._total_count[..., None])

    def _sample_n(self, n, seed=None):
        g = tf.random_gamma([n], self._event_template(), dtype=self.dtype, seed=seed)
        logits = tf.log(g / tf.reduce_sum(g, -1, keepdims=True))  # [n, batch..., k]
        counts = _multinomial_counts(
            1,
            logits,
            self._total_count * tf.ones_like(logits[..., 0]),
            self.dtype,
            None if seed is None else seed + 1,
        )
        return counts[0]

    def _log_prob(self, counts):
        return (
            _lbeta(self._concentration + counts)
            - _lbeta(self._concentration)
            + _log_combinations(self._total_count, counts)
        )

    def _mean(self):
        return self._total_count[..., None] * self._concentration / self._total[..., None]

    def _variance(self):
        m = self._concentration / self._total[..., None]
        n = self._total_count[..., None]
        return n * m * (1.0 - m) * (n + self._total[..., None]) / (1.0 + self._total[..., None])
