"""`tf.estimator.classifier_parse_example_spec` / `regressor_parse_example_spec`: the
`parse_example` spec of the feature columns plus the label (and weight) feature."""

from __future__ import annotations

import miniflow as tf


def _spec_with_label(feature_columns, label_key, label_feature, weight_column):
    spec = tf.feature_column.make_parse_example_spec(feature_columns)
    if label_key in spec:
        raise ValueError(
            f"label should not be used as feature. label_key: {label_key}, features: {sorted(spec)}"
        )
    spec[label_key] = label_feature
    if weight_column is not None:
        if isinstance(weight_column, str):
            weight_column = tf.feature_column.numeric_column(weight_column)
        spec.update(tf.feature_column.make_parse_example_spec([weight_column]))
    return spec


def classifier_parse_example_spec(
    feature_columns, label_key, label_dtype=tf.int64, label_default=None, weight_column=None
):
    """The parsing spec of a classifier's Examples: the columns' spec plus a
    ``FixedLenFeature([1], label_dtype)`` label."""
    return _spec_with_label(
        feature_columns,
        label_key,
        tf.io.FixedLenFeature((1,), label_dtype, label_default),
        weight_column,
    )


def regressor_parse_example_spec(
    feature_columns,
    label_key,
    label_dtype=tf.float32,
    label_default=None,
    label_dimension=1,
    weight_column=None,
):
    """The parsing spec of a regressor's Examples: the columns' spec plus a
    ``FixedLenFeature([label_dimension], label_dtype)`` label."""
    return _spec_with_label(
        feature_columns,
        label_key,
        tf.io.FixedLenFeature((label_dimension,), label_dtype, label_default),
        weight_column,
    )
