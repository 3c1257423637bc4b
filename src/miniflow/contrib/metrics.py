"""`tf.contrib.metrics`: the ``streaming_*`` spellings of `tf.metrics` (note their
argument order: ``predictions`` first), a non-streaming `accuracy`, `f1_score` and the
aggregation helpers."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.ops import array_ops, math_ops, metrics_at_k as _at_k, metrics_impl as _m
from miniflow.ops.variable_scope import variable_scope


def _streaming(fn):
    """A `tf.metrics` function taking (labels, predictions, ...) as contrib's
    (predictions, labels, ...)."""

    def streaming(predictions, labels, *args, **kwargs):
        return fn(labels, predictions, *args, **kwargs)

    streaming.__name__ = f"streaming_{fn.__name__}"
    streaming.__doc__ = f"`tf.metrics.{fn.__name__}` with ``predictions`` first."
    return streaming


streaming_accuracy = _streaming(_m.accuracy)
streaming_precision = _streaming(_m.precision)
streaming_recall = _streaming(_m.recall)
streaming_auc = _streaming(_m.auc)
streaming_mean_absolute_error = _streaming(_m.mean_absolute_error)
streaming_mean_squared_error = _streaming(_m.mean_squared_error)
streaming_root_mean_squared_error = _streaming(_m.root_mean_squared_error)
streaming_mean_relative_error = _streaming(_m.mean_relative_error)
streaming_mean_cosine_distance = _streaming(_m.mean_cosine_distance)
streaming_mean_iou = _streaming(_m.mean_iou)
streaming_true_positives = _streaming(_m.true_positives)
streaming_false_positives = _streaming(_m.false_positives)
streaming_true_negatives = _streaming(_m.true_negatives)
streaming_false_negatives = _streaming(_m.false_negatives)
streaming_precision_at_thresholds = _streaming(_m.precision_at_thresholds)
streaming_recall_at_thresholds = _streaming(_m.recall_at_thresholds)
streaming_sensitivity_at_specificity = _streaming(_m.sensitivity_at_specificity)
streaming_specificity_at_sensitivity = _streaming(_m.specificity_at_sensitivity)
streaming_sparse_precision_at_k = _streaming(_at_k.precision_at_k)
streaming_sparse_recall_at_k = _streaming(_at_k.recall_at_k)
streaming_sparse_average_precision_at_k = _streaming(_at_k.average_precision_at_k)
streaming_mean = _m.mean
streaming_mean_tensor = _m.mean_tensor
streaming_percentage_less = _m.percentage_below


def accuracy(predictions, labels, weights=None, name=None):
    """The (weighted) fraction of ``predictions`` equal to ``labels`` in this batch.

    Raises:
        ValueError: labels are not bool, integer or string, or the dtypes differ.
    """
    predictions, labels = (
        array_ops.convert_to_tensor(predictions),
        array_ops.convert_to_tensor(labels),
    )
    if not (labels.dtype.is_integer or labels.dtype in (dtypes.bool, dtypes.string)):
        raise ValueError(f"Labels should have bool, integer, or string dtype, not {labels.dtype!r}")
    if labels.dtype != predictions.dtype:
        raise ValueError(
            f"Dtypes of predictions and labels should match. Given: "
            f"predictions ({predictions.dtype!r}) and labels ({labels.dtype!r})"
        )
    correct = math_ops.cast(math_ops.equal(predictions, labels), dtypes.float32)
    if weights is None:
        return math_ops.reduce_mean(correct, name=name)
    weights = math_ops.cast(weights, dtypes.float32)
    return math_ops.truediv(
        math_ops.reduce_sum(correct * weights),
        math_ops.reduce_sum(weights * array_ops.ones_like(correct)),
        name=name,
    )


def f1_score(
    labels,
    predictions,
    weights=None,
    num_thresholds=200,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running best F1 score over ``num_thresholds`` thresholds of ``predictions``
    (scores in [0, 1])."""
    _m.check_graph_mode("f1_score")
    eps = _m._EPSILON
    with variable_scope(name, "f1"):
        values, updates = _m.confusion_at_thresholds(
            labels,
            predictions,
            _m._even_thresholds(num_thresholds),
            weights,
            includes=("tp", "fp", "fn"),
        )

        def best(c, name):
            p = math_ops.truediv(c["tp"], eps + c["tp"] + c["fp"], name=f"precision_{name}")
            r = math_ops.truediv(c["tp"], eps + c["tp"] + c["fn"], name=f"recall_{name}")
            return math_ops.reduce_max(2.0 * p * r / (p + r + eps))

        value, update = best(values, "value"), best(updates, "update")
    return _m._collect(value, update, metrics_collections, updates_collections)


def aggregate_metrics(*value_update_tuples):
    """``(v1, u1), (v2, u2), ...`` -> ``([v1, v2, ...], [u1, u2, ...])``.

    Raises:
        ValueError: no tuples given.
    """
    if not value_update_tuples:
        raise ValueError("Expected at least one value_tensor/update_op pair")
    values, updates = zip(*value_update_tuples)
    return list(values), list(updates)


def aggregate_metric_map(names_to_tuples):
    """``{name: (value, update)}`` -> ``({name: value}, {name: update})``."""
    names = sorted(names_to_tuples)
    values, updates = aggregate_metrics(*[names_to_tuples[n] for n in names])
    return dict(zip(names, values)), dict(zip(names, updates))
