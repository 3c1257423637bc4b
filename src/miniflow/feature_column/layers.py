"""`input_layer` (dense columns concatenated into one ``[batch, n]`` tensor) and
`linear_model` (a weighted sum of every column plus a bias), with TF's variable names:
``input_layer/<column>/embedding_weights``, ``linear_model/<column>/weights``,
``linear_model/bias_weights``; columns are processed in the order of their names."""

from __future__ import annotations

import math

from miniflow import dtypes
from miniflow.feature_column.columns_base import (
    CategoricalColumn,
    DenseColumn,
    FeatureCache,
    FeatureColumn,
)
from miniflow.feature_column.columns_dense import get_weights, recording_variables
from miniflow.ops import (
    array_ops as _arr,
    init_ops as _init,
    math_ops as _math,
    nn_ops as _nn,
    variable_scope as _vs,
)
from miniflow.ops.safe_embedding_ops import safe_embedding_lookup_sparse


def _columns(feature_columns, allowed, message):
    columns = (
        list(feature_columns)
        if isinstance(feature_columns, list | tuple | set)
        else [feature_columns]
    )
    if not columns:
        raise ValueError("feature_columns must not be empty.")
    for c in columns:
        if not isinstance(c, FeatureColumn):
            raise ValueError(
                f"Items of feature_columns must be a _FeatureColumn. Given (type {type(c)}): {c}."
            )
        if not isinstance(c, allowed):
            raise ValueError(f"{message} Given (type {type(c)}): {c}")
    names = [c.name for c in columns]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"Duplicate feature column name found for columns: {sorted(dup)}")
    return sorted(columns, key=lambda c: c.name)


def _flat(tensor, column):
    """``tensor`` reshaped to ``[batch, num_elements]``."""
    n = math.prod(column.variable_shape)
    return _arr.reshape(tensor, [-1, n])


def input_layer(
    features,
    feature_columns,
    weight_collections=None,
    trainable=True,
    cols_to_vars=None,
    cols_to_output_tensors=None,
):
    """input_layer(features, feature_columns, weight_collections=None, trainable=True,
    cols_to_vars=None, cols_to_output_tensors=None): the dense columns' tensors, each
    flattened to ``[batch, n]``, concatenated in the order of the columns' names."""
    columns = _columns(
        feature_columns,
        DenseColumn,
        "Items of feature_columns must be a _DenseColumn. You can wrap a "
        "categorical column with an embedding_column or indicator_column.",
    )
    cache = FeatureCache(features)
    outputs = []
    with _vs.variable_scope(None, default_name="input_layer"):
        for column in columns:
            with (
                _vs.variable_scope(None, default_name=column._var_scope_name),
                recording_variables() as created,
            ):
                tensor = _flat(
                    column.get_dense_tensor(cache, weight_collections, trainable), column
                )
            outputs.append(tensor)
            if cols_to_vars is not None:
                cols_to_vars[column] = created
            if cols_to_output_tensors is not None:
                cols_to_output_tensors[column] = tensor
        return _arr.concat(outputs, 1)


def linear_model(
    features,
    feature_columns,
    units=1,
    sparse_combiner="sum",
    weight_collections=None,
    trainable=True,
    cols_to_vars=None,
):
    """linear_model(features, feature_columns, units=1, sparse_combiner='sum',
    weight_collections=None, trainable=True, cols_to_vars=None): ``[batch, units]``
    predictions, the sum over columns of their weighted values plus ``bias_weights``.

    A categorical column's weights are ``[num_buckets, units]`` rows combined per example
    by ``sparse_combiner``; a dense column's are ``[num_elements, units]``. All start at
    zero. ``cols_to_vars`` receives each column's variables and ``'bias'``."""
    if sparse_combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError(
            f"sparse_combiner must be one of 'mean', 'sqrtn' or 'sum'. Given: {sparse_combiner}"
        )
    columns = _columns(
        feature_columns,
        DenseColumn | CategoricalColumn,
        "Items of feature_columns must be either a _DenseColumn or _CategoricalColumn.",
    )
    cache = FeatureCache(features)
    sums = []
    with _vs.variable_scope(None, default_name="linear_model"):
        for column in columns:
            with (
                _vs.variable_scope(None, default_name=column._var_scope_name),
                recording_variables() as created,
            ):
                sums.append(
                    _weighted_sum(
                        column, cache, units, sparse_combiner, weight_collections, trainable
                    )
                )
            if cols_to_vars is not None:
                cols_to_vars[column] = created
        no_bias = _math.add_n(sums, name="weighted_sum_no_bias")
        bias = get_weights(
            "bias_weights", (units,), _init.zeros_initializer(), trainable, weight_collections
        )
        if cols_to_vars is not None:
            cols_to_vars["bias"] = [bias]
        return _nn.bias_add(no_bias, bias, name="weighted_sum")


def _weighted_sum(column, cache, units, sparse_combiner, weight_collections, trainable):
    if isinstance(column, CategoricalColumn):
        pair = column.get_sparse_tensors(cache, weight_collections, trainable)
        weights = get_weights(
            "weights",
            (column.num_buckets, units),
            _init.zeros_initializer(),
            trainable,
            weight_collections,
        )
        return safe_embedding_lookup_sparse(
            weights,
            pair.id_tensor,
            pair.weight_tensor,
            combiner=sparse_combiner,
            name="weighted_sum",
        )
    tensor = _flat(column.get_dense_tensor(cache, weight_collections, trainable), column)
    weights = get_weights(
        "weights",
        (math.prod(column.variable_shape), units),
        _init.zeros_initializer(),
        trainable,
        weight_collections,
    )
    return _math.matmul(_arr.cast(tensor, dtypes.float32), weights, name="weighted_sum")
