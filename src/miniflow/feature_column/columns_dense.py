"""Dense views of categorical columns: `embedding_column` (a trainable table combined per
example with `safe_embedding_lookup_sparse`: its gradient is `IndexedSlices` over the
touched rows only), `shared_embedding_columns` (one table for several columns) and
`indicator_column` (multi-hot, or the weights' sum per id)."""

from __future__ import annotations

import contextlib
import math

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.feature_column.columns_base import CategoricalColumn, DenseColumn
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import (
    array_ops as _arr,
    gather_scatter_ops as _gs,
    init_ops as _init,
    math_ops as _math,
    variable_scope as _vs,
)
from miniflow.ops.safe_embedding_ops import safe_embedding_lookup_sparse

_COMBINERS = ("mean", "sqrtn", "sum")


_RECORDING: list[list] = []


@contextlib.contextmanager
def recording_variables():
    """Collects the variables `get_weights` returns inside the block (for
    ``cols_to_vars``; graph collections do not exist eagerly)."""
    got: list = []
    _RECORDING.append(got)
    try:
        yield got
    finally:
        _RECORDING.pop()


def get_weights(name, shape, initializer, trainable, weight_collections):
    """A column's variable ``<scope>/name``, in ``weight_collections`` plus the global
    and model variables (as TF's feature columns)."""
    var = _get_weights(name, shape, initializer, trainable, weight_collections)
    for got in _RECORDING:
        if not any(v is var for v in got):
            got.append(var)
    return var


def _get_weights(name, shape, initializer, trainable, weight_collections):
    collections = list(weight_collections or [])
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES):
        if key not in collections:
            collections.append(key)
    return _vs.get_variable(
        name,
        shape=list(shape),
        dtype=dtypes.float32,
        initializer=initializer,
        trainable=trainable,
        collections=collections,
    )


def _checkpoint_initializer(ckpt_to_load_from, tensor_name_in_ckpt):
    """The checkpoint's tensor as a constant initializer (TF overrides the initializer
    with the checkpoint's value the same way)."""
    from miniflow.train.checkpoint import load_variable

    value = load_variable(ckpt_to_load_from, tensor_name_in_ckpt)
    return _init.constant_initializer(value)


def _check_embedding_args(dimension, combiner, initializer, ckpt_to_load_from, tensor_name_in_ckpt):
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError(
            "Must specify both `ckpt_to_load_from` and `tensor_name_in_ckpt` or none of them."
        )
    if initializer is not None and not callable(initializer):
        raise ValueError(
            f"initializer must be callable if specified. Embedding of column_name: {initializer}"
        )
    if combiner not in _COMBINERS:
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum'. Given: {combiner}")
    return initializer or _init.truncated_normal_initializer(
        mean=0.0, stddev=1 / math.sqrt(dimension)
    )


def refuse_sequence(column, what):
    """TF's error for a sequence column inside a non-sequence dense column."""
    if getattr(column.categorical_column, "is_sequence", False):
        raise ValueError(
            f"In {what}: {column.name}. categorical_column must not be of type "
            f"_SequenceCategoricalColumn. Suggested fix A: If you wish to use "
            f"DenseFeatures, use a non-sequence categorical_column_with_*."
        )


def _lookup(column, weights, cache):
    pair = column.categorical_column.get_sparse_tensors(cache)
    return safe_embedding_lookup_sparse(
        weights,
        pair.id_tensor,
        pair.weight_tensor,
        combiner=column.combiner,
        max_norm=column.max_norm,
    )


class EmbeddingColumn(DenseColumn):
    """A categorical column as a trainable embedding (see `embedding_column`)."""

    _fields = (
        "categorical_column",
        "dimension",
        "combiner",
        "initializer",
        "ckpt_to_load_from",
        "tensor_name_in_ckpt",
        "max_norm",
        "trainable",
    )

    def __init__(self, **fields):
        for k in self._fields:
            setattr(self, k, fields[k])

    name = property(lambda self: f"{self.categorical_column.name}_embedding")
    parse_example_spec = property(lambda self: self.categorical_column.parse_example_spec)
    variable_shape = property(lambda self: (self.dimension,))

    def _transform(self, cache):
        raise ValueError("an embedding column is dense only through get_dense_tensor")

    def get_dense_tensor(self, cache, weight_collections=None, trainable=None):
        refuse_sequence(self, "embedding_column")
        init = self.initializer
        if self.ckpt_to_load_from is not None:
            init = _checkpoint_initializer(self.ckpt_to_load_from, self.tensor_name_in_ckpt)
        weights = get_weights(
            "embedding_weights",
            (self.categorical_column.num_buckets, self.dimension),
            init,
            self.trainable and trainable is not False,
            weight_collections,
        )
        return _lookup(self, weights, cache)


def embedding_column(
    categorical_column,
    dimension,
    combiner="mean",
    initializer=None,
    ckpt_to_load_from=None,
    tensor_name_in_ckpt=None,
    max_norm=None,
    trainable=True,
    use_safe_embedding_lookup=True,
):
    """embedding_column(categorical_column, dimension, combiner='mean', initializer=None,
    ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None, trainable=True):
    a dense ``[batch, dimension]`` view: the ids' rows of a ``[num_buckets, dimension]``
    table, combined per example by ``combiner`` (weighted when the column is)."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(
            f"categorical_column must be a CategoricalColumn. Given: {categorical_column}"
        )
    init = _check_embedding_args(
        dimension, combiner, initializer, ckpt_to_load_from, tensor_name_in_ckpt
    )
    return EmbeddingColumn(
        categorical_column=categorical_column,
        dimension=int(dimension),
        combiner=combiner,
        initializer=init,
        ckpt_to_load_from=ckpt_to_load_from,
        tensor_name_in_ckpt=tensor_name_in_ckpt,
        max_norm=max_norm,
        trainable=trainable,
    )


class _SharedTable:
    """The table the columns of one `shared_embedding_columns` call share: in graph mode
    the first variable of the graph collection named after it (as TF), eagerly one
    variable."""

    def __init__(self, name):
        self.name = name
        self._eager = None

    def get(self, make):
        if current_frontend().eager:
            if self._eager is None:
                self._eager = make()
            return self._eager
        graph = get_default_graph()
        found = graph.get_collection(self.name)
        if found:
            return found[0]
        var = make()
        graph.add_to_collection(self.name, var)
        return var


class SharedEmbeddingColumn(EmbeddingColumn):
    """One of several categorical columns embedded with one shared table (see
    `shared_embedding_columns`)."""

    _fields = EmbeddingColumn._fields + ("shared_embedding_collection_name",)

    def __init__(self, table, **fields):
        super().__init__(**fields)
        self._table = table

    name = property(lambda self: f"{self.categorical_column.name}_shared_embedding")
    _var_scope_name = property(lambda self: self.shared_embedding_collection_name)

    def get_dense_tensor(self, cache, weight_collections=None, trainable=None):
        refuse_sequence(self, "embedding_column")

        def make():
            init = self.initializer
            if self.ckpt_to_load_from is not None:
                init = _checkpoint_initializer(self.ckpt_to_load_from, self.tensor_name_in_ckpt)
            return get_weights(
                "embedding_weights",
                (self.categorical_column.num_buckets, self.dimension),
                init,
                self.trainable and trainable is not False,
                weight_collections,
            )

        return _lookup(self, self._table.get(make), cache)


def shared_embedding_columns(
    categorical_columns,
    dimension,
    combiner="mean",
    initializer=None,
    shared_embedding_collection_name=None,
    ckpt_to_load_from=None,
    tensor_name_in_ckpt=None,
    max_norm=None,
    trainable=True,
    use_safe_embedding_lookup=True,
):
    """shared_embedding_columns(categorical_columns, dimension, combiner='mean',
    initializer=None, shared_embedding_collection_name=None, ckpt_to_load_from=None,
    tensor_name_in_ckpt=None, max_norm=None, trainable=True): embedding columns for
    ``categorical_columns`` (same number of buckets) that share one table."""
    init = _check_embedding_args(
        dimension, combiner, initializer, ckpt_to_load_from, tensor_name_in_ckpt
    )
    columns = list(categorical_columns)
    if not columns:
        raise ValueError("categorical_columns must not be empty.")
    for c in columns:
        if not isinstance(c, CategoricalColumn) or type(c).__name__ == "CrossedColumn":
            raise ValueError(
                f"All categorical_columns must be subclasses of "
                f"_CategoricalColumn, and not crossed. Given: {c}"
            )
        if c.num_buckets != columns[0].num_buckets:
            raise ValueError(
                f"To use shared_embedding_column, all categorical_columns "
                f"must have the same number of buckets. Given column: "
                f"{columns[0]} with buckets: {columns[0].num_buckets} does not "
                f"match column: {c} with buckets: {c.num_buckets}"
            )
    name = (
        shared_embedding_collection_name
        or "_".join(sorted(c.name for c in columns)) + "_shared_embedding"
    )
    table = _SharedTable(name)
    return [
        SharedEmbeddingColumn(
            table,
            categorical_column=c,
            dimension=int(dimension),
            combiner=combiner,
            initializer=init,
            ckpt_to_load_from=ckpt_to_load_from,
            tensor_name_in_ckpt=tensor_name_in_ckpt,
            max_norm=max_norm,
            trainable=trainable,
            shared_embedding_collection_name=name,
        )
        for c in columns
    ]


class IndicatorColumn(DenseColumn):
    """A categorical column as a multi-hot vector (see `indicator_column`)."""

    _fields = ("categorical_column",)

    def __init__(self, categorical_column):
        self.categorical_column = categorical_column

    name = property(lambda self: f"{self.categorical_column.name}_indicator")
    parse_example_spec = property(lambda self: self.categorical_column.parse_example_spec)
    variable_shape = property(lambda self: (self.categorical_column.num_buckets,))

    def _transform(self, cache):
        """Per example, the count (or the summed weight) of each id; ids outside
        ``[0, num_buckets)`` count for nothing, as TF's one-hot."""
        refuse_sequence(self, "indicator_column")
        pair = self.categorical_column.get_sparse_tensors(cache)
        ids = pair.id_tensor
        n = self.categorical_column.num_buckets
        values = (
            _arr.ones_like(ids.values, dtype=dtypes.float32)
            if pair.weight_tensor is None
            else _arr.cast(pair.weight_tensor.values, dtypes.float32)
        )
        valid = _math.logical_and(_math.greater_equal(ids.values, 0), _math.less(ids.values, n))
        keep = _arr.reshape(_arr.where(valid), [-1])
        rows = _arr.gather(_arr.gather(ids.indices, 0, axis=1), keep)
        cols = _arr.gather(ids.values, keep)
        shape = _arr.stack([_arr.gather(ids.dense_shape, 0), _arr.constant(n, dtypes.int64)])
        return _gs.scatter_nd(_arr.stack([rows, cols], axis=1), _arr.gather(values, keep), shape)


def indicator_column(categorical_column):
    """indicator_column(categorical_column): a ``[batch, num_buckets]`` multi-hot view of
    ``categorical_column`` (weighted columns give the sum of their weights per id)."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(
            f"Unsupported input type. Input must be a CategoricalColumn. "
            f"Given: {categorical_column}"
        )
    return IndicatorColumn(categorical_column)
