"""Heads of the canned estimators: from logits and labels, the loss, predictions, eval
metrics and export signatures of one kind of problem (TF 1.15's ``head.py``):

- binary classification, sigmoid cross entropy (``n_classes=2``);
- multi-class classification, softmax cross entropy;
- regression, squared error.

The training loss is reduced with ``loss_reduction`` (TF1's canned default: SUM over the
batch); ``average_loss`` is the weighted mean of the per-example losses.
"""

from __future__ import annotations

import miniflow as tf
from miniflow.estimator import export as export_lib
from miniflow.estimator.model_fn import EstimatorSpec, ModeKeys
from miniflow.saved_model.impl import DEFAULT_SERVING_SIGNATURE_DEF_KEY

_CLASSIFY, _REGRESS, _PREDICT = "classification", "regression", "predict"


class _Head:
    """Builds the `EstimatorSpec` of a model from its logits."""

    logits_dimension = 1

    def __init__(self, weight_column=None, loss_reduction=None):
        if loss_reduction is None:
            loss_reduction = tf.losses.Reduction.SUM
        if loss_reduction == tf.losses.Reduction.NONE or loss_reduction not in (
            tf.losses.Reduction.SUM,
            tf.losses.Reduction.MEAN,
            tf.losses.Reduction.SUM_OVER_BATCH_SIZE,
            tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS,
        ):
            raise ValueError(f"Invalid loss_reduction: {loss_reduction}")
        self._weight_column = weight_column
        self._loss_reduction = loss_reduction

    def _weights(self, features, logits):
        if self._weight_column is None:
            return 1.0
        key = getattr(self._weight_column, "key", self._weight_column)
        if key not in features:
            raise ValueError(f"Weight column {key!r} is not in features: {sorted(features)}")
        weights = tf.cast(features[key], tf.float32)
        return tf.reshape(weights, [-1, 1])

    def _labels_2d(self, labels, logits, dimension):
        if labels is None:
            raise ValueError(
                "You must provide a labels Tensor. Given: None. Suggested "
                "troubleshooting steps: Check that your data contain your label "
                "feature. Check that your input_fn properly parses and returns "
                "labels."
            )
        if isinstance(labels, dict):
            raise ValueError(f"labels must be a Tensor, got the dict {sorted(labels)}.")
        labels = tf.convert_to_tensor(labels)
        if labels.shape.ndims == 1 or (labels.shape.ndims is None):
            labels = tf.reshape(labels, [-1, dimension])
        elif labels.shape.ndims != 2 or labels.shape.as_list()[1] not in (None, dimension):
            raise ValueError(
                f"Mismatched label shape. Expected labels dimension={dimension}. "
                f"Received {labels.shape.as_list()[1:]}."
            )
        return labels

    def create_estimator_spec(self, features, mode, logits, labels=None, train_op_fn=None):
        """The spec for ``mode``; ``train_op_fn(loss)`` builds the train op."""
        with tf.name_scope("head"):
            predictions = self._predictions(logits)
            if mode == ModeKeys.PREDICT:
                return EstimatorSpec(
                    mode, predictions=predictions, export_outputs=self._export_outputs(predictions)
                )
            unreduced, weights, labels = self._unreduced_loss(features, logits, labels)
            loss = tf.losses.compute_weighted_loss(
                unreduced, weights=weights, reduction=self._loss_reduction, loss_collection=None
            )
            if mode == ModeKeys.EVAL:
                return EstimatorSpec(
                    mode,
                    predictions=predictions,
                    loss=loss,
                    eval_metric_ops=self._metrics(unreduced, weights, labels, predictions),
                )
            if train_op_fn is None:
                raise ValueError("train_op_fn cannot be None.")
            with tf.name_scope(None):
                tf.summary.scalar(
                    "average_loss",
                    tf.losses.compute_weighted_loss(
                        unreduced,
                        weights=weights,
                        reduction=tf.losses.Reduction.MEAN,
                        loss_collection=None,
                    ),
                )
            return EstimatorSpec(
                mode, predictions=predictions, loss=loss, train_op=train_op_fn(loss)
            )


class _ClassificationHead(_Head):
    def __init__(self, n_classes, weight_column=None, label_vocabulary=None, loss_reduction=None):
        super().__init__(weight_column, loss_reduction)
        if label_vocabulary is not None:
            if not isinstance(label_vocabulary, list | tuple):
                raise ValueError(
                    f"label_vocabulary should be a list or a tuple. Given type: "
                    f"{type(label_vocabulary)}"
                )
            if len(label_vocabulary) != n_classes:
                raise ValueError(
                    f"label_vocabulary length ({len(label_vocabulary)}) must be "
                    f"n_classes ({n_classes})."
                )
        self._n_classes = n_classes
        self._vocab = None if label_vocabulary is None else [str(v) for v in label_vocabulary]

    def _label_ids(self, labels):
        """int64 class ids [batch, 1] checked to be in [0, n_classes)."""
        if self._vocab is not None:
            if labels.dtype != tf.string:
                raise ValueError(
                    f"Labels dtype should be string if there is a vocabulary. Given: {labels.dtype}"
                )
            table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    self._vocab, list(range(self._n_classes)), value_dtype=tf.int64
                ),
                -1,
            )
            ids = table.lookup(labels)
        else:
            if labels.dtype == tf.string or not (
                labels.dtype.is_integer or labels.dtype.is_floating
            ):
                raise ValueError(f"Labels dtype should be integer. Instead got {labels.dtype}.")
            ids = tf.cast(labels, tf.int64)
        checks = [
            tf.assert_less(
                ids,
                tf.constant(self._n_classes, tf.int64),
                message="Labels must be <= n_classes - 1",
            ),
            tf.assert_non_negative(ids, message="Labels must be >= 0"),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(ids)

    def _class_strings(self, ids):
        if self._vocab is None:
            return tf.as_string(ids, name="str_classes")
        return tf.gather(tf.constant(self._vocab), ids)

    def _class_predictions(self, logits, probabilities):
        class_ids = tf.expand_dims(tf.argmax(probabilities, axis=1), -1)
        all_ids = tf.tile(tf.expand_dims(tf.range(self._n_classes), 0), [tf.shape(logits)[0], 1])
        return {
            "class_ids": class_ids,
            "classes": self._class_strings(class_ids),
            "all_class_ids": all_ids,
            "all_classes": self._class_strings(all_ids),
        }

    def _classification_output(self, predictions):
        return export_lib.ClassificationOutput(
            scores=predictions["probabilities"], classes=predictions["all_classes"]
        )


class BinaryClassHead(_ClassificationHead):
    """Sigmoid cross entropy for labels in {0, 1} (or a 2-word ``label_vocabulary``)."""

    def __init__(self, weight_column=None, label_vocabulary=None, loss_reduction=None):
        super().__init__(2, weight_column, label_vocabulary, loss_reduction)

    def _predictions(self, logits):
        two_class_logits = tf.concat(
            [tf.zeros_like(logits), logits], axis=-1, name="two_class_logits"
        )
        probabilities = tf.nn.softmax(two_class_logits, name="probabilities")
        return {
            "logits": logits,
            "logistic": tf.sigmoid(logits, name="logistic"),
            "probabilities": probabilities,
            **self._class_predictions(logits, two_class_logits),
        }

    def _unreduced_loss(self, features, logits, labels):
        labels = tf.cast(self._label_ids(self._labels_2d(labels, logits, 1)), tf.float32)
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        return loss, self._weights(features, logits), labels

    def _metrics(self, unreduced, weights, labels, predictions):
        class_ids = predictions["class_ids"]
        label_mean = tf.metrics.mean(labels, weights=_broadcast(weights, labels), name="label/mean")
        logistic = predictions["logistic"]
        return {
            "average_loss": tf.metrics.mean(
                unreduced, weights=_broadcast(weights, unreduced), name="average_loss"
            ),
            "accuracy": tf.metrics.accuracy(labels, class_ids, weights=weights, name="accuracy"),
            "precision": tf.metrics.precision(labels, class_ids, weights=weights, name="precision"),
            "recall": tf.metrics.recall(labels, class_ids, weights=weights, name="recall"),
            "prediction/mean": tf.metrics.mean(
                logistic, weights=_broadcast(weights, logistic), name="prediction/mean"
            ),
            "label/mean": label_mean,
            "accuracy_baseline": tuple(tf.maximum(t, 1.0 - t) for t in label_mean),
            "auc": tf.metrics.auc(labels, logistic, weights=weights, name="auc"),
            "auc_precision_recall": tf.metrics.auc(
                labels, logistic, weights=weights, curve="PR", name="auc_precision_recall"
            ),
        }

    def _export_outputs(self, predictions):
        classification = self._classification_output(predictions)
        return {
            DEFAULT_SERVING_SIGNATURE_DEF_KEY: classification,
            _CLASSIFY: classification,
            _REGRESS: export_lib.RegressionOutput(predictions["logistic"]),
            _PREDICT: export_lib.PredictOutput(predictions),
        }


class MultiClassHead(_ClassificationHead):
    """Softmax cross entropy over ``n_classes`` (> 2) classes."""

    def __init__(self, n_classes, weight_column=None, label_vocabulary=None, loss_reduction=None):
        if n_classes is None or n_classes <= 2:
            raise ValueError(f"n_classes must be > 2: {n_classes}.")
        super().__init__(n_classes, weight_column, label_vocabulary, loss_reduction)
        self.logits_dimension = n_classes

    def _predictions(self, logits):
        probabilities = tf.nn.softmax(logits, name="probabilities")
        return {
            "logits": logits,
            "probabilities": probabilities,
            **self._class_predictions(logits, logits),
        }

    def _unreduced_loss(self, features, logits, labels):
        ids = self._label_ids(self._labels_2d(labels, logits, 1))
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.reshape(ids, [-1]), logits=logits
        )
        return tf.expand_dims(loss, -1), self._weights(features, logits), ids

    def _metrics(self, unreduced, weights, labels, predictions):
        return {
            "average_loss": tf.metrics.mean(
                unreduced, weights=_broadcast(weights, unreduced), name="average_loss"
            ),
            "accuracy": tf.metrics.accuracy(
                labels, predictions["class_ids"], weights=weights, name="accuracy"
            ),
        }

    def _export_outputs(self, predictions):
        classification = self._classification_output(predictions)
        return {
            DEFAULT_SERVING_SIGNATURE_DEF_KEY: classification,
            _CLASSIFY: classification,
            _PREDICT: export_lib.PredictOutput(predictions),
        }


class RegressionHead(_Head):
    """Squared error for float labels of ``label_dimension`` values."""

    def __init__(self, label_dimension=1, weight_column=None, loss_reduction=None):
        if label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        super().__init__(weight_column, loss_reduction)
        self.logits_dimension = label_dimension

    def _predictions(self, logits):
        return {"predictions": logits}

    def _unreduced_loss(self, features, logits, labels):
        labels = self._labels_2d(labels, logits, self.logits_dimension)
        if labels.dtype == tf.string:
            raise ValueError("Labels dtype should be numeric for regression.")
        labels = tf.cast(labels, tf.float32)
        return tf.squared_difference(logits, labels), self._weights(features, logits), labels

    def _metrics(self, unreduced, weights, labels, predictions):
        values = predictions["predictions"]
        return {
            "average_loss": tf.metrics.mean(
                unreduced, weights=_broadcast(weights, unreduced), name="average_loss"
            ),
            "prediction/mean": tf.metrics.mean(
                values, weights=_broadcast(weights, values), name="prediction/mean"
            ),
            "label/mean": tf.metrics.mean(
                labels, weights=_broadcast(weights, labels), name="label/mean"
            ),
        }

    def _export_outputs(self, predictions):
        regression = export_lib.RegressionOutput(predictions["predictions"])
        return {
            DEFAULT_SERVING_SIGNATURE_DEF_KEY: regression,
            _REGRESS: regression,
            _PREDICT: export_lib.PredictOutput(predictions),
        }


def check_features(features):
    """The canned models take a dict of feature tensors."""
    if not isinstance(features, dict):
        raise ValueError(
            f"features should be a dictionary of `Tensor`s. Given type: {type(features)}"
        )


def _broadcast(weights, values):
    """``weights`` ([batch, 1] or 1.0) broadcast to the shape of ``values``."""
    if isinstance(weights, float):
        return None
    return weights * tf.ones_like(values)


def classification_head(
    n_classes, weight_column=None, label_vocabulary=None, loss_reduction=None
) -> _Head:
    """The binary head for ``n_classes == 2``, else the multi-class head."""
    if n_classes == 2:
        return BinaryClassHead(weight_column, label_vocabulary, loss_reduction)
    return MultiClassHead(n_classes, weight_column, label_vocabulary, loss_reduction)
