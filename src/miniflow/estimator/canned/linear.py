"""`LinearClassifier` and `LinearRegressor`: ``tf.feature_column.linear_model`` logits
(variables ``linear/linear_model/<column>/weights`` and ``.../bias_weights``) trained with
FTRL (learning rate 0.2) by default, as in TF 1.15."""

from __future__ import annotations

import miniflow as tf
from miniflow.estimator.canned import head as head_lib
from miniflow.estimator.canned.optimizers import get_optimizer_instance
from miniflow.estimator.estimator import Estimator

LEARNING_RATE = 0.2


def linear_logits(features, feature_columns, units, sparse_combiner="sum"):
    """The linear part's logits, under the variable scope ``linear``."""
    with tf.variable_scope("linear"):
        return tf.feature_column.linear_model(
            features, list(feature_columns), units=units, sparse_combiner=sparse_combiner
        )


def _linear_model_fn(head, feature_columns, optimizer, sparse_combiner):
    def model_fn(features, labels, mode, config):
        head_lib.check_features(features)
        logits = linear_logits(features, feature_columns, head.logits_dimension, sparse_combiner)

        def train_op_fn(loss):
            opt = get_optimizer_instance(optimizer, learning_rate=LEARNING_RATE)
            return opt.minimize(loss, global_step=tf.train.get_global_step())

        return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

    return model_fn


def _check_columns(feature_columns):
    feature_columns = tuple(feature_columns or ())
    if not feature_columns:
        raise ValueError("feature_columns should not be empty.")
    return feature_columns


class LinearClassifier(Estimator):
    """Logistic (``n_classes=2``) or softmax regression over feature columns.

    ``LinearClassifier(feature_columns, model_dir=None, n_classes=2, weight_column=None,
    label_vocabulary=None, optimizer='Ftrl', config=None, partitioner=None,
    warm_start_from=None, loss_reduction=tf.losses.Reduction.SUM, sparse_combiner='sum')``
    """

    def __init__(
        self,
        feature_columns,
        model_dir=None,
        n_classes=2,
        weight_column=None,
        label_vocabulary=None,
        optimizer="Ftrl",
        config=None,
        partitioner=None,
        warm_start_from=None,
        loss_reduction=None,
        sparse_combiner="sum",
    ):
        head = head_lib.classification_head(
            n_classes, weight_column, label_vocabulary, loss_reduction
        )
        model_fn = _linear_model_fn(
            head, _check_columns(feature_columns), optimizer, sparse_combiner
        )
        super().__init__(
            model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )


class LinearRegressor(Estimator):
    """Linear regression (squared error) over feature columns.

    ``LinearRegressor(feature_columns, model_dir=None, label_dimension=1,
    weight_column=None, optimizer='Ftrl', config=None, partitioner=None,
    warm_start_from=None, loss_reduction=tf.losses.Reduction.SUM, sparse_combiner='sum')``
    """

    def __init__(
        self,
        feature_columns,
        model_dir=None,
        label_dimension=1,
        weight_column=None,
        optimizer="Ftrl",
        config=None,
        partitioner=None,
        warm_start_from=None,
        loss_reduction=None,
        sparse_combiner="sum",
    ):
        head = head_lib.RegressionHead(label_dimension, weight_column, loss_reduction)
        model_fn = _linear_model_fn(
            head, _check_columns(feature_columns), optimizer, sparse_combiner
        )
        super().__init__(
            model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )
