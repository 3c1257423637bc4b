"""`tf.losses`: per-example losses reduced with TF1's weighting semantics, collected in
``LOSSES``; regularizers (`tf.contrib.layers.l2_regularizer`, ...) and their collection."""

from __future__ import annotations

import numbers

from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops as _arr, math_ops as _math, nn_ops


class Reduction:
    """How `compute_weighted_loss` reduces the weighted per-example losses."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}.")


def _div_no_nan(num, den):
    """num / den, and 0 where den is 0."""
    safe = _math.where(_math.equal(den, 0.0), _arr.ones_like(den), den)
    return _math.where(_math.equal(den, 0.0), _arr.zeros_like(num * den), num / safe)


def _num_present(losses, weights):
    """The number of per-example losses with a non-zero (broadcast) weight."""
    present = _math.where(
        _math.equal(weights, 0.0), _arr.zeros_like(weights), _arr.ones_like(weights)
    )
    return _math.reduce_sum(present * _arr.ones_like(losses))


def compute_weighted_loss(
    losses,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """Weights ``losses`` (weights broadcast to them) and reduces them.

    Raises:
        ValueError: unknown reduction, or weights that do not broadcast to losses.
    """
    Reduction.validate(reduction)
    losses = _arr.convert_to_tensor(losses)
    dtype = losses.dtype
    if not dtype.is_floating:
        losses = _math.cast(losses, "float32")
    weights = _math.cast(_arr.convert_to_tensor(weights), losses.dtype)
    _check_weights(losses, weights)
    weighted = losses * weights
    if reduction == Reduction.NONE:
        loss = weighted
    else:
        loss = _math.reduce_sum(weighted)
        if reduction == Reduction.MEAN:
            loss = _div_no_nan(loss, _math.reduce_sum(_arr.ones_like(losses) * weights))
        elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
            loss = _div_no_nan(loss, _math.cast(_arr.size(losses), losses.dtype))
        elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
            loss = _div_no_nan(loss, _num_present(losses, weights))
    loss = _math.cast(loss, dtype) if dtype.is_floating else loss
    add_loss(loss, loss_collection)
    return loss


def _check_weights(losses, weights):
    ld, wd = losses.shape.as_tuple(), weights.shape.as_tuple()
    if ld is None or wd is None or not wd:
        return
    if len(wd) > len(ld) or any(
        w not in (1, None) and l_ is not None and w != l_ for w, l_ in zip(wd[::-1], ld[::-1])
    ):
        raise ValueError(
            f"weights can not be broadcast to values. values.shape={losses.shape}"
            f". weights.shape={weights.shape}."
        )


def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    """Adds ``loss`` to a collection (graph mode only, as in TF)."""
    if loss_collection and not current_frontend().eager:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of ``REGULARIZATION_LOSSES`` (0.0 if there are none)."""
    losses = get_regularization_losses(scope)
    if losses:
        return _math.add_n(losses, name=name)
    return _arr.constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """Sum of ``LOSSES`` (plus regularization losses).

    Raises:
        ValueError: there are no losses.
    """
    losses = get_losses(scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope)
    if not losses:
        raise ValueError("No losses found to sum.")
    return _math.add_n(losses, name=name)


def _pair(labels, predictions):
    predictions = _arr.convert_to_tensor(predictions)
    labels = _math.cast(_arr.convert_to_tensor(labels), predictions.dtype)
    nn_ops._check_same_shape(labels, predictions, "labels", "predictions")
    return labels, predictions


def mean_squared_error(
    labels,
    predictions,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """Weighted mean of (predictions - labels)^2."""
    labels, predictions = _pair(labels, predictions)
    return compute_weighted_loss(
        _math.squared_difference(predictions, labels), weights, scope, loss_collection, reduction
    )


def absolute_difference(
    labels,
    predictions,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """Weighted mean of |predictions - labels|."""
    labels, predictions = _pair(labels, predictions)
    return compute_weighted_loss(
        _math.abs(predictions - labels), weights, scope, loss_collection, reduction
    )


def log_loss(
    labels,
    predictions,
    weights=1.0,
    epsilon=1e-7,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """-y log(p + eps) - (1 - y) log(1 - p + eps), weighted and reduced."""
    labels, predictions = _pair(labels, predictions)
    losses = _math.negative(labels * _math.log(predictions + epsilon)) - (1.0 - labels) * _math.log(
        1.0 - predictions + epsilon
    )
    return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def hinge_loss(
    labels,
    logits,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """max(0, 1 - (2y - 1) * logits) for labels y in {0, 1}."""
    labels, logits = _pair(labels, logits)
    signs = 2.0 * labels - 1.0
    return compute_weighted_loss(
        _math.relu(1.0 - signs * logits), weights, scope, loss_collection, reduction
    )


def huber_loss(
    labels,
    predictions,
    weights=1.0,
    delta=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """0.5 e^2 for |e| <= delta, delta (|e| - 0.5 delta) beyond, e = predictions - labels."""
    labels, predictions = _pair(labels, predictions)
    err = _math.abs(predictions - labels)
    quadratic = _math.minimum(err, delta)
    linear = err - quadratic
    return compute_weighted_loss(
        0.5 * quadratic * quadratic + delta * linear, weights, scope, loss_collection, reduction
    )


def sigmoid_cross_entropy(
    multi_class_labels,
    logits,
    weights=1.0,
    label_smoothing=0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """Sigmoid cross entropy; labels are smoothed towards 1/2 by ``label_smoothing``."""
    labels, logits = _pair(multi_class_labels, logits)
    if label_smoothing > 0:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def softmax_cross_entropy(
    onehot_labels,
    logits,
    weights=1.0,
    label_smoothing=0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """Softmax cross entropy of one-hot labels; smoothing mixes in 1/num_classes."""
    labels, logits = _pair(onehot_labels, logits)
    if label_smoothing > 0:
        n = _math.cast(_arr.shape(labels)[-1], labels.dtype)
        labels = labels * (1.0 - label_smoothing) + label_smoothing / n
    losses = nn_ops.softmax_cross_entropy_with_logits_v2(
        labels=_arr.stop_gradient(labels), logits=logits
    )
    return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def sparse_softmax_cross_entropy(
    labels,
    logits,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """Softmax cross entropy of integer class labels."""
    losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def cosine_distance(
    labels,
    predictions,
    axis=None,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
    dim=None,
):
    """1 - sum(labels * predictions) along ``axis`` (inputs expected unit-normalized),
    weighted and reduced.

    Raises:
        ValueError: no ``axis`` given.
    """
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    labels, predictions = _pair(_math.cast(labels, "float32"), _math.cast(predictions, "float32"))
    losses = 1.0 - _math.reduce_sum(predictions * labels, axis=(axis,), keepdims=True)
    return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def mean_pairwise_squared_error(
    labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES
):
    """Per example, the mean over pairs of its elements (i, j) of
    ((p_i - p_j) - (y_i - y_j))^2, weighted and summed over the batch (TF's formula)."""
    labels, predictions = _pair(_math.cast(labels, "float32"), _math.cast(predictions, "float32"))
    weights = _math.cast(_arr.convert_to_tensor(weights), "float32")
    diffs = predictions - labels
    axis = list(range(1, diffs.shape.ndims))
    present = _math.where(
        _math.equal(weights, 0.0), _arr.zeros_like(weights), _arr.ones_like(weights)
    ) * _arr.ones_like(diffs)
    n = _math.reduce_sum(present, axis=axis, keepdims=True)
    term1 = 2.0 * _div_no_nan(
        _math.reduce_sum(_math.square(diffs), axis=axis, keepdims=True), _math.maximum(n - 1.0, 0.0)
    )
    term2 = 2.0 * _div_no_nan(
        _math.square(_math.reduce_sum(diffs, axis=axis, keepdims=True)),
        _math.maximum(n * (n - 1.0), 0.0),
    )
    loss = _math.reduce_sum((term1 - term2) * weights)
    loss = _math.where(_math.reduce_sum(n) > 0, loss, _arr.zeros_like(loss))
    add_loss(loss, loss_collection)
    return loss


# -- regularizers (tf.contrib.layers) -----------------------------------------------------


def _check_scale(scale):
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
        return scale == 0.0
    return False


def l2_regularizer(scale, scope=None):
    """A function ``weights -> scale * sum(weights ** 2) / 2`` (None when scale is 0).

    Raises:
        ValueError: scale is an integer or negative.
    """
    if _check_scale(scale):
        return lambda _: None

    def l2(weights):
        return _math.multiply(scale, nn_ops.l2_loss(weights), name="l2_regularizer")

    return l2


def l1_regularizer(scale, scope=None):
    """A function ``weights -> scale * sum(|weights|)`` (None when scale is 0)."""
    if _check_scale(scale):
        return lambda _: None

    def l1(weights):
        return _math.multiply(scale, _math.reduce_sum(_math.abs(weights)), name="l1_regularizer")

    return l1


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)])


def sum_regularizer(regularizer_list, scope=None):
    """A regularizer summing the (non-None) penalties of ``regularizer_list``."""

    def total(weights):
        parts = [p for p in (r(weights) for r in regularizer_list) if p is not None]
        return _math.add_n(parts) if parts else None

    return total


def apply_regularization(regularizer, weights_list=None):
    """The sum of ``regularizer`` over ``weights_list`` (default: the ``WEIGHTS``
    collection), also added to ``REGULARIZATION_LOSSES``."""
    if weights_list is None:
        weights_list = get_default_graph().get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    penalties = [p for p in (regularizer(w) for w in weights_list) if p is not None]
    total = _math.add_n(penalties) if penalties else _arr.constant(0.0)
    add_loss(total, GraphKeys.REGULARIZATION_LOSSES)
    return total
