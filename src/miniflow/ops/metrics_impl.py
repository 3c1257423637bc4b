"""`tf.metrics`: streaming metrics as TF1's (value, update_op) pairs, accumulated in local
variables (``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``; reset them with
`tf.local_variables_initializer`). Graph mode only, as in TF 1.x. The formulas, epsilons
and variable names are TF1's (``metrics_impl.py``), quirks included: `mean_iou`'s update
op is the confusion matrix, `mean_per_class_accuracy`'s the per-class accuracies.
The top-k family (``precision_at_k``, ...) is in `metrics_at_k.py`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops as _arr, check_ops, control_flow_ops, math_ops as _math
from miniflow.ops.variable_scope import variable_scope
from miniflow.ops.variables import Variable

_EPSILON = 1e-7  # threshold margin and the rates' epsilon (TF's kepsilon)
_AUC_EPSILON = 1e-6  # smoothing in the AUC rates, as TF


# -- shared pieces -------------------------------------------------------------------------


def check_graph_mode(name):
    if current_frontend().eager:
        raise RuntimeError(f"tf.metrics.{name} is not supported when eager execution is enabled.")


def metric_variable(shape, dtype, name):
    """A zero-initialized local variable in ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``
    (created outside any control dependencies, as TF's init scope)."""
    with get_default_graph().control_dependencies(None):
        return Variable(
            np.zeros(shape, dtype=dtypes.as_dtype(dtype).np),
            trainable=False,
            collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
            name=name,
        )


def _safe_div(num, den, name=None):
    """num / den, and 0 where den <= 0 (TF1 metrics' `_safe_div`, not `div_no_nan`)."""
    safe = _math.where(den > 0, den, _arr.ones_like(den))
    return _math.where(den > 0, num / safe, _arr.zeros_like(num), name=name)


def _tensor(x, dtype=None):
    x = _arr.convert_to_tensor(x)
    return x if dtype is None or x.dtype == dtype else _math.cast(x, dtype)


def _squeeze_last(a, b):
    """TF's remove_squeezable_dimensions: drops a trailing size-1 dimension of whichever
    of ``a`` and ``b`` has one more dimension than the other (static ranks)."""
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is not None and rb is not None:
        if ra == rb + 1 and a.shape.as_list()[-1] in (1, None):
            a = _arr.squeeze(a, [-1])
        elif rb == ra + 1 and b.shape.as_list()[-1] in (1, None):
            b = _arr.squeeze(b, [-1])
    return a, b


def _prepare(predictions, labels, weights, pred_dtype=None, label_dtype=None):
    predictions, labels = _tensor(predictions, pred_dtype), _tensor(labels, label_dtype)
    predictions, labels = _squeeze_last(predictions, labels)
    if weights is not None:
        weights = _tensor(weights, dtypes.float32)
        weights, _ = _squeeze_last(weights, predictions) if weights.shape.ndims else (weights, None)
    return predictions, labels, weights


def _broadcast_weights(weights, values):
    return weights * _arr.ones_like(values, dtype=dtypes.float32)


def _collect(value, update, metrics_collections, updates_collections):
    graph = get_default_graph()
    for c in metrics_collections or []:
        graph.add_to_collection(c, value)
    for c in updates_collections or []:
        graph.add_to_collection(c, update)
    return value, update


# -- means ---------------------------------------------------------------------------------


def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The running (weighted) mean of ``values``: (mean, update_op)."""
    check_graph_mode("mean")
    with variable_scope(name, "mean"):
        values = _tensor(values, dtypes.float32)
        total = metric_variable([], dtypes.float32, "total")
        count = metric_variable([], dtypes.float32, "count")
        if weights is None:
            num_values = _math.cast(_arr.size(values), dtypes.float32)
        else:
            values, weights = _squeeze_last(values, _tensor(weights, dtypes.float32))
            weights = _broadcast_weights(weights, values)
            values = values * weights
            num_values = _math.reduce_sum(weights)
        update_total = total.assign_add(_math.reduce_sum(values))
        with control_flow_ops.control_dependencies([values]):
            update_count = count.assign_add(num_values)
        value = _safe_div(total.value(), count.value(), name="value")
        update = _safe_div(update_total, update_count, name="update_op")
    return _collect(value, update, metrics_collections, updates_collections)


def mean_tensor(
    values, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The element-wise running (weighted) mean of ``values`` (fixed static shape)."""
    check_graph_mode("mean_tensor")
    with variable_scope(name, "mean"):
        values = _tensor(values, dtypes.float32)
        shape = values.shape.as_list()
        total = metric_variable(shape, dtypes.float32, "total_tensor")
        count = metric_variable(shape, dtypes.float32, "count_tensor")
        num_values = _arr.ones_like(values)
        if weights is not None:
            weights = _broadcast_weights(_tensor(weights, dtypes.float32), values)
            values, num_values = values * weights, num_values * weights
        update_total = total.assign_add(values)
        with control_flow_ops.control_dependencies([values]):
            update_count = count.assign_add(num_values)
        value = _safe_div(total.value(), count.value(), name="value")
        update = _safe_div(update_total, update_count, name="update_op")
    return _collect(value, update, metrics_collections, updates_collections)


def accuracy(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The running fraction of ``predictions`` equal to ``labels``."""
    check_graph_mode("accuracy")
    predictions, labels, weights = _prepare(predictions, labels, weights)
    if labels.dtype != predictions.dtype:
        predictions = _math.cast(predictions, labels.dtype)
    correct = _math.cast(_math.equal(predictions, labels), dtypes.float32)
    return mean(correct, weights, metrics_collections, updates_collections, name or "accuracy")


def _errors(fn, metric):
    def compute(
        labels,
        predictions,
        weights=None,
        metrics_collections=None,
        updates_collections=None,
        name=None,
    ):
        check_graph_mode(metric)
        predictions, labels, weights = _prepare(predictions, labels, weights)
        labels = _tensor(labels, predictions.dtype)
        return mean(
            fn(labels, predictions),
            weights,
            metrics_collections,
            updates_collections,
            name or metric,
        )

    compute.__name__ = metric
    return compute


mean_absolute_error = _errors(lambda y, p: _math.abs(p - y), "mean_absolute_error")
mean_absolute_error.__doc__ = "The running (weighted) mean of ``|predictions - labels|``."
mean_squared_error = _errors(lambda y, p: _math.squared_difference(y, p), "mean_squared_error")
mean_squared_error.__doc__ = "The running (weighted) mean of ``(predictions - labels)^2``."


def root_mean_squared_error(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The square root of the running mean squared error."""
    mse, update_mse = mean_squared_error(
        labels, predictions, weights, None, None, name or "root_mean_squared_error"
    )
    return _collect(
        _math.sqrt(mse), _math.sqrt(update_mse), metrics_collections, updates_collections
    )


def mean_relative_error(
    labels,
    predictions,
    normalizer,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running mean of ``|labels - predictions| / normalizer`` (0 where the normalizer
    is 0)."""
    check_graph_mode("mean_relative_error")
    predictions, labels, weights = _prepare(predictions, labels, weights)
    labels = _tensor(labels, predictions.dtype)
    normalizer = _tensor(normalizer, predictions.dtype)
    predictions, normalizer = _squeeze_last(predictions, normalizer)
    relative = _math.where(
        _math.equal(normalizer, 0.0),
        _arr.zeros_like(labels),
        _math.abs(labels - predictions) / normalizer,
    )
    return mean(
        relative, weights, metrics_collections, updates_collections, name or "mean_relative_error"
    )


def mean_cosine_distance(
    labels,
    predictions,
    dim,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """``1 -`` the running mean of ``sum(labels * predictions, dim)`` (inputs are expected
    to be unit-normalized, as TF's)."""
    check_graph_mode("mean_cosine_distance")
    predictions, labels, weights = _prepare(predictions, labels, weights)
    labels = _tensor(labels, predictions.dtype)
    radial = _math.reduce_sum(predictions * labels, axis=[dim], keepdims=True)
    value, update = mean(radial, weights, None, None, name or "mean_cosine_distance")
    return _collect(1.0 - value, 1.0 - update, metrics_collections, updates_collections)


def percentage_below(
    values, threshold, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The running fraction of ``values`` below ``threshold``."""
    check_graph_mode("percentage_below")
    below = _math.cast(_math.less(_tensor(values), threshold), dtypes.float32)
    return mean(
        below,
        weights,
        metrics_collections,
        updates_collections,
        name or "percentage_below_threshold",
    )


# -- confusion counts, precision and recall --------------------------------------------------


def _count_condition(flags, weights, metrics_collections, updates_collections):
    count = metric_variable([], dtypes.float32, "count")
    values = _math.cast(flags, dtypes.float32)
    if weights is not None:
        values = values * _broadcast_weights(_tensor(weights, dtypes.float32), values)
    update = count.assign_add(_math.reduce_sum(values))
    return _collect(_arr.identity(count.value()), update, metrics_collections, updates_collections)


def _bool_pair(labels, predictions, weights):
    return _prepare(predictions, labels, weights, dtypes.bool, dtypes.bool)


def _confusion_count(which, default):
    def compute(
        labels,
        predictions,
        weights=None,
        metrics_collections=None,
        updates_collections=None,
        name=None,
    ):
        check_graph_mode(default)
        with variable_scope(name, default):
            pred, lab, weights = _bool_pair(labels, predictions, weights)
            want_lab, want_pred = which
            flags = _math.logical_and(
                lab if want_lab else _math.logical_not(lab),
                pred if want_pred else _math.logical_not(pred),
            )
            return _count_condition(flags, weights, metrics_collections, updates_collections)

    compute.__name__ = default
    compute.__doc__ = f"The running weighted count of {default.replace('_', ' ')}."
    return compute


true_positives = _confusion_count((True, True), "true_positives")
false_positives = _confusion_count((False, True), "false_positives")
true_negatives = _confusion_count((False, False), "true_negatives")
false_negatives = _confusion_count((True, False), "false_negatives")


def _ratio(
    metric, other, labels, predictions, weights, metrics_collections, updates_collections, name
):
    check_graph_mode(metric)
    with variable_scope(name, metric):
        pred, lab, weights = _bool_pair(labels, predictions, weights)
        tp, tp_up = true_positives(lab, pred, weights)
        o, o_up = other(lab, pred, weights)

        def ratio(t, f, name):
            return _math.where(
                _math.greater(t + f, 0), _safe_div(t, t + f), _arr.zeros_like(t), name=name
            )

        value, update = ratio(tp, o, "value"), ratio(tp_up, o_up, "update_op")
    return _collect(value, update, metrics_collections, updates_collections)


def precision(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """Running true_positives / (true_positives + false_positives)."""
    return _ratio(
        "precision",
        false_positives,
        labels,
        predictions,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def recall(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """Running true_positives / (true_positives + false_negatives)."""
    return _ratio(
        "recall",
        false_negatives,
        labels,
        predictions,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def confusion_at_thresholds(
    labels, predictions, thresholds, weights=None, includes=("tp", "fn", "tn", "fp")
):
    """Running confusion counts at each threshold (``prediction > threshold`` is
    positive): ({key: variable value}, {key: update}); predictions must be in [0, 1]."""
    predictions, labels, weights = _prepare(
        predictions, labels, weights, dtypes.float32, dtypes.bool
    )
    checks = [
        check_ops.assert_greater_equal(predictions, 0.0, message="predictions must be in [0, 1]"),
        check_ops.assert_less_equal(predictions, 1.0, message="predictions must be in [0, 1]"),
    ]
    thr = np.asarray(thresholds, dtype=np.float32).reshape(-1, 1)
    variables = {
        key: metric_variable([len(thr)], dtypes.float32, _COUNT_NAMES[key]) for key in includes
    }
    with control_flow_ops.control_dependencies([c for c in checks if c is not None]):
        pred = _arr.reshape(predictions, [1, -1])
    lab = _arr.reshape(labels, [1, -1])
    pos = _math.greater(pred, _arr.constant(thr))
    w = None if weights is None else _arr.reshape(_broadcast_weights(weights, predictions), [1, -1])
    flags = {
        "tp": (lab, pos),
        "fn": (lab, _math.logical_not(pos)),
        "tn": (_math.logical_not(lab), _math.logical_not(pos)),
        "fp": (_math.logical_not(lab), pos),
    }
    values, updates = {}, {}
    for key in includes:
        hit = _math.cast(_math.logical_and(*flags[key]), dtypes.float32)
        if w is not None:
            hit = hit * w
        values[key] = variables[key].value()
        updates[key] = variables[key].assign_add(_math.reduce_sum(hit, axis=1))
    return values, updates


_COUNT_NAMES = {
    "tp": "true_positives",
    "fn": "false_negatives",
    "tn": "true_negatives",
    "fp": "false_positives",
}


def _at_thresholds(key):
    default = f"{_COUNT_NAMES[key]}_at_thresholds"

    def compute(
        labels,
        predictions,
        thresholds,
        weights=None,
        metrics_collections=None,
        updates_collections=None,
        name=None,
    ):
        check_graph_mode(default)
        with variable_scope(name, _COUNT_NAMES[key]):
            values, updates = confusion_at_thresholds(
                labels, predictions, thresholds, weights, includes=(key,)
            )
        return _collect(values[key], updates[key], metrics_collections, updates_collections)

    compute.__name__ = default
    compute.__doc__ = f"Running {_COUNT_NAMES[key].replace('_', ' ')} at each threshold."
    return compute


true_positives_at_thresholds = _at_thresholds("tp")
false_positives_at_thresholds = _at_thresholds("fp")
true_negatives_at_thresholds = _at_thresholds("tn")
false_negatives_at_thresholds = _at_thresholds("fn")


def _rate_at_thresholds(
    metric,
    other,
    labels,
    predictions,
    thresholds,
    weights,
    metrics_collections,
    updates_collections,
    name,
):
    check_graph_mode(f"{metric}_at_thresholds")
    with variable_scope(name, f"{metric}_at_thresholds"):
        values, updates = confusion_at_thresholds(
            labels, predictions, thresholds, weights, includes=("tp", other)
        )

        def rate(c, name):
            return _math.truediv(c["tp"], _EPSILON + c["tp"] + c[other], name=f"{metric}_{name}")

        value, update = rate(values, "value"), rate(updates, "update_op")
    return _collect(value, update, metrics_collections, updates_collections)


def precision_at_thresholds(
    labels,
    predictions,
    thresholds,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """Running precision at each threshold: tp / (tp + fp + 1e-7)."""
    return _rate_at_thresholds(
        "precision",
        "fp",
        labels,
        predictions,
        thresholds,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def recall_at_thresholds(
    labels,
    predictions,
    thresholds,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """Running recall at each threshold: tp / (tp + fn + 1e-7)."""
    return _rate_at_thresholds(
        "recall",
        "fn",
        labels,
        predictions,
        thresholds,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


# -- curves ----------------------------------------------------------------------------------


def _even_thresholds(num_thresholds):
    kept = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _EPSILON] + kept + [1.0 + _EPSILON]


def auc(
    labels,
    predictions,
    weights=None,
    num_thresholds=200,
    metrics_collections=None,
    updates_collections=None,
    curve="ROC",
    name=None,
    summation_method="trapezoidal",
    thresholds=None,
):
    """Area under the ROC (or PR) curve from confusion counts at ``num_thresholds``
    evenly spaced thresholds (or the given ``thresholds``), summed by TF's
    ``summation_method``: trapezoidal, careful_interpolation, minoring or majoring.

    Raises:
        ValueError: unknown curve or summation method.
    """
    check_graph_mode("auc")
    if curve not in ("ROC", "PR"):
        raise ValueError(f"curve must be either ROC or PR, {curve} unknown")
    if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
        raise ValueError(f"Invalid summation_method: {summation_method}")
    if thresholds is not None:
        thresholds = [0.0 - _EPSILON] + sorted(thresholds) + [1.0 + _EPSILON]
    else:
        thresholds = _even_thresholds(num_thresholds)
    with variable_scope(name, "auc"):
        values, updates = confusion_at_thresholds(labels, predictions, thresholds, weights)
        value = _area(values, curve, summation_method, "value")
        update = _area(updates, curve, summation_method, "update_op")
    return _collect(value, update, metrics_collections, updates_collections)


def _area(c, curve, method, name):
    tp, fn, tn, fp = c["tp"], c["fn"], c["tn"], c["fp"]
    if curve == "PR" and method == "careful_interpolation":
        return _interpolate_pr_auc(tp, fp, fn, name)
    rec = (tp + _AUC_EPSILON) / (tp + fn + _AUC_EPSILON)
    if curve == "ROC":
        x, y = fp / (fp + tn + _AUC_EPSILON), rec
    else:
        x, y = rec, (tp + _AUC_EPSILON) / (tp + fp + _AUC_EPSILON)
    if method in ("trapezoidal", "careful_interpolation"):
        height = (y[:-1] + y[1:]) / 2.0
    elif method == "minoring":
        height = _math.minimum(y[:-1], y[1:])
    else:
        height = _math.maximum(y[:-1], y[1:])
    return _math.reduce_sum((x[:-1] - x[1:]) * height, name=name)


def _interpolate_pr_auc(tp, fp, fn, name):
    """TF's careful interpolation of the PR curve (Davis & Goadrich, 2006)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    slope = _safe_div(dtp, _math.maximum(p[:-1] - p[1:], 0.0))
    intercept = tp[1:] - slope * p[1:]
    ratio = _math.where(
        _math.logical_and(p[:-1] > 0, p[1:] > 0),
        _safe_div(p[:-1], _math.maximum(p[1:], 0.0)),
        _arr.ones_like(p[1:]),
    )
    increments = _safe_div(
        slope * (dtp + intercept * _math.log(ratio)), _math.maximum(tp[1:] + fn[1:], 0.0)
    )
    return _math.reduce_sum(increments, name=name)


def _value_at(
    metric,
    target,
    labels,
    predictions,
    weights,
    num_thresholds,
    metrics_collections,
    updates_collections,
    name,
):
    check_graph_mode(metric)
    if target < 0 or target > 1:
        what = "specificity" if metric.startswith("sensitivity") else "sensitivity"
        raise ValueError(f"`{what}` must be in the range [0, 1].")
    with variable_scope(name, metric):
        values, updates = confusion_at_thresholds(
            labels, predictions, _even_thresholds(num_thresholds), weights
        )

        def compute(c, name):
            tp, fn, tn, fp = c["tp"], c["fn"], c["tn"], c["fp"]
            if metric.startswith("sensitivity"):
                spec = tn / (tn + fp + _EPSILON)
                i = _math.cast(_arr.argmin(_math.abs(spec - target), 0), dtypes.int32)
                return _math.truediv(tp[i], tp[i] + fn[i] + _EPSILON, name=name)
            sens = tp / (tp + fn + _EPSILON)
            gap = _math.abs(sens - target)
            n = len(_even_thresholds(num_thresholds))
            # the last index at the minimal gap (TF's argmax over a cumsum)
            i = _math.reduce_max(
                _math.where(
                    _math.equal(gap, _math.reduce_min(gap)), _arr.range(n), _arr.fill([n], -1)
                )
            )
            return _math.truediv(tn[i], tn[i] + fp[i] + _EPSILON, name=name)

        value, update = compute(values, "value"), compute(updates, "update_op")
    return _collect(value, update, metrics_collections, updates_collections)


def sensitivity_at_specificity(
    labels,
    predictions,
    specificity,
    weights=None,
    num_thresholds=200,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running sensitivity at the threshold whose specificity is closest to
    ``specificity``."""
    return _value_at(
        "sensitivity_at_specificity",
        specificity,
        labels,
        predictions,
        weights,
        num_thresholds,
        metrics_collections,
        updates_collections,
        name,
    )


def specificity_at_sensitivity(
    labels,
    predictions,
    sensitivity,
    weights=None,
    num_thresholds=200,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running specificity at the (last) threshold whose sensitivity is closest to
    ``sensitivity``."""
    return _value_at(
        "specificity_at_sensitivity",
        sensitivity,
        labels,
        predictions,
        weights,
        num_thresholds,
        metrics_collections,
        updates_collections,
        name,
    )


# -- per-class metrics -------------------------------------------------------------------------


def _flat(x):
    return _arr.reshape(x, [-1]) if x.shape.ndims is None or x.shape.ndims > 1 else x


def mean_iou(
    labels,
    predictions,
    num_classes,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running mean intersection-over-union over the classes present; as in TF the
    update op returns the accumulated confusion matrix."""
    check_graph_mode("mean_iou")
    with variable_scope(name, "mean_iou"):
        predictions, labels, weights = _prepare(predictions, labels, weights)
        total_cm = metric_variable(
            [num_classes, num_classes], dtypes.float64, "total_confusion_matrix"
        )
        lab = _math.cast(_flat(labels), dtypes.int32)
        pred = _math.cast(_flat(predictions), dtypes.int32)
        rows = _arr.one_hot(lab, num_classes, dtype=dtypes.float64)
        if weights is not None:
            w = _math.cast(_flat(_broadcast_weights(weights, predictions)), dtypes.float64)
            rows = rows * _arr.expand_dims(w, 1)
        cm = _math.matmul(
            rows, _arr.one_hot(pred, num_classes, dtype=dtypes.float64), transpose_a=True
        )
        update = total_cm.assign_add(cm)
        value = _iou(total_cm.value())
    return _collect(value, update, metrics_collections, updates_collections)


def _iou(cm):
    col = _math.cast(_math.reduce_sum(cm, 0), dtypes.float32)
    row = _math.cast(_math.reduce_sum(cm, 1), dtypes.float32)
    diag = _math.cast(_math.reduce_sum(cm * np.eye(cm.shape.as_list()[0]), 1), dtypes.float32)
    den = col + row - diag
    valid = _math.reduce_sum(_math.cast(_math.not_equal(den, 0.0), dtypes.float32))
    den = _math.where(den > 0, den, _arr.ones_like(den))
    total = _math.reduce_sum(diag / den)
    return _math.where(valid > 0, total / _math.maximum(valid, 1.0), 0.0 * total, name="mean_iou")


def mean_per_class_accuracy(
    labels,
    predictions,
    num_classes,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running mean over classes of each class's accuracy; as in TF the update op
    returns the per-class accuracies."""
    check_graph_mode("mean_per_class_accuracy")
    with variable_scope(name, "mean_accuracy"):
        predictions, labels, weights = _prepare(predictions, labels, weights)
        labels, predictions = _flat(labels), _flat(predictions)
        total = metric_variable([num_classes], dtypes.float32, "total")
        count = metric_variable([num_classes], dtypes.float32, "count")
        if labels.dtype != predictions.dtype:
            predictions = _math.cast(predictions, labels.dtype)
        correct = _math.cast(_math.equal(predictions, labels), dtypes.float32)
        ones = _arr.ones_like(correct)
        if weights is not None:
            w = _flat(_broadcast_weights(weights, correct))
            correct, ones = correct * w, ones * w
        onehot = _arr.one_hot(_math.cast(labels, dtypes.int32), num_classes)
        update_total = total.assign_add(_math.reduce_sum(onehot * _arr.expand_dims(ones, 1), 0))
        update_count = count.assign_add(_math.reduce_sum(onehot * _arr.expand_dims(correct, 1), 0))
        value = _math.reduce_mean(_safe_div(count.value(), total.value()), name="mean_accuracy")
        update = _safe_div(update_count, update_total, name="update_op")
    return _collect(value, update, metrics_collections, updates_collections)
