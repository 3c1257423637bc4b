"""Wide & deep: `DNNLinearCombinedClassifier` / `Regressor`. The logits are the sum of a
linear model (scope ``linear``, FTRL, learning rate min(0.005, 1/sqrt(#columns))) and a
DNN (scope ``dnn``, Adagrad, learning rate 0.001); each optimizer updates only its own
part's variables and the step increments once, as in TF 1.15."""

from __future__ import annotations

import math

import miniflow as tf
from miniflow.estimator.canned import head as head_lib
from miniflow.estimator.canned.dnn import dnn_logits
from miniflow.estimator.canned.linear import linear_logits
from miniflow.estimator.canned.optimizers import get_optimizer_instance
from miniflow.estimator.estimator import Estimator

DNN_LEARNING_RATE = 0.001
LINEAR_LEARNING_RATE = 0.005


def _combined_model_fn(
    head,
    linear_feature_columns,
    linear_optimizer,
    dnn_feature_columns,
    dnn_optimizer,
    dnn_hidden_units,
    dnn_activation_fn,
    dnn_dropout,
    batch_norm,
    linear_sparse_combiner,
):
    def model_fn(features, labels, mode, config):
        head_lib.check_features(features)
        parts = []
        if dnn_feature_columns:
            parts.append(
                (
                    "dnn",
                    dnn_optimizer,
                    DNN_LEARNING_RATE,
                    dnn_logits(
                        features,
                        dnn_feature_columns,
                        dnn_hidden_units,
                        head.logits_dimension,
                        dnn_activation_fn,
                        dnn_dropout,
                        mode,
                        batch_norm,
                    ),
                )
            )
        if linear_feature_columns:
            rate = min(LINEAR_LEARNING_RATE, 1.0 / math.sqrt(len(linear_feature_columns)))
            parts.append(
                (
                    "linear",
                    linear_optimizer,
                    rate,
                    linear_logits(
                        features,
                        linear_feature_columns,
                        head.logits_dimension,
                        linear_sparse_combiner,
                    ),
                )
            )
        logits = parts[0][3] if len(parts) == 1 else tf.add(parts[0][3], parts[1][3])

        def train_op_fn(loss):
            train_ops = []
            for scope, optimizer, rate, _ in parts:
                opt = get_optimizer_instance(optimizer, learning_rate=rate)
                var_list = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope=scope)
                with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                    train_ops.append(opt.minimize(loss, var_list=var_list))
            with tf.control_dependencies([tf.group(*train_ops)]):
                return tf.assign_add(tf.train.get_global_step(), 1).op

        return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

    return model_fn


def _check_columns(linear_feature_columns, dnn_feature_columns, dnn_hidden_units):
    linear = tuple(linear_feature_columns or ())
    dnn = tuple(dnn_feature_columns or ())
    if not linear and not dnn:
        raise ValueError("Either linear_feature_columns or dnn_feature_columns must be defined.")
    if dnn and not dnn_hidden_units:
        raise ValueError(
            f"dnn_hidden_units must be defined when dnn_feature_columns is "
            f"specified. dnn_feature_columns: {list(dnn)}"
        )
    return linear, dnn


class DNNLinearCombinedClassifier(Estimator):
    """Wide & deep classifier: linear logits over ``linear_feature_columns`` plus DNN
    logits over ``dnn_feature_columns``.

    ``DNNLinearCombinedClassifier(model_dir=None, linear_feature_columns=None,
    linear_optimizer='Ftrl', dnn_feature_columns=None, dnn_optimizer='Adagrad',
    dnn_hidden_units=None, dnn_activation_fn=tf.nn.relu, dnn_dropout=None, n_classes=2,
    weight_column=None, label_vocabulary=None, input_layer_partitioner=None, config=None,
    warm_start_from=None, loss_reduction=tf.losses.Reduction.SUM, batch_norm=False,
    linear_sparse_combiner='sum')``
    """

    def __init__(
        self,
        model_dir=None,
        linear_feature_columns=None,
        linear_optimizer="Ftrl",
        dnn_feature_columns=None,
        dnn_optimizer="Adagrad",
        dnn_hidden_units=None,
        dnn_activation_fn=None,
        dnn_dropout=None,
        n_classes=2,
        weight_column=None,
        label_vocabulary=None,
        input_layer_partitioner=None,
        config=None,
        warm_start_from=None,
        loss_reduction=None,
        batch_norm=False,
        linear_sparse_combiner="sum",
    ):
        linear, dnn = _check_columns(linear_feature_columns, dnn_feature_columns, dnn_hidden_units)
        head = head_lib.classification_head(
            n_classes, weight_column, label_vocabulary, loss_reduction
        )
        model_fn = _combined_model_fn(
            head,
            linear,
            linear_optimizer,
            dnn,
            dnn_optimizer,
            dnn_hidden_units,
            dnn_activation_fn or tf.nn.relu,
            dnn_dropout,
            batch_norm,
            linear_sparse_combiner,
        )
        super().__init__(
            model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )


class DNNLinearCombinedRegressor(Estimator):
    """Wide & deep regressor (squared error).

    ``DNNLinearCombinedRegressor(model_dir=None, linear_feature_columns=None,
    linear_optimizer='Ftrl', dnn_feature_columns=None, dnn_optimizer='Adagrad',
    dnn_hidden_units=None, dnn_activation_fn=tf.nn.relu, dnn_dropout=None,
    label_dimension=1, weight_column=None, input_layer_partitioner=None, config=None,
    warm_start_from=None, loss_reduction=tf.losses.Reduction.SUM, batch_norm=False,
    linear_sparse_combiner='sum')``
    """

    def __init__(
        self,
        model_dir=None,
        linear_feature_columns=None,
        linear_optimizer="Ftrl",
        dnn_feature_columns=None,
        dnn_optimizer="Adagrad",
        dnn_hidden_units=None,
        dnn_activation_fn=None,
        dnn_dropout=None,
        label_dimension=1,
        weight_column=None,
        input_layer_partitioner=None,
        config=None,
        warm_start_from=None,
        loss_reduction=None,
        batch_norm=False,
        linear_sparse_combiner="sum",
    ):
        linear, dnn = _check_columns(linear_feature_columns, dnn_feature_columns, dnn_hidden_units)
        head = head_lib.RegressionHead(label_dimension, weight_column, loss_reduction)
        model_fn = _combined_model_fn(
            head,
            linear,
            linear_optimizer,
            dnn,
            dnn_optimizer,
            dnn_hidden_units,
            dnn_activation_fn or tf.nn.relu,
            dnn_dropout,
            batch_norm,
            linear_sparse_combiner,
        )
        super().__init__(
            model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )
