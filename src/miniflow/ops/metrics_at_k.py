"""`tf.metrics` over the top-k predictions: ``precision_at_k``, ``recall_at_k``, their
``_at_top_k`` forms (given the top-k indices), ``average_precision_at_k`` and the
``sparse_*`` aliases. Labels are class ids, ``[batch]`` or ``[batch, num_labels]``
(a `SparseTensor` of ids too); each row's labels are a set, as in TF. Counts and values
are float64, as TF's."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math, nn_ops
from miniflow.ops.metrics_impl import _collect, check_graph_mode, metric_variable
from miniflow.ops.variable_scope import variable_scope


def _labels_2d(labels, idx):
    """Labels as a dense int64 ``[rows, n]`` matrix (-1 pads a `SparseTensor`'s rows)."""
    if hasattr(labels, "indices") and hasattr(labels, "dense_shape"):
        from miniflow.ops.sparse_ops import sparse_tensor_to_dense

        labels = sparse_tensor_to_dense(labels, default_value=-1)
    labels = _math.cast(_arr.convert_to_tensor(labels), dtypes.int64)
    if (
        labels.shape.ndims is not None
        and idx.shape.ndims is not None
        and labels.shape.ndims == idx.shape.ndims - 1
    ):
        labels = _arr.expand_dims(labels, -1)
    return labels


def _row_sets(labels, idx, class_id):
    """Per row: relevant[r, i] (the i-th prediction is a label), the number of distinct
    labels, and the number of predictions, restricted to ``class_id`` when given."""
    idx = _math.cast(idx, dtypes.int64)
    hit = _math.equal(_arr.expand_dims(idx, -1), _arr.expand_dims(labels, -2))
    relevant = _math.reduce_any(hit, axis=-1)
    first = _distinct(labels)
    found = _math.reduce_any(hit, axis=-2)  # [.., n]: the label is predicted
    if class_id is not None:
        relevant = _math.logical_and(relevant, _math.equal(idx, class_id))
        first = _math.logical_and(first, _math.equal(labels, class_id))
        predicted = _math.equal(idx, class_id)
    else:
        predicted = _arr.ones_like(idx, dtype=dtypes.bool)
    f64 = lambda t: _math.cast(t, dtypes.float64)  # noqa: E731
    tp = _math.reduce_sum(f64(relevant), -1)
    return (
        relevant,
        tp,
        _math.reduce_sum(f64(predicted), -1) - tp,
        _math.reduce_sum(f64(_math.logical_and(first, _math.logical_not(found))), -1),
    )


def _weighted_sum(per_row, weights):
    if weights is not None:
        per_row = per_row * (_math.cast(weights, dtypes.float64) * _arr.ones_like(per_row))
    return _math.reduce_sum(per_row)


def _top_k(predictions, k):
    return nn_ops.top_k(_arr.convert_to_tensor(predictions), k)[1]


def _k_name(what, k, class_id):
    return f"{what}_at_{k}" + (f"_class{class_id}" if class_id is not None else "")


def _streaming_ratio(
    metric, labels, idx, k, class_id, weights, metrics_collections, updates_collections, name
):
    check_graph_mode(metric)
    with variable_scope(name, _k_name(metric.split("_at_")[0], k, class_id)):
        labels = _labels_2d(labels, idx)
        _, tp, fp, fn = _row_sets(labels, idx, class_id)
        other = fp if metric.startswith("precision") else fn
        other_name = "false_positive" if metric.startswith("precision") else "false_negative"
        tp_var = metric_variable([], dtypes.float64, _k_name("true_positive", k, class_id))
        o_var = metric_variable([], dtypes.float64, _k_name(other_name, k, class_id))
        tp_up = tp_var.assign_add(_weighted_sum(tp, weights))
        o_up = o_var.assign_add(_weighted_sum(other, weights))
        value = _math.truediv(tp_var.value(), tp_var.value() + o_var.value(), name="value")
        update = _math.truediv(tp_up, tp_up + o_up, name="update")
    return _collect(value, update, metrics_collections, updates_collections)


def precision_at_top_k(
    labels,
    predictions_idx,
    k=None,
    class_id=None,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """Running precision of the given top-k class ids (per ``class_id`` if given)."""
    idx = _arr.convert_to_tensor(predictions_idx)
    k = idx.shape.as_list()[-1] if k is None else k
    return _streaming_ratio(
        "precision_at_top_k",
        labels,
        idx,
        k,
        class_id,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def recall_at_top_k(
    labels,
    predictions_idx,
    k=None,
    class_id=None,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """Running recall of the given top-k class ids (per ``class_id`` if given)."""
    idx = _arr.convert_to_tensor(predictions_idx)
    k = idx.shape.as_list()[-1] if k is None else k
    return _streaming_ratio(
        "recall_at_top_k",
        labels,
        idx,
        k,
        class_id,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def precision_at_k(
    labels,
    predictions,
    k,
    class_id=None,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """Running precision@k: the fraction of the top-``k`` predicted classes that are
    labels (NaN before any update, as TF)."""
    return _streaming_ratio(
        "precision_at_k",
        labels,
        _top_k(predictions, k),
        k,
        class_id,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def recall_at_k(
    labels,
    predictions,
    k,
    class_id=None,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """Running recall@k: the fraction of labels found in the top-``k`` predictions."""
    return _streaming_ratio(
        "recall_at_k",
        labels,
        _top_k(predictions, k),
        k,
        class_id,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def _average_precision(
    labels, idx, k, weights, metrics_collections, updates_collections, name, metric
):
    check_graph_mode(metric)
    with variable_scope(name, _k_name("average_precision", k, None)):
        labels = _labels_2d(labels, idx)
        relevant, _, _, _ = _row_sets(labels, idx, None)
        relevant = _math.cast(relevant, dtypes.float64)
        upper = np.triu(np.ones((k, k)))  # running sums over the first i predictions
        shape = _arr.shape(relevant)
        flat = _arr.reshape(relevant, [-1, k])
        tp_per_k = _arr.reshape(_math.matmul(flat, upper), shape)
        precision_per_k = tp_per_k / np.arange(1.0, k + 1.0)
        # TF counts the non-negative label entries here (repeats included)
        n_labels = _math.reduce_sum(_math.cast(labels >= 0, dtypes.float64), -1)
        ap = _math.reduce_sum(precision_per_k * relevant, -1) / _math.minimum(n_labels, float(k))
        total = metric_variable([], dtypes.float64, "total")
        count = metric_variable([], dtypes.float64, "max")
        if weights is None:
            batch_count = _math.cast(_arr.size(ap), dtypes.float64)
        else:
            w = _math.cast(weights, dtypes.float64) * _arr.ones_like(ap)
            ap, batch_count = ap * w, _math.reduce_sum(w)
        total_up = total.assign_add(_math.reduce_sum(ap))
        count_up = count.assign_add(batch_count)
        value = _safe_div(total.value(), count.value(), "value")
        update = _safe_div(total_up, count_up, "update")
    return _collect(value, update, metrics_collections, updates_collections)


def _distinct(labels):
    """Marks each row's first occurrence of every (non-negative) label."""
    same = _math.equal(_arr.expand_dims(labels, -1), _arr.expand_dims(labels, -2))
    n = labels.shape.as_list()[-1]
    earlier = np.tril(np.ones((n, n), dtype=bool), -1)  # [j, j']: j' comes before j
    first = _math.logical_not(_math.reduce_any(_math.logical_and(same, earlier), axis=-1))
    return _math.logical_and(first, labels >= 0)


def _safe_div(num, den, name):
    return _math.where(den > 0, num / _math.maximum(den, 1e-300), 0.0 * num, name=name)


def average_precision_at_k(
    labels,
    predictions,
    k,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """The running mean over rows of average precision@k (sum over the relevant top-i
    predictions of precision@i, divided by min(k, number of labels))."""
    return _average_precision(
        labels,
        _top_k(predictions, k),
        k,
        weights,
        metrics_collections,
        updates_collections,
        name,
        "average_precision_at_k",
    )


def average_precision_at_top_k(
    labels,
    predictions_idx,
    k=None,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
):
    """`average_precision_at_k` from the given top-k class ids."""
    idx = _arr.convert_to_tensor(predictions_idx)
    k = idx.shape.as_list()[-1] if k is None else k
    return _average_precision(
        labels,
        idx,
        k,
        weights,
        metrics_collections,
        updates_collections,
        name,
        "average_precision_at_top_k",
    )


sparse_precision_at_k = precision_at_k
sparse_average_precision_at_k = average_precision_at_k
