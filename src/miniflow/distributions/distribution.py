"""The base of TF1's `tf.distributions`: `Distribution`, the reparameterization types and
the KL-divergence registry (`RegisterKL`, `kl_divergence`).

TF deprecated `tf.distributions` in 1.13 in favour of TensorFlow Probability; miniflow
keeps the classes TF1 programs use (Normal, Uniform, Bernoulli, Categorical), written with
miniflow ops, so samples of reparameterized distributions carry gradients.
"""

from __future__ import annotations

import numpy as np

import miniflow as tf


class ReparameterizationType:
    """Whether samples are differentiable functions of the parameters."""

    def __init__(self, rep_type: str):
        self._rep_type = rep_type

    def __repr__(self) -> str:
        return f"<Reparameterization Type: {self._rep_type}>"


FULLY_REPARAMETERIZED = ReparameterizationType("FULLY_REPARAMETERIZED")
NOT_REPARAMETERIZED = ReparameterizationType("NOT_REPARAMETERIZED")

_KL = {}


class RegisterKL:
    """Decorator: ``@RegisterKL(Normal, Normal)`` registers ``fn(a, b, name=None)``."""

    def __init__(self, dist_cls_a, dist_cls_b):
        self._key = (dist_cls_a, dist_cls_b)

    def __call__(self, kl_fn):
        if self._key in _KL:
            raise ValueError(
                f"KL({self._key[0].__name__} || {self._key[1].__name__}) has "
                "already been registered"
            )
        _KL[self._key] = kl_fn
        return kl_fn


def kl_divergence(distribution_a, distribution_b, allow_nan_stats=True, name=None):
    """KL(a || b), by the function registered for the two classes (or their bases)."""
    for cls_a in type(distribution_a).__mro__:
        for cls_b in type(distribution_b).__mro__:
            fn = _KL.get((cls_a, cls_b))
            if fn is not None:
                with tf.name_scope(name or "KullbackLeibler"):
                    return fn(distribution_a, distribution_b)
    raise NotImplementedError(
        f"No KL(distribution_a || distribution_b) registered for "
        f"distribution_a type {type(distribution_a).__name__} and "
        f"distribution_b type {type(distribution_b).__name__}"
    )


class Distribution:
    """A batch of distributions with parameters as tensors. Subclasses define ``_log_prob``,
    ``_sample_n`` and the statistics they have; ``prob`` is ``exp(log_prob)``."""

    def __init__(
        self,
        dtype,
        reparameterization_type,
        validate_args,
        allow_nan_stats,
        parameters=None,
        graph_parents=None,
        name=None,
    ):
        self._dtype = dtype
        self._reparameterization_type = reparameterization_type
        self._validate_args = validate_args
        self._allow_nan_stats = allow_nan_stats
        self._parameters = dict(parameters or {})
        self._name = name

    dtype = property(lambda self: self._dtype)
    name = property(lambda self: self._name)
    parameters = property(lambda self: dict(self._parameters))
    reparameterization_type = property(lambda self: self._reparameterization_type)
    validate_args = property(lambda self: self._validate_args)
    allow_nan_stats = property(lambda self: self._allow_nan_stats)

    @property
    def batch_shape(self):
        return self._batch_shape()

    @property
    def event_shape(self):
        return tf.TensorShape([])

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return tf.shape(self._batch_template(), name=name)

    def event_shape_tensor(self, name="event_shape_tensor"):
        return tf.constant([], dtype=tf.int32, name=name)

    def _scope(self, name):
        return tf.name_scope(f"{self._name}/{name}" if self._name else name)

    def sample(self, sample_shape=(), seed=None, name="sample"):
        """Samples of shape ``sample_shape + batch_shape + event_shape``."""
        with self._scope(name):
            if not tf.is_tensor(sample_shape) and self.batch_shape.is_fully_defined():
                static = [int(d) for d in np.reshape(sample_shape, [-1])]
                flat = self._sample_n(int(np.prod(static)), seed)
                return tf.reshape(flat, static + self.batch_shape.as_list())
            shape = tf.convert_to_tensor(sample_shape, dtype=tf.int32)
            flat = self._sample_n(tf.reduce_prod(shape), seed)
            batch_event = tf.shape(flat)[1:]
            return tf.reshape(flat, tf.concat([tf.reshape(shape, [-1]), batch_event], 0))

    def log_prob(self, value, name="log_prob"):
        with self._scope(name):
            return self._log_prob(tf.convert_to_tensor(value, dtype=self._value_dtype()))

    def prob(self, value, name="prob"):
        with self._scope(name):
            return tf.exp(self._log_prob(tf.convert_to_tensor(value, dtype=self._value_dtype())))

    def entropy(self, name="entropy"):
        with self._scope(name):
            return self._entropy()

    def mean(self, name="mean"):
        with self._scope(name):
            return self._mean()

    def mode(self, name="mode"):
        with self._scope(name):
            return self._mode()

    def variance(self, name="variance"):
        with self._scope(name):
            return self._variance()

    def stddev(self, name="stddev"):
        with self._scope(name):
            return tf.sqrt(self._variance())

    def kl_divergence(self, other, name="kl_divergence"):
        return kl_divergence(self, other, name=name)

    def cross_entropy(self, other, name="cross_entropy"):
        with self._scope(name):
            return self.entropy() + kl_divergence(self, other)

    def _value_dtype(self):
        return self._dtype

    def _batch_shape(self):
        return self._batch_template().shape
