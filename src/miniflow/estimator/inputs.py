"""`tf.estimator.inputs.numpy_input_fn`: an ``input_fn`` over NumPy arrays, built on
`tf.data` (TF 1.15 used feeding queues; the batches are the same, the shuffled order is
not)."""

from __future__ import annotations

import numpy as np

import miniflow as tf

_TARGET_KEY = "__target_key__"


def _as_dict(name, value):
    if isinstance(value, dict):
        return {k: np.asarray(v) for k, v in value.items()}, True
    if isinstance(value, np.ndarray | list | tuple):
        return {name: np.asarray(value)}, False
    raise TypeError(f"{name} must be a dict of arrays or an array; got {type(value)}")


def numpy_input_fn(
    x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000, num_threads=1
):
    """An ``input_fn`` returning batches of ``(features, labels)`` (``features`` only
    without ``y``) from arrays or dicts of arrays; the last batch of an epoch may be
    smaller; ``num_epochs=None`` repeats forever.

    Raises:
        ValueError: ``shuffle`` not given as a bool, empty ``x``, mismatched lengths or
            keys in both ``x`` and ``y``.
    """
    if not isinstance(shuffle, bool):
        raise ValueError(
            "shuffle must be provided and explicitly set as boolean (it is "
            f"recommended to set it as True for training); got {shuffle!r}"
        )
    features, x_is_dict = _as_dict("__x__", x)
    if not features:
        raise ValueError("x cannot be an empty dict")
    targets, y_is_dict = (None, False) if y is None else _as_dict(_TARGET_KEY, y)
    if targets and x_is_dict and y_is_dict:
        dup = sorted(set(features) & set(targets))
        if dup:
            raise ValueError(f"{len(dup)} duplicate keys are found in both x and y: {dup}")
    lengths = {len(v) for v in [*features.values(), *(targets or {}).values()]}
    if len(lengths) != 1:
        raise ValueError(
            "Length of tensors in x and y is mismatched. All elements in x and "
            f"y must have the same length. Lengths: {sorted(lengths)}"
        )

    def input_fn():
        data = (features, targets) if targets is not None else features
        dataset = tf.data.Dataset.from_tensor_slices(data)
        if shuffle:
            dataset = dataset.shuffle(queue_capacity)
        dataset = dataset.repeat(num_epochs).batch(batch_size)
        batch = tf.data.make_one_shot_iterator(dataset).get_next()
        feats, labels = batch if targets is not None else (batch, None)
        if not x_is_dict:
            feats = feats["__x__"]
        if labels is not None and not y_is_dict:
            labels = labels[_TARGET_KEY]
        return feats if labels is None else (feats, labels)

    return input_fn
