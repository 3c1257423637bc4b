"""`tf.distributions.Bernoulli` and `Categorical`, parameterized by logits or probs."""

from __future__ import annotations

import miniflow as tf
from miniflow.distributions.distribution import (
    NOT_REPARAMETERIZED,
    Distribution,
    RegisterKL,
)


def _logits_and_probs(logits, probs, name, multiclass):
    if (logits is None) == (probs is None):
        raise ValueError("Must pass probs or logits, but not both.")
    with tf.name_scope(name):
        if logits is not None:
            logits = tf.convert_to_tensor(logits, name="logits")
            probs = tf.nn.softmax(logits) if multiclass else tf.sigmoid(logits)
        else:
            probs = tf.convert_to_tensor(probs, name="probs")
            logits = tf.log(probs) if multiclass else tf.log(probs) - tf.log1p(-probs)
        return logits, probs


class Bernoulli(Distribution):
    """1 with probability ``probs`` (= sigmoid(``logits``)), else 0; samples of ``dtype``."""

    def __init__(
        self,
        logits=None,
        probs=None,
        dtype=tf.int32,
        validate_args=False,
        allow_nan_stats=True,
        name="Bernoulli",
    ):
        self._logits, self._probs = _logits_and_probs(logits, probs, name, multiclass=False)
        super().__init__(
            dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                logits=logits,
                probs=probs,
                dtype=dtype,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )

    logits = property(lambda self: self._logits)
    probs = property(lambda self: self._probs)

    def _batch_template(self):
        return self._logits

    def _value_dtype(self):
        return None

    def _sample_n(self, n, seed=None):
        shape = tf.concat([[n], tf.shape(self._probs)], 0)
        u = tf.random_uniform(shape, dtype=self._probs.dtype, seed=seed)
        return tf.cast(u < self._probs, self.dtype)

    def _log_prob(self, x):
        x = tf.cast(x, self._logits.dtype)
        return -tf.nn.sigmoid_cross_entropy_with_logits(
            labels=x * tf.ones_like(self._logits), logits=self._logits * tf.ones_like(x)
        )

    def _entropy(self):
        return -self._logits * (self._probs - 1.0) + tf.nn.softplus(-self._logits)

    def _mean(self):
        return tf.identity(self._probs)

    def _mode(self):
        return tf.cast(self._probs > 0.5, self.dtype)

    def _variance(self):
        return self._probs * (1.0 - self._probs)


class Categorical(Distribution):
    """One of ``K`` classes with probabilities ``softmax(logits)`` (or ``probs``) on the
    last axis; samples are class indices of ``dtype``."""

    def __init__(
        self,
        logits=None,
        probs=None,
        dtype=tf.int32,
        validate_args=False,
        allow_nan_stats=True,
        name="Categorical",
    ):
        self._logits, self._probs = _logits_and_probs(logits, probs, name, multiclass=True)
        super().__init__(
            dtype,
            NOT_REPARAMETERIZED,
            validate_args,
            allow_nan_stats,
            dict(
                logits=logits,
                probs=probs,
                dtype=dtype,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                name=name,
            ),
            name=name,
        )
        with tf.name_scope(name):
            self._event_size = tf.shape(self._logits)[-1]

    logits = property(lambda self: self._logits)
    probs = property(lambda self: self._probs)
    event_size = property(lambda self: self._event_size)

    def _batch_template(self):
        return self._logits[..., 0]

    def _value_dtype(self):
        return None

    def _sample_n(self, n, seed=None):
        flat = tf.reshape(self._logits, [-1, self._event_size])
        draws = tf.random.categorical(flat, n, dtype=self.dtype, seed=seed)  # [batch, n]
        return tf.reshape(
            tf.transpose(draws), tf.concat([[n], tf.shape(self._batch_template())], 0)
        )

    def _log_prob(self, k):
        k = tf.cast(k, tf.int32)
        logits = self._logits * tf.ones_like(tf.cast(k, self._logits.dtype)[..., None])
        k = k + tf.zeros_like(logits[..., 0], dtype=tf.int32)
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=k, logits=logits)

    def _entropy(self):
        return -tf.reduce_sum(
            tf.nn.softmax(self._logits) * tf.nn.log_softmax(self._logits), axis=-1
        )

    def _mode(self):
        return tf.cast(tf.argmax(self._logits, axis=-1), self.dtype)


@RegisterKL(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(a, b, name=None):
    def log_sigmoid(x):
        return -tf.nn.softplus(-x)

    return a.probs * (log_sigmoid(a.logits) - log_sigmoid(b.logits)) + (1.0 - a.probs) * (
        log_sigmoid(-a.logits) - log_sigmoid(-b.logits)
    )


@RegisterKL(Categorical, Categorical)
def _kl_categorical_categorical(a, b, name=None):
    return tf.reduce_sum(
        tf.nn.softmax(a.logits) * (tf.nn.log_softmax(a.logits) - tf.nn.log_softmax(b.logits)),
        axis=-1,
    )
