"""`tf.metrics`: streaming metrics as TF1's (value, update_op) pairs, accumulated in local
variables (``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``; reset them with
`tf.local_variables_initializer`). Graph mode only, as in TF 1.x."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops as _arr
from miniflow.ops import control_flow_ops
from miniflow.ops import math_ops as _math
from miniflow.ops.variable_scope import variable_scope
from miniflow.ops.variables import Variable

_EPSILON = 1e-7  # threshold margin
_AUC_EPSILON = 1e-6  # smoothing in the rates, as TF


def _check_graph_mode(name):
    if current_frontend().eager:
        raise RuntimeError(f"tf.metrics.{name} is not supported when eager execution is "
                           "enabled.")


def _metric_variable(shape, dtype, name):
    return Variable(np.zeros(shape, dtype=dtypes.as_dtype(dtype).np), trainable=False,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
                    name=name)


def _div_no_nan(num, den):
    safe = _math.where(den > 0, den, _arr.ones_like(den))
    return _math.where(den > 0, num / safe, _arr.zeros_like(num))


def _weights_like(values, weights):
    if weights is None:
        return _arr.ones_like(values)
    return _math.cast(weights, values.dtype) * _arr.ones_like(values)


def _collect(value, update, metrics_collections, updates_collections):
    graph = get_default_graph()
    for c in metrics_collections or []:
        graph.add_to_collection(c, value)
    for c in updates_collections or []:
        graph.add_to_collection(c, update)
    return value, update


def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """The running (weighted) mean of ``values``: (mean, update_op)."""
    _check_graph_mode("mean")
    with variable_scope(name, "mean"):
        values = _math.cast(_arr.convert_to_tensor(values), dtypes.float32)
        w = _weights_like(values, weights)
        total = _metric_variable([], dtypes.float32, "total")
        count = _metric_variable([], dtypes.float32, "count")
        update_total = total.assign_add(_math.reduce_sum(values * w))
        update_count = count.assign_add(_math.reduce_sum(w))
        value = _div_no_nan(total.value(), count.value())
        with control_flow_ops.control_dependencies([update_total, update_count]):
            update = _div_no_nan(_arr.identity(update_total), _arr.identity(update_count))
    return _collect(value, update, metrics_collections, updates_collections)


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """The running fraction of ``predictions`` equal to ``labels``."""
    _check_graph_mode("accuracy")
    labels = _arr.convert_to_tensor(labels)
    predictions = _math.cast(_arr.convert_to_tensor(predictions), labels.dtype)
    correct = _math.cast(_math.equal(labels, predictions), dtypes.float32)
    return mean(correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def _count(flags, weights, name):
    """A running weighted count of the true entries of ``flags``: (value, update)."""
    flags = _math.cast(flags, dtypes.float32)
    total = _metric_variable([], dtypes.float32, name)
    return total, total.assign_add(_math.reduce_sum(flags * _weights_like(flags, weights)))


def _ratio(name, labels, predictions, weights, positive_of, metrics_collections,
           updates_collections):
    _check_graph_mode(name)
    with variable_scope(None, name):
        pred = _math.cast(_arr.convert_to_tensor(predictions), dtypes.bool)
        lab = _math.cast(_arr.convert_to_tensor(labels), dtypes.bool)
        tp_var, tp_up = _count(_math.logical_and(pred, lab), weights, "true_positives")
        other = _math.logical_and(pred, _math.logical_not(lab)) if positive_of == "pred" \
            else _math.logical_and(_math.logical_not(pred), lab)
        o_var, o_up = _count(other, weights,
                             "false_positives" if positive_of == "pred" else "false_negatives")
        value = _div_no_nan(tp_var.value(), tp_var.value() + o_var.value())
        update = _div_no_nan(tp_up, tp_up + o_up)
    return _collect(value, update, metrics_collections, updates_collections)


def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """Running true_positives / (true_positives + false_positives)."""
    return _ratio(name or "precision", labels, predictions, weights, "pred",
                  metrics_collections, updates_collections)


def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """Running true_positives / (true_positives + false_negatives)."""
    return _ratio(name or "recall", labels, predictions, weights, "label",
                  metrics_collections, updates_collections)


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """Area under the ROC (or PR) curve, from confusion counts at ``num_thresholds``
    evenly spaced thresholds (TF1's approximation; trapezoidal rule).

    Raises:
        ValueError: unknown curve or summation method.
    """
    _check_graph_mode("auc")
    if curve not in ("ROC", "PR"):
        raise ValueError(f"curve must be either ROC or PR, {curve} unknown")
    if summation_method not in ("trapezoidal", "careful_interpolation", "minoring",
                                "majoring"):
        raise ValueError(f"Invalid summation_method: {summation_method}")
    if thresholds is None:
        kept = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        thresholds = [0.0 - _EPSILON] + kept + [1.0 + _EPSILON]
    thr = np.asarray(thresholds, dtype=np.float32)
    with variable_scope(None, name or "auc"):
        pred = _math.cast(_arr.reshape(_arr.convert_to_tensor(predictions), [1, -1]),
                          dtypes.float32)
        lab = _math.cast(_arr.reshape(_arr.convert_to_tensor(labels), [1, -1]), dtypes.bool)
        w = _arr.reshape(_weights_like(_arr.reshape(pred, [-1]), weights), [1, -1])
        above = pred > _arr.constant(thr.reshape(-1, 1))
        counts = {}
        for key, flags in (("tp", _math.logical_and(above, lab)),
                           ("fn", _math.logical_and(_math.logical_not(above), lab)),
                           ("tn", _math.logical_and(_math.logical_not(above),
                                                    _math.logical_not(lab))),
                           ("fp", _math.logical_and(above, _math.logical_not(lab)))):
            var = _metric_variable([len(thr)], dtypes.float32, {
                "tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives",
                "fp": "false_positives"}[key])
            inc = _math.reduce_sum(_math.cast(flags, dtypes.float32) * w, axis=1)
            counts[key] = (var, var.assign_add(inc))
        value = _area({k: v.value() for k, (v, _) in counts.items()}, curve)
        update = _area({k: u for k, (_, u) in counts.items()}, curve)
    return _collect(value, update, metrics_collections, updates_collections)


def _area(c, curve):
    tp, fn, tn, fp = c["tp"], c["fn"], c["tn"], c["fp"]
    if curve == "ROC":
        x = fp / (fp + tn + _AUC_EPSILON)
        y = (tp + _AUC_EPSILON) / (tp + fn + _AUC_EPSILON)
    else:
        x = (tp + _AUC_EPSILON) / (tp + fn + _AUC_EPSILON)
        y = (tp + _AUC_EPSILON) / (tp + fp + _AUC_EPSILON)
    return _math.reduce_sum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2.0)
