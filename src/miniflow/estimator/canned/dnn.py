"""`DNNClassifier` and `DNNRegressor`: ``tf.feature_column.input_layer`` then dense
hidden layers (``dnn/hiddenlayer_<i>``, Glorot-uniform kernels, dropout while training)
and a linear ``dnn/logits`` layer, trained with Adagrad (learning rate 0.05) by default,
as in TF 1.15."""

from __future__ import annotations

import miniflow as tf
from miniflow.estimator.canned import head as head_lib
from miniflow.estimator.canned.optimizers import get_optimizer_instance
from miniflow.estimator.estimator import Estimator
from miniflow.estimator.model_fn import ModeKeys

LEARNING_RATE = 0.05


def dnn_logits(
    features, feature_columns, hidden_units, units, activation_fn, dropout, mode, batch_norm=False
):
    """The DNN's logits, under the variable scope ``dnn``."""
    with tf.variable_scope("dnn"):
        with tf.variable_scope("input_from_feature_columns"):
            net = tf.feature_column.input_layer(features, list(feature_columns))
        training = mode == ModeKeys.TRAIN
        for i, n in enumerate(hidden_units):
            net = tf.layers.dense(
                net,
                n,
                activation=activation_fn,
                kernel_initializer=tf.glorot_uniform_initializer(),
                name=f"hiddenlayer_{i}",
            )
            if dropout is not None and training:
                net = tf.layers.dropout(net, rate=dropout, training=True)
            if batch_norm:
                net = tf.layers.batch_normalization(
                    net, momentum=0.999, training=training, name=f"hiddenlayer_{i}/batchnorm_{i}"
                )
            _layer_summaries(net, f"dnn/hiddenlayer_{i}")
        logits = tf.layers.dense(
            net,
            units,
            activation=None,
            kernel_initializer=tf.glorot_uniform_initializer(),
            name="logits",
        )
        _layer_summaries(logits, "dnn/logits")
        return logits


def _layer_summaries(value, tag):
    """TF's per-layer summaries (tags ``dnn/dnn/<layer>/...`` under the ``dnn`` scope)."""
    tf.summary.scalar(f"{tag}/fraction_of_zero_values", tf.nn.zero_fraction(value))
    tf.summary.histogram(f"{tag}/activation", value)


def _check_args(hidden_units, feature_columns):
    if not hidden_units:
        raise ValueError("hidden_units should be a non-empty list of layer sizes.")
    feature_columns = tuple(feature_columns or ())
    if not feature_columns:
        raise ValueError("feature_columns should not be empty.")
    return list(hidden_units), feature_columns


def _dnn_model_fn(
    head, hidden_units, feature_columns, optimizer, activation_fn, dropout, batch_norm
):
    def model_fn(features, labels, mode, config):
        head_lib.check_features(features)
        logits = dnn_logits(
            features,
            feature_columns,
            hidden_units,
            head.logits_dimension,
            activation_fn,
            dropout,
            mode,
            batch_norm,
        )

        def train_op_fn(loss):
            opt = get_optimizer_instance(optimizer, learning_rate=LEARNING_RATE)
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                return opt.minimize(loss, global_step=tf.train.get_global_step())

        return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

    return model_fn


class DNNClassifier(Estimator):
    """A feed-forward network classifier over feature columns.

    ``DNNClassifier(hidden_units, feature_columns, model_dir=None, n_classes=2,
    weight_column=None, label_vocabulary=None, optimizer='Adagrad',
    activation_fn=tf.nn.relu, dropout=None, input_layer_partitioner=None, config=None,
    warm_start_from=None, loss_reduction=tf.losses.Reduction.SUM, batch_norm=False)``
    """

    def __init__(
        self,
        hidden_units,
        feature_columns,
        model_dir=None,
        n_classes=2,
        weight_column=None,
        label_vocabulary=None,
        optimizer="Adagrad",
        activation_fn=None,
        dropout=None,
        input_layer_partitioner=None,
        config=None,
        warm_start_from=None,
        loss_reduction=None,
        batch_norm=False,
    ):
        hidden_units, feature_columns = _check_args(hidden_units, feature_columns)
        head = head_lib.classification_head(
            n_classes, weight_column, label_vocabulary, loss_reduction
        )
        model_fn = _dnn_model_fn(
            head,
            hidden_units,
            feature_columns,
            optimizer,
            activation_fn or tf.nn.relu,
            dropout,
            batch_norm,
        )
        super().__init__(
            model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )


class DNNRegressor(Estimator):
    """A feed-forward network regressor (squared error) over feature columns.

    ``DNNRegressor(hidden_units, feature_columns, model_dir=None, label_dimension=1,
    weight_column=None, optimizer='Adagrad', activation_fn=tf.nn.relu, dropout=None,
    input_layer_partitioner=None, config=None, warm_start_from=None,
    loss_reduction=tf.losses.Reduction.SUM, batch_norm=False)``
    """

    def __init__(
        self,
        hidden_units,
        feature_columns,
        model_dir=None,
        label_dimension=1,
        weight_column=None,
        optimizer="Adagrad",
        activation_fn=None,
        dropout=None,
        input_layer_partitioner=None,
        config=None,
        warm_start_from=None,
        loss_reduction=None,
        batch_norm=False,
    ):
        hidden_units, feature_columns = _check_args(hidden_units, feature_columns)
        head = head_lib.RegressionHead(label_dimension, weight_column, loss_reduction)
        model_fn = _dnn_model_fn(
            head,
            hidden_units,
            feature_columns,
            optimizer,
            activation_fn or tf.nn.relu,
            dropout,
            batch_norm,
        )
        super().__init__(
            model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )
